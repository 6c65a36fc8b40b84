//! The two Python probes: one embedded script run twice in parallel with the chosen interpreter
//! (facts that need no CUDA, and the CUDA check itself), each in its own process group with a
//! deadline, so a CUDA hang can neither hang sadfix nor hide the other facts.

use crate::process::{run_bounded, Ending, Finished, DEFAULT_GRACE};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The probe script, embedded at build time.
pub const PROBE_SCRIPT: &str = include_str!("probe.py");
/// The prefix of the one line of stdout that carries the probe's JSON.
pub const MARKER: &str = "SADFIX-PROBE-JSON: ";

/// Facts that need no CUDA initialisation (`probe.py facts`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FactsProbe {
    pub python: PythonFacts,
    pub packages: BTreeMap<String, Option<String>>,
    pub torch_build: Option<TorchBuild>,
    pub torch_build_error: Option<String>,
    pub basicsr_degradations: Option<Degradations>,
    /// Where some import packages live (`find_spec`, which runs no `__init__`).
    #[serde(default)]
    pub package_dirs: BTreeMap<String, Option<String>>,
    /// Whether a module an import SadTalker makes needs is there (found on disk, its package's
    /// `__init__` not run); `None` when its top-level package is not found.
    #[serde(default)]
    pub modules: BTreeMap<String, Option<bool>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PythonFacts {
    pub version: String,
    pub implementation: String,
    pub executable: String,
    pub platform: String,
}

/// `torch/version.py`, read without importing torch.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TorchBuild {
    pub version: Option<String>,
    pub cuda: Option<String>,
    pub hip: Option<String>,
    pub source: String,
}

/// basicsr's `data/degradations.py`: the lines that mention `functional_tensor`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Degradations {
    pub path: String,
    pub error: Option<String>,
    pub lines: Vec<SourceLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SourceLine {
    pub line: usize,
    pub text: String,
}

/// The CUDA check (`probe.py cuda`), with real `import torch`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CudaProbe {
    pub import_error: Option<String>,
    pub import_ms: Option<f64>,
    pub torch_version: Option<String>,
    pub torch_cuda: Option<String>,
    pub is_available: Option<bool>,
    pub available_ms: Option<f64>,
    pub cuda_error: Option<String>,
    pub device_count: Option<u32>,
    pub devices: Vec<CudaDevice>,
    /// `torch.cuda.get_arch_list()` where CUDA works (`sm_86`, `compute_90`, ...).
    #[serde(default)]
    pub arch_list: Vec<String>,
    pub tensor_op: Option<TensorOp>,
    /// Warnings raised during the import and the checks, as torch wrote them.
    pub warnings: Vec<String>,
    /// Only when `is_available()` is False: what `torch.cuda.init()` raised, as it is.
    #[serde(default)]
    pub init_error: Option<String>,
    /// Only then too: `torch._C._cuda_getDeviceCount()`, where the build has it.
    #[serde(default)]
    pub raw_device_count: Option<i64>,
    #[serde(default)]
    pub raw_device_count_error: Option<String>,
    /// What asking torch why cost, in ms.
    #[serde(default)]
    pub why_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CudaDevice {
    pub name: String,
    pub capability: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TensorOp {
    pub ok: bool,
    pub ms: f64,
    pub error: Option<String>,
}

/// How a probe went.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeOutcome<T> {
    Done {
        result: T,
        elapsed: Duration,
        stderr_tail: String,
    },
    TimedOut {
        after: Duration,
        needed_kill: bool,
        stderr_tail: String,
    },
    /// sadfix was interrupted (Ctrl-C or SIGTERM, `signal`) before the probe finished: its group
    /// was ended, and what it would have found is not known. Not a fault of the install.
    Interrupted {
        after: Duration,
        signal: i32,
        stderr_tail: String,
    },
    /// It ended without a usable result: crash, signal, garbage, or it could not start.
    Failed {
        reason: String,
        stderr_tail: String,
    },
    NotRun {
        reason: String,
    },
}

impl<T> ProbeOutcome<T> {
    pub fn result(&self) -> Option<&T> {
        match self {
            ProbeOutcome::Done { result, .. } => Some(result),
            _ => None,
        }
    }
}

/// How a probe's failure reads when its Python could not be started at all.
pub const COULD_NOT_START: &str = "could not start";

/// Run both probes in parallel with `python` from `cwd` (the install root, where SadTalker is
/// run from, so `sys.path[0]` matches); each gets `timeout`.
pub fn run_both(
    python: &Path,
    cwd: &Path,
    timeout: Duration,
) -> (ProbeOutcome<FactsProbe>, ProbeOutcome<CudaProbe>) {
    std::thread::scope(|scope| {
        let cuda = scope.spawn(|| run_probe::<CudaProbe>(python, cwd, "cuda", timeout));
        let facts = run_probe::<FactsProbe>(python, cwd, "facts", timeout);
        let cuda = cuda.join().unwrap_or_else(|_| ProbeOutcome::NotRun {
            reason: "the probe thread panicked".into(),
        });
        (facts, cuda)
    })
}

/// Only the facts probe (no CUDA), for commands that need package versions.
pub fn run_facts(python: &Path, cwd: &Path, timeout: Duration) -> ProbeOutcome<FactsProbe> {
    run_probe::<FactsProbe>(python, cwd, "facts", timeout)
}

