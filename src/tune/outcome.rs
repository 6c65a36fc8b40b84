//! The tune result as one value: the preflight, the trials and the recommendation (the
//! `--json` schema, nothing else), plus what the table and chart also show.

use super::preflight::Preflight;
use super::recommend::Recommendation;
use super::trial::Trial;
use crate::bench::device::{self, RunsDevice};
use crate::patch::Plan;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TuneReport {
    pub schema_version: u32,
    /// Where the trials ran, by bench's judgement of each generation; absent without trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<RunsDevice>,
    pub preflight: Preflight,
    pub trials: Vec<Trial>,
    pub recommendation: Option<Recommendation>,
    #[serde(skip)]
    pub extra: Extra,
}

/// What the text output says beyond the JSON schema.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub dry_run: bool,
    pub install: String,
    pub default_batch_size: Option<u32>,
    /// The trial clip's length and frames.
    pub clip_s: f64,
    pub clip_frames: u64,
    /// Where the trials' result folders are.
    pub work_dir: Option<String>,
    pub simulated: bool,
    /// Why the trials had no GPU telemetry.
    pub gpu_unavailable: Option<String>,
    /// The patch `--apply` wrote (empty changes: it already was the default).
    pub applied: Option<Plan>,
    /// How to start P generations at once, when the winner runs more than one.
    pub parallel_command: Option<String>,
    /// Median share of each trial spent in tune itself, not in the generation.
    pub overhead_pct: Option<f64>,
}

/// Where the trials that ran ran, together; `None` when none ran.
pub fn trials_device(trials: &[Trial]) -> Option<RunsDevice> {
    let ran: Vec<&RunsDevice> = trials.iter().filter_map(|t| t.device.as_ref()).collect();
    (!ran.is_empty()).then(|| device::combine(ran))
}

impl TuneReport {
    /// The trials ran on the CPU: whatever they rank, it is not a GPU tuning.
    pub fn on_cpu(&self) -> bool {
        self.device.as_ref().is_some_and(RunsDevice::on_cpu)
    }

    /// 0 a recommendation (or, for `--dry-run`, the full clip fits or nothing can be said),
    /// 1 nothing fits, 5 a trial failed for another reason than memory.
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use super::trial::TrialStatus;
        use crate::exit::ExitCode;
        if self.trials.iter().any(|t| t.status == TrialStatus::Failed) {
            ExitCode::RunFailed
        } else if self.extra.dry_run {
            if self.preflight.fitting().is_empty() {
                ExitCode::Findings
            } else {
                ExitCode::Ok
            }
        } else if self.recommendation.is_some() {
            ExitCode::Ok
        } else {
            ExitCode::Findings
        }
    }
}
