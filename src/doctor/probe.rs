//! The Python probe: one embedded script, started once by doctor with the chosen interpreter
//! (facts that need no CUDA, printed first, then the CUDA check itself) in its own process group
//! with a deadline, so a CUDA hang can neither hang sadfix nor hide the facts. The package
//! versions are read from the metadata on the `sys.path` it reports (`install::packages`).

use crate::install::packages;
use crate::process::{run_bounded, Ending, Finished, DEFAULT_GRACE};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// The interpreter's `sys.path` (absolute), where the versions below are read.
    #[serde(default)]
    pub sys_path: Vec<String>,
    /// Filled by sadfix from the metadata on `sys_path`, not sent by the probe.
    #[serde(default)]
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

/// `sys.path` and version of an interpreter (`probe.py sys_path`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SysPathProbe {
    pub version: String,
    pub sys_path: Vec<String>,
}

/// Run the probe once with `python` from `cwd` (the install root, where SadTalker is run from,
/// so `sys.path[0]` matches), within `timeout`: the facts, then the CUDA check. A hang or crash
/// in torch still leaves the facts.
pub fn run_both(
    python: &Path,
    cwd: &Path,
    timeout: Duration,
) -> (ProbeOutcome<FactsProbe>, ProbeOutcome<CudaProbe>) {
    let (facts, cuda) = match start(python, cwd, "both", timeout) {
        Ok(done) => interpret_both(&done),
        Err(not_started) => (not_started.clone().cast(), not_started.cast()),
    };
    (with_versions(facts), cuda)
}

/// Only the facts (no CUDA).
pub fn run_facts(python: &Path, cwd: &Path, timeout: Duration) -> ProbeOutcome<FactsProbe> {
    with_versions(run_probe::<FactsProbe>(python, cwd, "facts", timeout))
}

/// Only `sys.path` and the version, for an interpreter whose layout cannot tell them.
pub fn run_sys_path(python: &Path, cwd: &Path, timeout: Duration) -> ProbeOutcome<SysPathProbe> {
    run_probe::<SysPathProbe>(python, cwd, "sys_path", timeout)
}

/// The package versions, read from the metadata on the `sys.path` the probe reported.
fn with_versions(mut facts: ProbeOutcome<FactsProbe>) -> ProbeOutcome<FactsProbe> {
    if let ProbeOutcome::Done { result, .. } = &mut facts {
        let dirs: Vec<PathBuf> = result.sys_path.iter().map(PathBuf::from).collect();
        result.packages = packages::versions(&dirs, packages::PACKAGES);
    }
    facts
}

fn run_probe<T: DeserializeOwned>(
    python: &Path,
    cwd: &Path,
    mode: &str,
    timeout: Duration,
) -> ProbeOutcome<T> {
    match start(python, cwd, mode, timeout) {
        Ok(done) => interpret(&done),
        Err(not_started) => not_started.cast(),
    }
}

/// Run `probe.py mode`; what it left behind, or why it did not start.
fn start(
    python: &Path,
    cwd: &Path,
    mode: &str,
    timeout: Duration,
) -> Result<Finished, ProbeOutcome<()>> {
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(PROBE_SCRIPT).arg(mode).current_dir(cwd);
    // Leave no bytecode caches behind in the user's environment, and never buffer the result.
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let done = run_bounded(cmd, timeout, DEFAULT_GRACE);
    match (done, crate::interrupt::received()) {
        (Ok(done), _) => Ok(done),
        // Nothing new starts once sadfix is interrupted.
        (Err(_), Some(signal)) => Err(ProbeOutcome::Interrupted {
            after: Duration::ZERO,
            signal,
            stderr_tail: String::new(),
        }),
        (Err(e), None) => Err(ProbeOutcome::Failed {
            reason: format!("{COULD_NOT_START} {}: {e}", python.display()),
            stderr_tail: String::new(),
        }),
    }
}