fn run_probe<T: DeserializeOwned>(
    python: &Path,
    cwd: &Path,
    mode: &str,
    timeout: Duration,
) -> ProbeOutcome<T> {
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(PROBE_SCRIPT).arg(mode).current_dir(cwd);
    // Leave no bytecode caches behind in the user's environment, and never buffer the result.
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let done = run_bounded(cmd, timeout, DEFAULT_GRACE);
    match (done, crate::interrupt::received()) {
        (Ok(done), _) => interpret(&done),
        // Nothing new starts once sadfix is interrupted.
        (Err(_), Some(signal)) => ProbeOutcome::Interrupted {
            after: Duration::ZERO,
            signal,
            stderr_tail: String::new(),
        },
        (Err(e), None) => ProbeOutcome::Failed {
            reason: format!("{COULD_NOT_START} {}: {e}", python.display()),
            stderr_tail: String::new(),
        },
    }
}

/// Turn what a probe left behind into an outcome.
pub fn interpret<T: DeserializeOwned>(done: &Finished) -> ProbeOutcome<T> {
    let stderr_tail = done.stderr_tail(6);
    match done.ending {
        Ending::TimedOut { needed_kill } => {
            return ProbeOutcome::TimedOut {
                after: done.elapsed,
                needed_kill,
                stderr_tail,
            }
        }
        Ending::Interrupted { .. } => {
            return ProbeOutcome::Interrupted {
                after: done.elapsed,
                signal: crate::interrupt::received().unwrap_or(libc::SIGINT),
                stderr_tail,
            }
        }
        _ => {}
    }
    let stdout = String::from_utf8_lossy(&done.stdout);
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix(MARKER));
    let failed = |reason: String| ProbeOutcome::Failed {
        reason,
        stderr_tail: stderr_tail.clone(),
    };
    match (line, done.ending) {
        (Some(json), Ending::Exited(0)) => match serde_json::from_str::<T>(json) {
            Ok(result) => ProbeOutcome::Done {
                result,
                elapsed: done.elapsed,
                stderr_tail,
            },
            Err(e) => failed(format!("the probe's result is not valid JSON ({e})")),
        },
        (_, Ending::Signaled(sig)) => {
            failed(format!("the probe was killed by {}", signal_name(sig)))
        }
        (_, Ending::Exited(code)) if code != 0 => failed(format!(
            "the probe exited with code {code} before printing a result"
        )),
        _ => failed(format!(
            "the probe printed no result; its output began: {:?}",
            stdout.chars().take(60).collect::<String>()
        )),
    }
}

/// "signal 6 (SIGABRT)" for the signals a crashing interpreter usually dies of.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => return format!("signal {sig}"),
    };
    format!("signal {sig} ({name})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(ending: Ending, stdout: &str, stderr: &str) -> Finished {
        Finished {
            ending,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            elapsed: Duration::from_millis(5),
        }
    }

    #[test]
    fn the_marker_line_is_parsed_and_other_output_ignored() {
        let out = format!("hello from a sitecustomize\n{MARKER}{{\"import_error\":null,\"torch_cuda\":\"12.1\",\"is_available\":true,\"devices\":[],\"warnings\":[]}}\n");
        let got: ProbeOutcome<CudaProbe> = interpret(&finished(Ending::Exited(0), &out, ""));
        let probe = got.result().expect("parsed");
        assert_eq!(probe.torch_cuda.as_deref(), Some("12.1"));
        assert_eq!(probe.is_available, Some(true));
    }

    #[test]
    fn garbage_crash_and_signal_become_failures_with_stderr() {
        let garbage: ProbeOutcome<CudaProbe> =
            interpret(&finished(Ending::Exited(0), "\u{0}junk\n{\"half\":", ""));
        assert!(
            matches!(garbage, ProbeOutcome::Failed { ref reason, .. } if reason.contains("printed no result"))
        );
        let bad_json: ProbeOutcome<CudaProbe> =
            interpret(&finished(Ending::Exited(0), &format!("{MARKER}{{nope"), ""));
        assert!(
            matches!(bad_json, ProbeOutcome::Failed { ref reason, .. } if reason.contains("not valid JSON"))
        );
        let crash: ProbeOutcome<CudaProbe> =
            interpret(&finished(Ending::Signaled(6), "", "a\nb\nfatal: driver\n"));
        match crash {
            ProbeOutcome::Failed {
                reason,
                stderr_tail,
            } => {
                assert!(reason.contains("SIGABRT"), "{reason}");
                assert!(stderr_tail.ends_with("fatal: driver"));
            }
            other => panic!("{other:?}"),
        }
        let exited: ProbeOutcome<CudaProbe> = interpret(&finished(Ending::Exited(1), "", "boom"));
        assert!(
            matches!(exited, ProbeOutcome::Failed { ref reason, .. } if reason.contains("code 1"))
        );
    }

    #[test]
    fn a_probe_ended_by_an_interrupt_is_interrupted_not_failed() {
        let got: ProbeOutcome<CudaProbe> = interpret(&finished(
            Ending::Interrupted { needed_kill: true },
            "",
            "stuck",
        ));
        match got {
            ProbeOutcome::Interrupted { stderr_tail, .. } => assert_eq!(stderr_tail, "stuck"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_timeout_keeps_whether_sigkill_was_needed() {
        let got: ProbeOutcome<FactsProbe> = interpret(&finished(
            Ending::TimedOut { needed_kill: true },
            "",
            "stuck",
        ));
        assert!(matches!(
            got,
            ProbeOutcome::TimedOut {
                needed_kill: true,
                ..
            }
        ));
    }
}
