//! Checking one raw recipe against the compiled query and the grammar: every problem is
//! collected, so a recipe author sees them all at once.

use super::gate;
use super::guard;
use super::options::PatchOption;
use super::rule::{
    AlreadyApplied, Applicability, RawApplied, RawRecipe, RawRewrite, Recipe, Rewrite, RewriteOp,
    Scope,
};
use super::site::{Action, SiteKind};
use super::source::language;
use super::template;
use crate::pattern::Patterns;

pub(super) fn validate(
    raw: RawRecipe,
    query: Result<Patterns, String>,
) -> Result<Recipe, Vec<String>> {
    let mut errors = Vec::new();
    if raw.id.is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push("id must be lower-case letters, digits and dashes".into());
    }
    let kind = match raw.kind.as_str() {
        "device" => Some(SiteKind::Device),
        "batch_size" => Some(SiteKind::BatchSize),
        "compat" => Some(SiteKind::Compat),
        "offload_frames" => Some(SiteKind::OffloadFrames),
        other => {
            errors.push(format!(
                "kind {other:?} is not device, batch_size, compat or offload_frames"
            ));
            None
        }
    };
    let action = parse_action(&raw.action).map_err(|e| errors.push(e)).ok();
    let option = raw.option.as_deref().and_then(|o| {
        let parsed = PatchOption::parse(o);
        if parsed.is_none() {
            errors.push(format!(
                "option {o:?} is not force-gpu, cuda-timeout, batch-size, compat or offload-frames"
            ));
        }
        parsed
    });
    let applicability = match raw.applicability.as_deref().unwrap_or("safe") {
        "safe" => Applicability::Safe,
        "unsafe" => Applicability::Unsafe,
        "display-only" => Applicability::DisplayOnly,
        other => {
            errors.push(format!(
                "applicability {other:?} is not safe, unsafe or display-only"
            ));
            Applicability::Safe
        }
    };
    let gates: Vec<gate::Gate> = raw
        .gates
        .iter()
        .filter_map(|g| gate::validate(g).map_err(|e| errors.push(e)).ok())
        .collect();
    let scope = match raw.scope.as_deref().unwrap_or("install") {
        "install" => Scope::Install,
        "site-packages" => Scope::SitePackages,
        other => {
            errors.push(format!("scope {other:?} is not install or site-packages"));
            Scope::Install
        }
    };
    if (scope == Scope::SitePackages) == raw.files.is_empty() {
        errors
            .push("`files` goes with `scope: site-packages` (the files it may edit there)".into());
    }
    if raw.needles.is_empty() {
        errors.push("needles must list at least one string the file must contain".into());
    }
    let query = match query {
        Ok(q) if q.pattern_count() > 0 => q,
        Ok(_) => {
            errors.push("query holds no pattern".into());
            return Err(errors);
        }
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let capture = |name: &str| query.capture_index_for_name(name);
    let mut need = |name: &str, what: &str| -> u32 {
        capture(name).unwrap_or_else(|| {
            errors.push(format!("{what} capture @{name} is not in the query"));
            0
        })
    };
    let site = need(raw.site.as_deref().unwrap_or("site"), "site");
    let value = need(&raw.value, "value");
    let lang = language();
    let kind_ok = |k: &str| lang.id_for_node_kind(k, true) != 0;
    let mut guards = Vec::new();
    for g in &raw.guards {
        match guard::validate(g, &capture, &kind_ok) {
            Ok(g) => guards.push(g),
            Err(e) => errors.extend(e),
        }
    }
    let rewrite = raw.rewrite.as_ref().and_then(|rw| {
        validate_rewrite(rw, &capture, option)
            .map_err(|e| errors.extend(e))
            .ok()
    });
    if option.is_some() != raw.rewrite.is_some() {
        errors.push(
            "`option` and `rewrite` go together: a rewrite needs the flag that triggers it".into(),
        );
    }
    let already_applied = match &raw.already_applied {
        None if raw.rewrite.is_some() => {
            errors.push(
                "a recipe with a rewrite needs already_applied (recipe: ID or unchanged: true)"
                    .into(),
            );
            None
        }
        None => None,
        Some(RawApplied {
            recipe: Some(r),
            unchanged: None,
        }) => Some(AlreadyApplied::Recipe(r.clone())),
        Some(RawApplied {
            recipe: None,
            unchanged: Some(true),
        }) => Some(AlreadyApplied::Unchanged),
        Some(_) => {
            errors.push(
                "already_applied takes exactly one of `recipe: ID` or `unchanged: true`".into(),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Recipe {
        id: raw.id,
        title: raw.title,
        tags: raw.tags,
        kind: kind.expect("checked"),
        family: raw.family,
        action: action.expect("checked"),
        option,
        applicability,
        needles: raw.needles,
        site,
        value,
        guards,
        rewrite,
        already_applied,
        note: raw.note,
        listed: raw.listed.unwrap_or(true),
        gates,
        scope,
        files: raw.files,
        query,
    })
}

fn validate_rewrite(
    rw: &RawRewrite,
    capture: &dyn Fn(&str) -> Option<u32>,
    option: Option<PatchOption>,
) -> Result<Rewrite, Vec<String>> {
    let mut errors = Vec::new();
    let cap = |name: &str| {
        capture(name).ok_or_else(|| format!("rewrite capture @{name} is not in the query"))
    };
    if !rw.edits.is_empty() {
        let mut parts = Vec::new();
        for e in &rw.edits {
            match (cap(&e.replace), template::parse(&e.with, capture)) {
                (Ok(c), Ok(t)) => parts.push((c, t)),
                (c, t) => {
                    errors.extend(c.err());
                    errors.extend(t.err().into_iter().flatten());
                }
            }
        }
        if rw.replace.is_some() || rw.unwrap.is_some() || rw.dedupe.is_some() {
            errors.push("`edits` stands alone: no replace, unwrap or dedupe beside it".into());
        }
        return if errors.is_empty() {
            Ok(Rewrite {
                op: RewriteOp::Edits(parts),
                helper: false,
            })
        } else {
            Err(errors)
        };
    }
    let op = match (&rw.replace, &rw.with, &rw.unwrap, &rw.body, &rw.dedupe) {
        (None, None, None, None, None) if rw.drop_cuda_check.is_some() => {
            let name = rw.drop_cuda_check.as_deref().unwrap_or_default();
            cap(name)
                .map_err(|e| errors.push(e))
                .ok()
                .map(|capture| RewriteOp::DropCudaCheck { capture })
        }
        (Some(c), Some(w), None, None, None) => {
            let with = template::parse(w, capture)
                .map_err(|e| errors.extend(e))
                .ok();
            let uses_batch = with
                .as_ref()
                .is_some_and(|t| t.uses(&template::Part::BatchSize));
            let uses_timeout = with
                .as_ref()
                .is_some_and(|t| t.uses(&template::Part::Timeout));
            if uses_batch && option != Some(PatchOption::BatchSize) {
                errors.push("{batch_size} is only known to batch-size recipes".into());
            }
            if uses_timeout && option != Some(PatchOption::CudaTimeout) {
                errors.push("{timeout} is only known to cuda-timeout recipes".into());
            }
            match (cap(c), with) {
                (Ok(capture), Some(with)) => Some(RewriteOp::Replace { capture, with }),
                (Err(e), _) => {
                    errors.push(e);
                    None
                }
                _ => None,
            }
        }
        (None, None, Some(s), Some(b), None) => match (cap(s), cap(b)) {
            (Ok(statement), Ok(body)) => Some(RewriteOp::Unwrap { statement, body }),
            (a, b) => {
                errors.extend(a.err().into_iter().chain(b.err()));
                None
            }
        },
        (None, None, None, None, Some(d)) => match cap(d) {
            Ok(capture) => Some(RewriteOp::Dedupe { capture }),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        _ => {
            errors.push(
                "rewrite takes one of: `replace` + `with`, `unwrap` + `body`, `dedupe`, or `drop_cuda_check`".into(),
            );
            None
        }
    };
    let helper = match rw.helper.as_deref() {
        None => false,
        Some("cuda_available") => true,
        Some(other) => {
            errors.push(format!(
                "helper {other:?} is unknown (the one helper is cuda_available)"
            ));
            false
        }
    };
    match op {
        Some(op) if errors.is_empty() => Ok(Rewrite { op, helper }),
        _ => Err(errors),
    }
}

fn parse_action(text: &str) -> Result<Action, String> {
    Ok(match text {
        "rewrite" => Action::Rewrite,
        "repair" => Action::Repair,
        "already_forced" => Action::AlreadyForced,
        "already_gpu" => Action::AlreadyGpu,
        "already_bounded" => Action::AlreadyBounded,
        "report_only" => Action::ReportOnly,
        "unsupported" => Action::Unsupported,
        "already_fixed" => Action::AlreadyFixed,
        other => return Err(format!("action {other:?} is not one of rewrite, repair, already_forced, already_gpu, already_bounded, already_fixed, report_only, unsupported")),
    })
}
