//! The values doctor produces: a check with a stable id, a status, a summary, the evidence and
//! the fix; and the whole report. These types are the `--json` schema.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Worth knowing or fixing; SadTalker may still run.
    Warn,
    /// SadTalker will not use the GPU, or will not run, until this is fixed.
    Fail,
    /// Could not be judged here (no NVML, no code scan, nothing to look at).
    Skip,
    /// A probe ran past its deadline and was killed; counts as a failure.
    Timeout,
    /// Not judged: Ctrl-C or SIGTERM ended sadfix before a probe this check rests on answered.
    /// No fault of the install, so not a failure.
    Interrupted,
}

impl Status {
    /// Whether this status makes doctor exit 1.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Timeout)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Timeout => "timeout",
            Status::Interrupted => "interrupted",
        }
    }
}

/// The part of the system a check looks at; the table groups by it, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Install,
    Torch,
    Gpu,
    System,
    Packages,
    Tools,
    Weights,
    Code,
}

impl Area {
    pub fn title(self) -> &'static str {
        match self {
            Area::Install => "install",
            Area::Torch => "torch and CUDA",
            Area::Gpu => "GPU and driver",
            Area::System => "system",
            Area::Packages => "packages",
            Area::Tools => "tools",
            Area::Weights => "weights",
            Area::Code => "code",
        }
    }
}

/// One verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable id, e.g. `torch.build` (listed in docs/checks.md).
    pub id: String,
    pub area: Area,
    pub status: Status,
    /// One line.
    pub summary: String,
    /// What the verdict rests on, one fact per entry.
    pub evidence: Vec<String>,
    /// The command (or the one action) that fixes it, where there is one.
    pub fix: Option<String>,
}

impl Check {
    pub fn new(id: &str, area: Area, status: Status, summary: impl Into<String>) -> Self {
        Check {
            id: id.to_string(),
            area,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        let line = line.into();
        if !line.trim().is_empty() {
            self.evidence.push(line);
        }
        self
    }

    pub fn evidence_all<I: IntoIterator<Item = String>>(mut self, lines: I) -> Self {
        for line in lines {
            self = self.evidence(line);
        }
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn fix_opt(mut self, fix: Option<String>) -> Self {
        self.fix = fix;
        self
    }
}

/// The install doctor looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallSummary {
    pub root: PathBuf,
    pub layout: String,
    pub host: Option<PathBuf>,
}

/// The interpreter doctor probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonSummary {
    pub path: PathBuf,
    /// Why it was chosen: `flag`, `install_venv`, `sadfix_venv`, `virtual_env`, `conda_prefix`,
    /// `path`.
    pub source: String,
    pub reason: String,
    /// The shim (pyenv's or another script) that `path` was resolved from, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shim: Option<crate::install::Shim>,
    /// As the interpreter reported it; absent when the facts probe failed.
    pub version: Option<String>,
}

/// The whole `sadfix doctor` result; `--json` prints it as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub schema_version: u32,
    pub install: InstallSummary,
    pub python: Option<PythonSummary>,
    /// Where GPU facts came from: `nvml`, `replay: <file>`, or `unavailable`.
    pub gpu_source: String,
    /// Torch's build, CUDA, the driver and the GPUs, as fields (the checks say them in words).
    #[serde(default)]
    pub platform: super::platform::Platform,
    pub checks: Vec<Check>,
    pub elapsed_ms: u64,
}

impl DoctorReport {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status.is_failure())
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}
