//! Checks left unjudged by an interrupt: when Ctrl-C or SIGTERM ended a probe before it
//! answered, every check that rests on that probe is reported as `interrupted` (what it would
//! have found is not known, and it is no fault of the install); the others stand as judged.

use crate::doctor::check::{Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::{signal_name, ProbeOutcome};
use std::time::Duration;

/// The checks that read the facts probe (`probe.py facts`: interpreter, package metadata,
/// torch's version.py, basicsr's source).
pub const ON_FACTS: &[&str] = &[
    "python.interpreter",
    "torch.build",
    "gpu.driver",
    "packages.numpy",
    "packages.basicsr",
    "packages.versions",
    "packages.version_changes",
];

/// The checks that read the CUDA probe (`probe.py cuda`: the real `import torch` and
/// `torch.cuda.is_available()`).
pub const ON_CUDA: &[&str] = &[
    "torch.build",
    "cuda.available",
    "gpu.driver",
    "code.device_selection",
];

/// Mark every check that rests on an interrupted probe as interrupted.
pub fn mark(checks: &mut [Check], g: &Gathered) {
    for (outcome, name, ids) in [
        (interrupted(&g.facts), "facts", ON_FACTS),
        (interrupted(&g.cuda), "CUDA", ON_CUDA),
    ] {
        let Some((after, signal, stderr_tail)) = outcome else {
            continue;
        };
        for check in checks.iter_mut().filter(|c| ids.contains(&c.id.as_str())) {
            *check = unjudged(check, name, after, signal, stderr_tail);
        }
    }
}

fn interrupted<T>(outcome: &ProbeOutcome<T>) -> Option<(Duration, i32, &str)> {
    match outcome {
        ProbeOutcome::Interrupted {
            after,
            signal,
            stderr_tail,
        } => Some((*after, *signal, stderr_tail.as_str())),
        _ => None,
    }
}

/// `check` as not judged because the `probe` probe was ended by `signal` after `after`.
fn unjudged(check: &Check, probe: &str, after: Duration, signal: i32, stderr: &str) -> Check {
    let by = by_what(signal);
    let summary = if after.is_zero() {
        format!("not judged: sadfix was interrupted by {by} before the {probe} probe started")
    } else {
        format!(
            "not judged: sadfix was interrupted by {by} after the {probe} probe had run {:.1} s without answering",
            after.as_secs_f64()
        )
    };
    Check::new(&check.id, check.area, Status::Interrupted, summary)
        .evidence_all(stderr.lines().map(str::to_string))
}

/// "Ctrl-C (SIGINT)", "SIGTERM", else the signal's number and name.
fn by_what(signal: i32) -> String {
    match signal {
        libc::SIGINT => "Ctrl-C (SIGINT)".into(),
        libc::SIGTERM => "SIGTERM".into(),
        other => signal_name(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{gathered, snapshot, working_cuda};
    use super::*;
    use crate::doctor::verdict::all;

    fn ctrl_c<T>() -> ProbeOutcome<T> {
        ProbeOutcome::Interrupted {
            after: Duration::from_millis(1500),
            signal: libc::SIGINT,
            stderr_tail: "in is_available".into(),
        }
    }

    fn failed<T>() -> ProbeOutcome<T> {
        ProbeOutcome::Failed {
            reason: "gone".into(),
            stderr_tail: String::new(),
        }
    }

    /// Every check whose verdict changes when a probe's answer is lost is in that probe's list,
    /// so an interrupt never leaves a check judged on a probe that did not answer.
    #[test]
    fn the_lists_hold_every_check_that_reads_the_probe() {
        let base = || gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((12, 4)));
        let judged = all(&base());
        for (which, ids) in [("facts", ON_FACTS), ("cuda", ON_CUDA)] {
            let mut lost = base();
            if which == "facts" {
                lost.facts = failed();
            } else {
                lost.cuda = failed();
            }
            for (before, after) in judged.iter().zip(all(&lost)) {
                assert_eq!(before.id, after.id);
                if *before != after {
                    assert!(ids.contains(&before.id.as_str()), "{which}: {}", before.id);
                }
            }
        }
    }

    #[test]
    fn an_interrupted_cuda_probe_leaves_the_other_checks_as_judged() {
        let mut g = gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((12, 4)));
        let judged = all(&g);
        g.cuda = ctrl_c();
        let checks = all(&g);
        for (before, after) in judged.iter().zip(&checks) {
            if ON_CUDA.contains(&after.id.as_str()) {
                assert_eq!(after.status, Status::Interrupted, "{}", after.id);
                assert!(!after.status.is_failure());
                assert!(after.summary.contains("SIGINT"), "{}", after.summary);
                assert!(after.summary.contains("1.5 s"), "{}", after.summary);
            } else {
                assert_eq!(before, after);
            }
        }
        let cuda = checks.iter().find(|c| c.id == "cuda.available").unwrap();
        assert_eq!(cuda.evidence, ["in is_available"]);
    }
}
