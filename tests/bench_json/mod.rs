//! The parts of `sadfix bench --json` the tests read, as structs: a test compares fields, it does
//! not grep text.
#![allow(dead_code)]

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub mode: String,
    pub replay: Option<Replay>,
    pub simulated: bool,
    pub telemetry: Telemetry,
    pub command: Vec<String>,
    pub wall_s: f64,
    pub audio_s: Option<f64>,
    pub work_per_audio_s: Option<f64>,
    pub batch_size_inferred: Option<u32>,
    pub stages: Vec<Stage>,
    pub verdicts: Vec<Verdict>,
    pub run: Run,
    pub output_video: Option<Video>,
    #[serde(default)]
    pub host: Option<Host>,
    #[serde(default)]
    pub overall: Option<Overall>,
    #[serde(default)]
    pub device: Option<Device>,
}

#[derive(Debug, Deserialize)]
pub struct Overall {
    pub samples: usize,
    pub cpu_mean: Option<f64>,
    pub rss_peak_mb: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Host {
    pub kind: Option<String>,
    pub run_id: Option<String>,
    pub logs_followed: Vec<String>,
    pub sadtalker: Option<SadTalkerChild>,
    pub stages_seen: bool,
    pub stages_note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SadTalkerChild {
    pub pid: u32,
    pub argv: Vec<String>,
    pub first_seen_s: f64,
    pub last_seen_s: f64,
    pub batch_size: u32,
    pub size: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub struct Device {
    pub device: String,
    pub how: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Replay {
    pub trace: String,
    pub origin: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Telemetry {
    pub gpu: String,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Stage {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    pub done: Option<u64>,
    pub total: Option<u64>,
    pub gpu_util_mean: Option<f64>,
    pub gpu_util_p95: Option<f64>,
    pub gpu_mem_peak_mb: Option<f64>,
    pub cpu_mean: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Verdict {
    pub id: String,
    pub status: String,
    pub observed: Option<String>,
    pub expected: String,
    pub hint: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Run {
    pub failed: bool,
    pub ending: Ending,
    pub child_pid: Option<u32>,
    pub cause: Option<String>,
    pub failure_kind: Option<String>,
    pub stderr_tail: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Ending {
    pub kind: String,
    pub code: Option<i32>,
    pub needed_kill: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Video {
    pub path: String,
    pub exists: bool,
    pub size_bytes: Option<u64>,
    pub duration_s: Option<f64>,
}

impl Report {
    pub fn read(path: &Path) -> Report {
        let text = std::fs::read_to_string(path).expect("the JSON report was written");
        serde_json::from_str(&text).expect("the JSON report parses")
    }

    pub fn verdict(&self, id: &str) -> &Verdict {
        self.verdicts
            .iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no verdict {id}"))
    }

    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name.as_str()).collect()
    }

    pub fn stage(&self, name: &str) -> &Stage {
        self.stages
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no stage {name}"))
    }
}

/// Live processes (not zombies) in process group `pgid`, read from /proc.
pub fn live_members(pgid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (state, group) = (fields.first(), fields.get(2));
        if group.and_then(|g| g.parse::<u32>().ok()) == Some(pgid) && state != Some(&"Z") {
            found.push(pid);
        }
    }
    found
}

/// Wait up to two seconds for a process group to be gone (zombies are reaped by init).
pub fn group_is_gone(pgid: u32) -> bool {
    for _ in 0..20 {
        if live_members(pgid).is_empty() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// The stages of a plain CLI run (no enhancer, crop preprocessing), in order.
pub const CLI_STAGES: [&str; 7] = [
    "load",
    "preprocess",
    "extract_3dmm",
    "mel",
    "audio2coeff",
    "face_renderer",
    "video_write",
];
