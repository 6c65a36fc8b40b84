//! `packages.version_changes`: what no code fix replaces (librosa 0.8.0 with numpy >= 1.24,
//! resampy 0.3.1 with numpy 2, imageio without imageio-ffmpeg, Python 3.13 without audioop):
//! the exact pip commands `sadfix patch --compat` prints too.

use super::packages::versions_unknown;
use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::patch::installed::from_facts;
use crate::patch::pip::advice;
use std::path::Path;

pub fn check_version_changes(g: &Gathered) -> Check {
    let id = "packages.version_changes";
    let Some(facts) = g.facts() else {
        return versions_unknown(id);
    };
    let python = g
        .python
        .as_ref()
        .map_or_else(|| Path::new("python").to_path_buf(), |c| c.path.clone());
    let needed = advice(&from_facts(facts, &python));
    if needed.is_empty() {
        return Check::new(
            id,
            Area::Packages,
            Status::Ok,
            "no package needs a version change that a code fix cannot replace",
        );
    }
    let commands: Vec<&str> = needed.iter().map(|a| a.command.as_str()).collect();
    Check::new(
        id,
        Area::Packages,
        Status::Fail,
        format!("{} package(s) need a version change", needed.len()),
    )
    .evidence_all(needed.iter().map(|a| a.why.clone()))
    .fix(commands.join(" && "))
}
