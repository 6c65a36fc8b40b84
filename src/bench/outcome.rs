//! The bench report: one value built from a `RunRecord` (live or replayed), its timeline and the
//! verdicts. It derives Serialize and is the `--json` schema; the table and the SVG render it.

use super::device::{self, DeviceUse};
use super::expect::{Expectations, Status, Verdict};
use super::host::{self, HostReport};
use super::judge::{judge, Observed};
use super::record::{Origin, RunEnding, RunRecord, Sample, VideoInfo};
use super::stages::{Tell, Timeline};
use super::status::run_status;
pub use super::status::RunStatus;
use super::summary::{self, StageSummary, Stats};
use crate::exit::ExitCode;
use crate::report::SCHEMA_VERSION;
use serde::Serialize;

/// A live run or a replay of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Run,
    Replay,
}

/// Where the GPU figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuTelemetry {
    Nvml,
    Replay,
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TelemetryStatus {
    pub gpu: GpuTelemetry,
    /// Why the GPU figures are missing, or where replayed ones come from.
    pub reason: Option<String>,
    pub device: Option<String>,
    /// NVML's index and UUID of the GPU sampled, and why that one (`gpu::choice`).
    pub gpu_index: Option<u32>,
    pub gpu_uuid: Option<String>,
    pub gpu_chosen_by: Option<String>,
    /// `sysinfo` for a live run, `replay` for a replay.
    pub cpu: &'static str,
    /// Whose GPU use the figures are: the run's process tree (NVML per process) or, where
    /// the driver gives no per-process data, the whole device; `None` without GPU figures.
    pub attribution: Option<String>,
    pub interval_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayInfo {
    pub trace: String,
    pub origin: Origin,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub schema_version: u32,
    pub mode: Mode,
    pub replay: Option<ReplayInfo>,
    /// The install was sadfix's simulated one (a test double), not SadTalker.
    pub simulated: bool,
    pub telemetry: TelemetryStatus,
    pub command: Vec<String>,
    pub wall_s: f64,
    pub audio_s: Option<f64>,
    /// Seconds of generation per second of audio.
    pub work_per_audio_s: Option<f64>,
    pub batch_size_requested: Option<u32>,
    pub batch_size_inferred: Option<u32>,
    pub stages: Vec<StageSummary>,
    pub overall: Stats,
    pub cpu_tells: Vec<Tell>,
    pub run: RunStatus,
    pub verdicts: Vec<Verdict>,
    pub output_video: Option<VideoInfo>,
    /// Which device the run used, and how that is known.
    pub device: DeviceUse,
    /// How a host's run was watched (`--exec`, `--attach`, `--log`).
    pub host: Option<HostReport>,
    /// CPU seconds sadfix itself used following the run (sampler, readers, parser).
    pub sadfix_cpu_s: Option<f64>,
    /// The trace `--record` wrote.
    pub recorded_to: Option<String>,
    /// The samples, for the timeline picture (not part of the JSON).
    #[serde(skip)]
    pub samples: Vec<Sample>,
}

impl BenchReport {
    /// 5 when the run failed, 1 when an expectation failed, else 0.
    pub fn exit_code(&self) -> ExitCode {
        if self.run.failed {
            ExitCode::RunFailed
        } else if self.verdicts.iter().any(|v| v.status == Status::Fail) {
            ExitCode::Findings
        } else {
            ExitCode::Ok
        }
    }
}

/// How to build the report.
pub struct Build<'a> {
    pub record: &'a RunRecord,
    pub timeline: &'a Timeline,
    pub expectations: &'a Expectations,
    pub replay_of: Option<String>,
    pub require_gpu: bool,
}

