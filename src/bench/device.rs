//! Which device the run really used, and how sadfix knows: what the output claims (a host's or
//! SadTalker's `device: cuda`, as users `grep device` their logs), the GPU memory the run's
//! process tree held (NVML per process), and the CPU tells. Disagreement is a verdict.

use super::expect::{Status, Verdict};
use super::record::{OutputLine, Sample};
use super::stages::Tell;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// Below this, a process tree's GPU memory is a CUDA context at most, not a model.
const HELD_MB: f64 = 64.0;

static CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:device\W{0,3}|using\s+|on\s+)(cuda(?::\d+)?|cpu|gpu)\b")
        .expect("the device claim pattern compiles")
});

/// The evidence and the device it points to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceUse {
    /// `cuda`, `cpu`, or `unknown`.
    pub device: &'static str,
    /// How that is known, one reason each.
    pub how: Vec<String>,
    /// The output line that names a device, if one does.
    pub claim_line: Option<String>,
    /// Peak GPU memory of the run's processes, MiB, where the driver reports it per process.
    pub tree_gpu_mem_peak_mb: Option<f64>,
}

/// The first device the output names.
fn claim(lines: &[OutputLine]) -> Option<(&'static str, String)> {
    lines.iter().find_map(|l| {
        let text = super::ansi::clean(&l.text);
        // ffmpeg's x264 banner ("using cpu capabilities: MMX2 SSE2Fast ...") is printed by the
        // video write of every run, GPU or not: it names the encoder's instruction sets.
        if text.contains("cpu capabilities") {
            return None;
        }
        let found = CLAIM.captures(&text)?.get(1)?.as_str().to_ascii_lowercase();
        let device = if found == "cpu" { "cpu" } else { "cuda" };
        Some((device, text.trim().chars().take(200).collect()))
    })
}

pub fn confirm(lines: &[OutputLine], samples: &[Sample], cpu_tells: &[Tell]) -> DeviceUse {
    let claimed = claim(lines);
    let peak = samples
        .iter()
        .filter_map(|s| s.proc_gpu_mem_mb)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let mut how = Vec::new();
    if let Some((device, line)) = &claimed {
        how.push(format!("the output says {device}: \"{line}\""));
    }
    match peak {
        Some(mb) if mb >= HELD_MB => how.push(format!(
            "the process tree held {mb:.0} MiB of GPU memory (NVML, per process)"
        )),
        Some(mb) => how.push(format!(
            "the process tree held no GPU memory to speak of ({mb:.0} MiB, NVML per process)"
        )),
        None => {}
    }
    for tell in cpu_tells {
        how.push(format!("CPU tell: {}", tell.what));
    }
    let device = if peak.is_some_and(|mb| mb >= HELD_MB) {
        "cuda"
    } else if peak.is_some() || !cpu_tells.is_empty() {
        "cpu"
    } else {
        claimed.as_ref().map_or("unknown", |c| c.0)
    };
    DeviceUse {
        device,
        how,
        claim_line: claimed.map(|c| c.1),
        tree_gpu_mem_peak_mb: peak,
    }
}

/// Which device several runs used together, by bench's judgement of each: for a command that
/// runs generations and reports on them (tune's trials, fix's before and after).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunsDevice {
    /// `cuda` (every run on the GPU), `cpu` (every run on the CPU), `mixed`, or `unknown`
    /// (no run could be judged).
    pub device: &'static str,
    /// How that is known: the first judged run's reasons.
    pub how: Vec<String>,
}

impl RunsDevice {
    pub fn on_gpu(&self) -> bool {
        self.device == "cuda"
    }

    pub fn on_cpu(&self) -> bool {
        self.device == "cpu"
    }
}

/// The device of several runs from each run's `DeviceUse`.
pub fn of_runs<'a>(runs: impl IntoIterator<Item = &'a DeviceUse>) -> RunsDevice {
    judge(runs.into_iter().map(|u| (u.device, &u.how)).collect())
}

/// The device of several groups of runs together (each judged by `of_runs`).
pub fn combine<'a>(groups: impl IntoIterator<Item = &'a RunsDevice>) -> RunsDevice {
    judge(groups.into_iter().map(|g| (g.device, &g.how)).collect())
}

