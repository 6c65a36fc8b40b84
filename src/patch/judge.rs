//! Applying the gates to what the engine found: a compat site gets its gate and what the
//! installed packages say ("not needed" when the trigger is absent), and only the fixes whose
//! gates hold (and whose scope is the one being planned) are kept.

use super::edit::Fix;
use super::gate::{describe, judge_all, Installed, Judgement};
use super::recipe::Catalog;
use super::rule::Scope;
use super::site::{Action, Site};

/// Drop the fixes of recipes of another scope or whose gates do not hold.
pub fn keep_needed(catalog: &Catalog, fixes: &mut Vec<Fix>, installed: &Installed, scope: Scope) {
    fixes.retain(|f| {
        catalog.get(&f.recipe).is_some_and(|r| {
            r.scope == scope
                && (r.gates.is_empty()
                    || matches!(judge_all(&r.gates, installed), Judgement::Needed(_)))
        })
    });
}

/// Give every gated site its gate text; a rewrite whose trigger is absent becomes not needed.
pub fn judge_sites(catalog: &Catalog, sites: &mut [Site], installed: &Installed) {
    for site in sites.iter_mut() {
        let Some(recipe) = site.recipe.as_deref().and_then(|id| catalog.get(id)) else {
            continue;
        };
        if recipe.gates.is_empty() {
            continue;
        }
        let judged = judge_all(&recipe.gates, installed);
        let (text, action) = match &judged {
            Judgement::Needed(why) => (why.clone(), Action::Rewrite),
            Judgement::NotNeeded(why) => (format!("not needed ({why})"), Action::NotNeeded),
            Judgement::Unknown(why) => (format!("{why}: not applied"), Action::GateUnknown),
        };
        site.gate = Some(format!("{}: {text}", describe(&recipe.gates)));
        if site.action == Action::Rewrite {
            site.action = action;
        }
    }
}