pub fn build(b: Build) -> BenchReport {
    let (record, timeline) = (b.record, b.timeline);
    let meta = &record.meta;
    let telemetry = telemetry_status(b.replay_of.as_deref(), record);
    let mut stages = summary::stages(&timeline.stages, &record.samples);
    let host = meta
        .host
        .as_ref()
        .map(|h| host::report(h, timeline, &record.samples));
    // A host's run without a marker seen live: "load models" would only be the whole run
    // misnamed, and re-printed markers carry no stage times.
    if host.as_ref().is_some_and(|h| !h.stages_seen) {
        stages.clear();
    }
    let overall = Stats::over(&record.samples, 0.0, meta.wall_s);
    let gpu_unavailable = (telemetry.gpu == GpuTelemetry::Unavailable)
        .then(|| telemetry.reason.clone().unwrap_or_default());
    let run = run_status(record, timeline);
    let device = device::confirm(&record.lines, &record.samples, &timeline.cpu_tells);
    let unfinished = match meta.ending {
        RunEnding::Detached { after_s } => Some(format!(
            "sadfix stopped watching after {after_s:.0} s, before the run ended"
        )),
        _ => None,
    };
    let mut verdicts = judge(
        b.expectations,
        &Observed {
            stages: &stages,
            overall: &overall,
            wall_s: meta.wall_s,
            audio_s: meta.audio_s,
            cpu_tells: &timeline.cpu_tells,
            output_video: meta.output_video.as_ref(),
            gpu_unavailable: gpu_unavailable.as_deref(),
            require_gpu: b.require_gpu,
            run_failed: run.failed,
            device: &device,
            unfinished: unfinished.as_deref(),
        },
    );
    if let Some(h) = host.as_ref().filter(|h| !h.stages_seen) {
        // The video is named in the output sadfix did not see: not a missing video.
        for v in verdicts.iter_mut().filter(|v| v.id == "output.video") {
            v.status = Status::Skip;
            v.observed = None;
            v.hint = h.stages_note.clone();
        }
    }
    BenchReport {
        schema_version: SCHEMA_VERSION,
        mode: if b.replay_of.is_some() {
            Mode::Replay
        } else {
            Mode::Run
        },
        replay: b.replay_of.map(|trace| ReplayInfo {
            trace,
            origin: meta.origin,
            note: meta.note.clone(),
        }),
        simulated: timeline.simulated,
        telemetry,
        command: meta.command.clone(),
        wall_s: meta.wall_s,
        audio_s: meta.audio_s,
        work_per_audio_s: meta
            .audio_s
            .filter(|a| *a > 0.0 && unfinished.is_none())
            .map(|a| meta.wall_s / a),
        batch_size_requested: meta.batch_size,
        batch_size_inferred: timeline.batch_size_inferred(),
        stages,
        overall,
        cpu_tells: timeline.cpu_tells.clone(),
        run,
        verdicts,
        output_video: meta.output_video.clone(),
        device,
        host,
        sadfix_cpu_s: meta.sadfix_cpu_s,
        recorded_to: None,
        samples: record.samples.clone(),
    }
}

fn telemetry_status(replay_of: Option<&str>, record: &RunRecord) -> TelemetryStatus {
    let gpu = &record.meta.gpu;
    let (kind, reason) = match (replay_of, gpu.source.as_str()) {
        (_, "unavailable") => (
            GpuTelemetry::Unavailable,
            Some(match replay_of {
                Some(_) => format!(
                    "the recorded run had none ({})",
                    gpu.reason.as_deref().unwrap_or("no reason recorded")
                ),
                None => gpu.reason.clone().unwrap_or_default(),
            }),
        ),
        (Some(trace), source) => {
            let what = match record.meta.origin {
                Origin::Synthetic => "a synthetic trace: written by hand, not measured",
                Origin::Recorded => "a recorded trace",
            };
            (
                GpuTelemetry::Replay,
                Some(format!("replayed from {trace} ({what}; source: {source})")),
            )
        }
        (None, _) => (GpuTelemetry::Nvml, None),
    };
    TelemetryStatus {
        gpu: kind,
        reason,
        device: gpu.device.clone(),
        gpu_index: gpu.index,
        gpu_uuid: gpu.uuid.clone(),
        gpu_chosen_by: gpu.chosen_by.clone(),
        cpu: if replay_of.is_some() {
            "replay"
        } else {
            "sysinfo"
        },
        interval_ms: record.meta.interval_ms,
        attribution: attribution(&record.samples),
    }
}

fn attribution(samples: &[Sample]) -> Option<String> {
    if !samples
        .iter()
        .any(|s| s.gpu_util.is_some() || s.gpu_mem_mb.is_some())
    {
        return None;
    }
    let memory = samples.iter().any(|s| s.proc_gpu_mem_mb.is_some());
    let util = samples.iter().any(|s| s.proc_gpu_util.is_some());
    Some(match (memory, util) {
        (true, true) => "GPU memory and utilisation of the run's process tree: NVML per process; the stage table's GPU columns are the whole device".into(),
        (true, false) => "GPU memory of the run's process tree: NVML per process; utilisation is the whole device's (no per-process utilisation from this driver, or MIG)".into(),
        _ => "device totals: the driver gives no per-process data (WSL, a container with its own PID namespace): another program on the same GPU counts too".into(),
    })
}