fn judge(parts: Vec<(&'static str, &Vec<String>)>) -> RunsDevice {
    let judged: Vec<&(&'static str, &Vec<String>)> =
        parts.iter().filter(|(d, _)| *d != "unknown").collect();
    let device = match judged.first() {
        None => "unknown",
        Some(_) if parts.iter().any(|(d, _)| *d == "mixed") => "mixed",
        // Some runs could not be judged: the others do not speak for them.
        Some((first, _))
            if judged.iter().all(|(d, _)| d == first) && judged.len() < parts.len() =>
        {
            "unknown"
        }
        Some((first, _)) if judged.iter().all(|(d, _)| d == first) => first,
        Some(_) => "mixed",
    };
    RunsDevice {
        device,
        how: judged
            .first()
            .map_or_else(Vec::new, |(_, how)| (*how).clone()),
    }
}

/// The `device.confirmed` verdict: the claim against the measurements.
pub fn verdict(found: &DeviceUse, claimed: Option<&str>) -> Verdict {
    let held = found.tree_gpu_mem_peak_mb;
    let (status, hint) = match (claimed, held) {
        (Some("cuda"), Some(mb)) if mb < HELD_MB => (
            Status::Fail,
            Some("the log says cuda, but the process tree held no GPU memory: the work ran elsewhere (the CPU, or a process outside the run); run sadfix doctor".to_string()),
        ),
        (Some("cpu"), Some(mb)) if mb >= HELD_MB => (
            Status::Warn,
            Some(format!("the log says cpu, but the process tree held {mb:.0} MiB of GPU memory: part of the run is on the GPU")),
        ),
        (_, None) => (
            Status::Skip,
            Some("no per-process GPU memory (no NVML, or a driver that does not report it: WSL, containers): the device comes from the output alone".to_string()),
        ),
        (None, Some(_)) => (Status::Pass, None),
        _ => (Status::Pass, None),
    };
    Verdict {
        id: "device.confirmed".into(),
        status,
        observed: Some(found.device.to_string()),
        observed_value: held,
        expected: "the device the output names is the one the process tree used".into(),
        hint,
        note: (!found.how.is_empty()).then(|| found.how.join("; ")),
    }
}

/// The device the output claims, for `verdict`.
pub fn claimed(found: &DeviceUse) -> Option<&'static str> {
    let line = found.claim_line.as_deref()?;
    let device = CLAIM.captures(line)?.get(1)?.as_str().to_ascii_lowercase();
    Some(if device == "cpu" { "cpu" } else { "cuda" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(device: &'static str) -> DeviceUse {
        DeviceUse {
            device,
            how: vec![format!("judged {device}")],
            claim_line: None,
            tree_gpu_mem_peak_mb: None,
        }
    }

    #[test]
    fn several_runs_are_on_a_device_only_when_every_one_is() {
        assert_eq!(of_runs([&used("cpu"), &used("cpu")]).device, "cpu");
        assert!(of_runs([&used("cuda")]).on_gpu());
        assert_eq!(of_runs([&used("cuda"), &used("cpu")]).device, "mixed");
        assert_eq!(of_runs([&used("cuda"), &used("unknown")]).device, "unknown");
        let none = of_runs(std::iter::empty());
        assert_eq!((none.device, none.how.len()), ("unknown", 0));
        assert_eq!(of_runs([&used("cpu")]).how, vec!["judged cpu".to_string()]);
        let cpu = of_runs([&used("cpu")]);
        assert_eq!(combine([&cpu, &cpu]).device, "cpu");
        assert_eq!(combine([&cpu, &of_runs([&used("cuda")])]).device, "mixed");
    }
    use crate::bench::record::Stream;

    fn line(text: &str) -> OutputLine {
        OutputLine {
            t: 1.0,
            stream: Stream::Stdout,
            text: text.into(),
        }
    }

    fn held(mb: f64) -> Sample {
        Sample {
            t: 1.0,
            proc_gpu_mem_mb: Some(mb),
            ..Sample::default()
        }
    }

    #[test]
    fn a_cuda_claim_without_gpu_memory_is_a_failure() {
        let lines = [line(
            "2026-12-02 INFO [app] loading SadTalker on device: cuda",
        )];
        let found = confirm(&lines, &[held(0.0)], &[]);
        assert_eq!(found.device, "cpu");
        let v = verdict(&found, claimed(&found));
        assert_eq!(v.status, Status::Fail);
        assert!(v
            .hint
            .unwrap()
            .starts_with("the log says cuda, but the process tree held no GPU memory"));
    }

    #[test]
    fn ffmpegs_x264_banner_claims_no_device() {
        // Printed by SadTalker's video write (sadtalker-z's ffmpeg re-encode) on every run.
        let lines = [line(
            "[libx264 @ 0x55aaec7994c0] using cpu capabilities: MMX2 SSE2Fast SSSE3 SSE4.2 AVX FMA3 BMI2 AVX2 AVX512",
        )];
        let found = confirm(&lines, &[held(2900.0)], &[]);
        assert_eq!((found.device, found.claim_line), ("cuda", None));
        assert_eq!(confirm(&lines, &[], &[]).device, "unknown");
    }

    #[test]
    fn agreement_passes_and_no_per_process_data_skips() {
        let lines = [line("[sadtalker-sim] device: cuda (torch 2.5.1)")];
        let found = confirm(&lines, &[held(2900.0)], &[]);
        assert_eq!(found.device, "cuda");
        assert_eq!(verdict(&found, claimed(&found)).status, Status::Pass);
        let found = confirm(&lines, &[Sample::default()], &[]);
        assert_eq!(found.device, "cuda");
        let v = verdict(&found, claimed(&found));
        assert_eq!(v.status, Status::Skip);
        assert!(v.note.unwrap().contains("the output says cuda"));
    }
}
