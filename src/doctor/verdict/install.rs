//! Verdicts on where doctor looked: the install it found and the Python it probed with.

use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::ProbeOutcome;

/// `install.found`.
pub fn check_install(g: &Gathered) -> Check {
    let install = &g.install;
    Check::new(
        "install.found",
        Area::Install,
        Status::Ok,
        format!(
            "SadTalker at {} ({})",
            install.root.display(),
            install.layout.describe()
        ),
    )
    .evidence(
        install
            .host
            .as_ref()
            .map_or(String::new(), |h| format!("host app: {}", h.display())),
    )
}

/// `python.interpreter`: which Python, why, and whether it runs.
pub fn check_python(g: &Gathered) -> Check {
    let id = "python.interpreter";
    let Some(choice) = &g.python else {
        return Check::new(id, Area::Install, Status::Fail, "no Python found: no venv in the install, no $VIRTUAL_ENV or $CONDA_PREFIX, no python3 on PATH")
            .fix("sadfix doctor --python /path/to/python");
    };
    let why = format!("chosen because: {}", choice.reason);
    match &g.facts {
        ProbeOutcome::Done { result, .. } => Check::new(
            id,
            Area::Install,
            Status::Ok,
            format!(
                "Python {} ({}) at {}",
                result.python.version,
                result.python.implementation,
                choice.path.display()
            ),
        )
        .evidence(why)
        .evidence(format!(
            "{} on {}",
            result.python.executable, result.python.platform
        )),
        ProbeOutcome::TimedOut {
            after, stderr_tail, ..
        } => Check::new(
            id,
            Area::Install,
            Status::Timeout,
            format!(
                "{} did not answer the facts probe within {:.1} s",
                choice.path.display(),
                after.as_secs_f64()
            ),
        )
        .evidence(why)
        .evidence_all(stderr_tail.lines().map(str::to_string)),
        ProbeOutcome::Failed {
            reason,
            stderr_tail,
        } => Check::new(
            id,
            Area::Install,
            Status::Fail,
            format!("{} does not run: {reason}", choice.path.display()),
        )
        .evidence(why)
        .evidence_all(stderr_tail.lines().map(str::to_string))
        .fix("sadfix doctor --python /path/to/the/python/sadtalker/uses"),
        ProbeOutcome::NotRun { reason } => {
            Check::new(id, Area::Install, Status::Skip, reason.clone())
        }
        // Worded in full by `interrupted::mark`.
        ProbeOutcome::Interrupted { .. } => {
            Check::new(id, Area::Install, Status::Interrupted, "not judged")
        }
    }
}
