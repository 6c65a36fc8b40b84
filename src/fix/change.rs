//! The code fixes as the patch engine prepares, writes and undoes them: one verified plan of
//! the install (and, with `--site-packages`, of basicsr in site-packages), committed into the
//! install's one journal, so `sadfix patch --revert` undoes all of it; rollback is that revert.

use crate::install::Install;
use crate::patch::gate::Installed;
use crate::patch::plan::FixSummary;
use crate::patch::site_packages::{self, SitePlan};
use crate::patch::{self, installed, journal, PatchError, PatchOptions, Plan, RevertOutcome};
use std::path::Path;

/// Every change the code fixes make, verified and not yet written.
pub struct Planned {
    pub install: Plan,
    /// Files of site-packages (only with `--site-packages`).
    pub site: Option<SitePlan>,
}

impl Planned {
    pub fn is_empty(&self) -> bool {
        self.install.changes.is_empty()
            && self.site.as_ref().is_none_or(|s| s.plan.changes.is_empty())
    }

    /// Every fix, install's first, files outside it by their full path.
    pub fn fixes(&self) -> Vec<FixSummary> {
        let mut all: Vec<FixSummary> = self
            .install
            .changes
            .iter()
            .flat_map(|c| c.fixes.iter().cloned())
            .collect();
        if let Some(site) = &self.site {
            all.extend(site.shown().changes.into_iter().flat_map(|c| c.fixes));
        }
        all
    }

    /// The plans as the diff shows them.
    pub fn shown(&self) -> Vec<Plan> {
        let mut plans = vec![self.install.clone()];
        plans.extend(self.site.as_ref().map(SitePlan::shown));
        plans
    }
}

/// Prepare and verify what `options` ask for; the compat gates read the install Python's packages.
pub fn plan(
    install: &Install,
    options: &PatchOptions,
    python: Option<&Path>,
) -> Result<Planned, PatchError> {
    // Unknown versions leave every gated fix alone, as `sadfix patch` does.
    let packages = if options.compat {
        installed::read(install, python).unwrap_or_default()
    } else {
        Installed::default()
    };
    let planned = patch::plan::plan_gated(install, options, &packages)?;
    let site = if options.compat && options.site_packages {
        site_packages::plan(options, &packages)?
    } else {
        None
    };
    Ok(Planned {
        install: planned,
        site,
    })
}

/// Whether the install's journal lists no change yet (a rollback through it then restores
/// exactly what was there before `fix`).
pub fn journal_is_empty(install: &Install) -> Result<bool, PatchError> {
    let ours = journal::load(&install.state_dir())?.files.is_empty();
    let outside = match site_packages::recorded(install) {
        Some((_, state)) => journal::load(&state)?.files.is_empty(),
        None => true,
    };
    Ok(ours && outside)
}

/// Write every change into the one journal.
pub fn commit(install: &Install, planned: &Planned) -> Result<(), PatchError> {
    patch::apply::commit(install, &planned.install)?;
    if let Some(site) = &planned.site {
        site_packages::commit(install, site)?;
    }
    Ok(())
}

/// Undo everything in the journal: `sadfix patch --revert`. The state folder goes too when
/// nothing is left in it, so the install is byte for byte what it was.
pub fn roll_back(install: &Install) -> Result<RevertOutcome, PatchError> {
    let outcome = patch::revert(install, false)?;
    // `remove_dir` removes only empty folders: anything else sadfix keeps there stays.
    let _ = std::fs::remove_dir(site_packages::state_dir(install));
    let _ = std::fs::remove_dir(install.state_dir());
    Ok(outcome)
}
