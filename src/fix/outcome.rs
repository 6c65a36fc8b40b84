//! The fix result as one value: the diagnosis sorted, what was applied, both runs (bench's own
//! reports), the checks that decided keep or roll back, the speed-ups. It is the `--json`
//! schema; the text and the SVG render it, and a metrics writer can read it as it is.

use super::findings::{CodeFix, CudaState, EnvFix};
use super::judge::{Proof, Speedup};
use super::measure::Clip;
use super::noise::RenderTiming;
use crate::bench::outcome::BenchReport;
use crate::doctor::check::Status;
use crate::exit::ExitCode;
use crate::patch::plan::FixSummary;
use crate::patch::{Plan, RevertOutcome};
use crate::tune::outcome::TuneReport;
use serde::Serialize;

/// How the procedure ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Applied and proven by the after run (exit 0).
    Fixed,
    /// Applied with `--no-measure`: kept, not proven (exit 0).
    NotMeasured,
    /// No code fix was needed (exit 0, or 1 when environment fixes fail).
    NothingToFix,
    /// CUDA cannot work here: only the environment fixes it (exit 1).
    EnvironmentOnly,
    /// `--dry-run`: the plan only (exit 0).
    DryRun,
    /// The user answered no (exit 0).
    Declined,
    /// Applied, then undone: a check of the after run failed (exit 4).
    RolledBack,
    /// A run failed for a reason no code fix covers (exit 5).
    RunFailed,
    /// Ctrl-C or SIGTERM; anything applied was undone.
    Interrupted,
}

/// One run's figures, for the before/after table.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub bench: BenchReport,
    pub face_renderer: Option<RenderTiming>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub schema_version: u32,
    pub install: String,
    /// The runs came from sadfix's simulated install (a test double), not SadTalker.
    pub simulated: bool,
    pub verdict: Verdict,
    /// The verdict in one line, with the speed-ups.
    pub summary: String,
    pub cuda: CudaState,
    pub code_fixes: Vec<CodeFix>,
    /// In the order to run them.
    pub environment_fixes: Vec<EnvFix>,
    /// Every fix written (and kept, unless `rolled_back`).
    pub applied: Vec<FixSummary>,
    pub rolled_back: Option<RevertOutcome>,
    pub clip: Option<Clip>,
    pub before: Option<Run>,
    pub after: Option<Run>,
    pub speedup: Option<Speedup>,
    pub checks: Vec<Proof>,
    pub tune: Option<TuneReport>,
    pub left_for_user: Vec<String>,
    /// The verified plans, for the diff (not part of the JSON).
    #[serde(skip)]
    pub plans: Vec<Plan>,
}

impl FixReport {
    pub fn new(install: String, cuda: CudaState) -> FixReport {
        FixReport {
            schema_version: crate::report::SCHEMA_VERSION,
            install,
            simulated: false,
            verdict: Verdict::NothingToFix,
            summary: String::new(),
            cuda,
            code_fixes: Vec::new(),
            environment_fixes: Vec::new(),
            applied: Vec::new(),
            rolled_back: None,
            clip: None,
            before: None,
            after: None,
            speedup: None,
            checks: Vec::new(),
            tune: None,
            left_for_user: Vec::new(),
            plans: Vec::new(),
        }
    }

    /// Whether a failing finding is left for the user (then "nothing to fix" exits 1).
    pub fn failures_left(&self) -> bool {
        let failing = |s: Status| s.is_failure();
        self.environment_fixes.iter().any(|f| failing(f.status))
            || self
                .code_fixes
                .iter()
                .any(|f| f.not_applied.is_some() && failing(f.status))
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.verdict {
            Verdict::Fixed | Verdict::NotMeasured | Verdict::DryRun | Verdict::Declined => {
                ExitCode::Ok
            }
            Verdict::NothingToFix if !self.failures_left() => ExitCode::Ok,
            Verdict::NothingToFix | Verdict::EnvironmentOnly => ExitCode::Findings,
            Verdict::RolledBack => ExitCode::Refused,
            Verdict::RunFailed | Verdict::Interrupted => ExitCode::RunFailed,
        }
    }
}
