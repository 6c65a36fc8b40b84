//! What one generation left behind, whether it ran just now or was read from a trace: its
//! metadata, every output line with its time, and the telemetry samples. A live run and a replay
//! both produce a `RunRecord`; everything after that (stages, summary, verdicts) is shared.
//! These types are also the trace format (docs/trace-format.md).

use super::census::SadTalkerChild;
use serde::{Deserialize, Serialize};

/// The trace format version written to `meta.json`.
pub const TRACE_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
    /// A log file followed with `--log`.
    Log,
}

/// One line (or one `\r` redraw) of output, `t` seconds after the child started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputLine {
    pub t: f64,
    pub stream: Stream,
    pub text: String,
}

/// One telemetry sample. A field is `None` when its source is unavailable, never zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t: f64,
    /// NVML device utilisation, percent of the sample window with a kernel running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_util: Option<f64>,
    /// Device memory in use, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_mb: Option<f64>,
    /// GPU memory of the child's process tree, MiB, where the driver reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proc_gpu_mem_mb: Option<f64>,
    /// SM utilisation of the child's process tree, percent, where the driver reports it
    /// (NVML per-process utilisation; 0 when none of its processes ran a kernel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proc_gpu_util: Option<f64>,
    /// Video encoder utilisation, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_util: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_w: Option<f64>,
    /// CPU of the child's process tree, percent of one core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    /// Resident memory of the child's process tree, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_mb: Option<f64>,
}

/// How the generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEnding {
    Exited {
        code: i32,
    },
    Signaled {
        signal: i32,
    },
    TimedOut {
        after_s: f64,
        needed_kill: bool,
    },
    Interrupted {
        needed_kill: bool,
    },
    /// `--attach`: sadfix stopped watching after `--duration`; the process goes on.
    Detached {
        after_s: f64,
    },
    /// `--attach`: the watched process exited (its exit code belongs to its parent).
    ProcessGone,
}

impl RunEnding {
    pub fn succeeded(self) -> bool {
        matches!(
            self,
            RunEnding::Exited { code: 0 } | RunEnding::Detached { .. } | RunEnding::ProcessGone
        )
    }

    pub fn describe(self) -> String {
        match self {
            RunEnding::Exited { code } => format!("exited with code {code}"),
            RunEnding::Signaled { signal } => format!("killed by signal {signal}"),
            RunEnding::TimedOut {
                after_s,
                needed_kill,
            } => format!(
                "timed out after {after_s:.0} s{}",
                if needed_kill {
                    "; it ignored SIGTERM and took SIGKILL"
                } else {
                    ""
                }
            ),
            RunEnding::Detached { after_s } => {
                format!("watched for {after_s:.0} s; the process goes on")
            }
            RunEnding::ProcessGone => "the watched process exited".to_string(),
            RunEnding::Interrupted { needed_kill } => format!(
                "interrupted (Ctrl-C){}",
                if needed_kill {
                    "; it ignored SIGTERM and took SIGKILL"
                } else {
                    ""
                }
            ),
        }
    }
}

/// Where a trace came from: recorded from a real run, or written by hand (synthetic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Recorded,
    Synthetic,
}

/// Whether GPU telemetry was there while the run was sampled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuSourceInfo {
    /// `nvml` or `unavailable`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// NVML's index of the GPU sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Why that GPU: NVML listed the run's processes on it, or `CUDA_VISIBLE_DEVICES` mapped
    /// (and whether the mapping is a guess).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_by: Option<String>,
}

/// The output video as found after the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub path: String,
    pub exists: bool,
    pub size_bytes: Option<u64>,
    /// From ffprobe; `None` without ffprobe or for a file it cannot read.
    pub duration_s: Option<f64>,
    /// Why `duration_s` is missing, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_note: Option<String>,
}

/// How a host's run was watched (`--exec`, `--attach`, `--log`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostMeta {
    /// `exec` or `attach`; absent for the install's own `inference.py`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The `SADFIX_RUN` marker in the environment of the run's processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The `--log` patterns given, and the files they matched.
    #[serde(default)]
    pub logs: Vec<String>,
    #[serde(default)]
    pub logs_followed: Vec<String>,
    /// The SadTalker process seen among the run's processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sadtalker: Option<SadTalkerChild>,
    /// `--attach`: where the watched process's stdout goes (`/proc/PID/fd/1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_stdout: Option<String>,
}

/// Everything about the run that is not a line or a sample (`meta.json` of a trace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    pub trace_version: u32,
    pub origin: Origin,
    /// Free text: how the trace was made (a synthetic trace must say so here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub sadfix_version: String,
    /// Seconds since the Unix epoch when the child started.
    pub started_unix_s: u64,
    pub command: Vec<String>,
    #[serde(default)]
    pub install: Option<String>,
    #[serde(default)]
    pub audio: Option<String>,
    #[serde(default)]
    pub audio_s: Option<f64>,
    /// The `--batch-size` that was passed, if any.
    #[serde(default)]
    pub batch_size: Option<u32>,
    pub interval_ms: u64,
    pub gpu: GpuSourceInfo,
    #[serde(default)]
    pub child_pid: Option<u32>,
    pub wall_s: f64,
    pub ending: RunEnding,
    #[serde(default)]
    pub output_video: Option<VideoInfo>,
    /// CPU time sadfix itself used while following the run (all its threads), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sadfix_cpu_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostMeta>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub meta: RunMeta,
    pub lines: Vec<OutputLine>,
    pub samples: Vec<Sample>,
}
