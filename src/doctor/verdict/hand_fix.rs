//! `code.numpy_hand_fix`: SadTalker's `trans_params` fixed by hand in a form that a newer numpy
//! breaks again (compat-facts C3), found by the patch engine's compat recipes.

use super::packages::compat_fix;
use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::patch::catalog;
use crate::patch::gate::parse_version;
use crate::patch::site::Action;
use std::path::Path;

/// `code.numpy_hand_fix`: `trans_params` fixed by hand (t[0][0], float(...), .item(),
/// dtype=object, np.asscalar) while `t` is still 2-D: each form works on numpy 1.24 to 2.3
/// and fails again on numpy >= 2.4.
pub fn check_numpy_hand_fixes(g: &Gathered) -> Check {
    let id = "code.numpy_hand_fix";
    let Ok(sites) = &g.sites else {
        return Check::new(id, Area::Code, Status::Skip, "the code was not scanned");
    };
    let is_hand_fix = |s: &&crate::patch::Site| {
        s.recipe
            .as_deref()
            .and_then(catalog::meta)
            .is_some_and(|r| {
                r.id.starts_with("numpy-trans-params-") && r.tags.iter().any(|t| t == "hand-fix")
            })
    };
    // Once `t` is 1-D (numpy-t-flat) these forms are valid again.
    let flat: Vec<&Path> = sites
        .iter()
        .filter(|s| s.recipe.as_deref() == Some("numpy-t-flat") && s.action == Action::AlreadyFixed)
        .map(|s| s.file.as_path())
        .collect();
    let fragile: Vec<String> = sites
        .iter()
        .filter(is_hand_fix)
        .filter(|s| !flat.contains(&s.file.as_path()))
        .map(|s| format!("{}:{}: {}", s.file.display(), s.line, s.value))
        .collect();
    if fragile.is_empty() {
        return Check::new(
            id,
            Area::Code,
            Status::Ok,
            "no hand fix of trans_params that a newer numpy breaks",
        );
    }
    let numpy = g.package("numpy").unwrap_or("unknown");
    let broken_now = parse_version(numpy).is_some_and(|v| v.as_slice() >= [2, 4].as_slice());
    let (status, summary) = if broken_now {
        (
            Status::Fail,
            format!("trans_params was fixed by hand in a form numpy {numpy} refuses"),
        )
    } else {
        (
            Status::Warn,
            format!(
                "trans_params was fixed by hand in a form numpy >= 2.4 breaks (numpy {numpy} now)"
            ),
        )
    };
    Check::new(id, Area::Code, status, summary)
        .evidence_all(fragile)
        .fix(compat_fix(g, false))
}