impl<T> ProbeOutcome<T> {
    /// The same outcome for another result type; only for outcomes without a result.
    fn cast<U>(self) -> ProbeOutcome<U> {
        match self {
            ProbeOutcome::Done { .. } => ProbeOutcome::NotRun {
                reason: "a probe result of the wrong kind".into(),
            },
            ProbeOutcome::TimedOut {
                after,
                needed_kill,
                stderr_tail,
            } => ProbeOutcome::TimedOut {
                after,
                needed_kill,
                stderr_tail,
            },
            ProbeOutcome::Interrupted {
                after,
                signal,
                stderr_tail,
            } => ProbeOutcome::Interrupted {
                after,
                signal,
                stderr_tail,
            },
            ProbeOutcome::Failed {
                reason,
                stderr_tail,
            } => ProbeOutcome::Failed {
                reason,
                stderr_tail,
            },
            ProbeOutcome::NotRun { reason } => ProbeOutcome::NotRun { reason },
        }
    }
}

/// The last marker line of `mode` (`{"mode": "facts", ...}`) in what the probe printed.
fn marker_line<'a>(stdout: &'a str, mode: &str) -> Option<&'a str> {
    let head = format!("{{\"mode\": \"{mode}\"");
    stdout
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix(MARKER))
        .find(|json| json.starts_with(&head))
}

/// The facts and the CUDA check of one `probe.py both` run: facts printed before a hang, a
/// crash or a timeout count as found.
pub fn interpret_both(done: &Finished) -> (ProbeOutcome<FactsProbe>, ProbeOutcome<CudaProbe>) {
    let stdout = String::from_utf8_lossy(&done.stdout);
    let facts = match marker_line(&stdout, "facts") {
        Some(json) => match serde_json::from_str::<FactsProbe>(json) {
            Ok(result) => ProbeOutcome::Done {
                result,
                elapsed: done.elapsed,
                stderr_tail: done.stderr_tail(6),
            },
            Err(e) => ProbeOutcome::Failed {
                reason: format!("the probe's result is not valid JSON ({e})"),
                stderr_tail: done.stderr_tail(6),
            },
        },
        None => interpret_line(done, None),
    };
    (facts, interpret_line(done, marker_line(&stdout, "cuda")))
}

/// Turn what a probe left behind into an outcome.
pub fn interpret<T: DeserializeOwned>(done: &Finished) -> ProbeOutcome<T> {
    let stdout = String::from_utf8_lossy(&done.stdout);
    interpret_line(
        done,
        stdout.lines().rev().find_map(|l| l.strip_prefix(MARKER)),
    )
}

/// The outcome of a probe whose result is `line` (None: it printed none).
fn interpret_line<T: DeserializeOwned>(done: &Finished, line: Option<&str>) -> ProbeOutcome<T> {
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
    fn facts_printed_before_a_torch_hang_or_crash_are_kept() {
        let facts = format!(
            "{MARKER}{{\"mode\": \"facts\", \"python\": {{\"version\": \"3.11.7\", \"implementation\": \"CPython\", \"executable\": \"/p\", \"platform\": \"Linux\"}}, \"sys_path\": [], \"torch_build\": null, \"torch_build_error\": null, \"basicsr_degradations\": null}}\n"
        );
        let hung = finished(Ending::TimedOut { needed_kill: true }, &facts, "stuck");
        let (f, c) = interpret_both(&hung);
        assert_eq!(
            f.result().map(|f| f.python.version.as_str()),
            Some("3.11.7")
        );
        assert!(matches!(
            c,
            ProbeOutcome::TimedOut {
                needed_kill: true,
                ..
            }
        ));
        let crashed = finished(Ending::Signaled(11), &facts, "Segmentation fault");
        let (f, c) = interpret_both(&crashed);
        assert!(f.result().is_some());
        assert!(matches!(c, ProbeOutcome::Failed { ref reason, .. } if reason.contains("SIGSEGV")));
        let cuda = format!("{facts}{MARKER}{{\"mode\": \"cuda\", \"import_error\": null, \"is_available\": false, \"devices\": [], \"warnings\": []}}\n");
        let (f, c) = interpret_both(&finished(Ending::Exited(0), &cuda, ""));
        assert!(f.result().is_some());
        assert_eq!(c.result().and_then(|c| c.is_available), Some(false));
        let (f, _) = interpret_both(&finished(Ending::Exited(1), "", "no python"));
        assert!(matches!(f, ProbeOutcome::Failed { ref reason, .. } if reason.contains("code 1")));
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
