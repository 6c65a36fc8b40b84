//! Keep or roll back: the after run must succeed; where a GPU exists, bench's device
//! judgement must find the run's process tree holding GPU memory; and the Face Renderer may
//! not be slower than before beyond the noise both runs measured. Each check keeps the output
//! lines that show its result.

use super::measure::Measured;
use super::noise;
use crate::bench::outcome::GpuTelemetry;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not judged here, and why is in `detail`.
    Skip,
}

/// One check of the after run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proof {
    /// `run.succeeded`, `gpu.memory_held`, `face_renderer.not_slower`.
    pub id: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// The lines of the runs' output or telemetry that show it.
    pub lines: Vec<String>,
}

/// Speed-ups of the after run over the before run (above 1 is faster).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Speedup {
    pub face_renderer: Option<f64>,
    pub whole_run: Option<f64>,
}

/// Every check; the fix is kept only when none failed. `per_process` says whether the
/// driver can list a run's processes at all (not under WSL, not in a container).
pub fn judge(before: Option<&Measured>, after: &Measured, per_process: bool) -> Vec<Proof> {
    vec![
        succeeded(after),
        memory_held(after, per_process),
        not_slower(before, after),
    ]
}

pub fn keep(proofs: &[Proof]) -> bool {
    proofs.iter().all(|p| p.outcome != Outcome::Fail)
}

fn succeeded(after: &Measured) -> Proof {
    let run = &after.report.run;
    if !run.failed {
        return Proof {
            id: "run.succeeded",
            outcome: Outcome::Pass,
            detail: format!("the run ended: {}", run.ending.describe()),
            lines: Vec::new(),
        };
    }
    let mut lines: Vec<String> = run.evidence.iter().cloned().collect();
    lines.extend(run.stderr_tail.iter().cloned());
    Proof {
        id: "run.succeeded",
        outcome: Outcome::Fail,
        detail: format!(
            "the run failed: {}",
            run.cause.clone().unwrap_or_else(|| run.ending.describe())
        ),
        lines,
    }
}

fn memory_held(after: &Measured, per_process: bool) -> Proof {
    let r = &after.report;
    let id = "gpu.memory_held";
    if r.telemetry.gpu != GpuTelemetry::Nvml {
        let why = r.telemetry.reason.clone().unwrap_or_default();
        return skip(id, format!("no GPU here to hold memory on ({why})"));
    }
    let device = &r.device;
    let lines = device.how.clone();
    match device.tree_gpu_mem_peak_mb {
        // Without per-process data, bench's device judgement (the output's claim, the CPU
        // tells) is all there is: a run it finds on the CPU still fails.
        None if !per_process && device.device == "cpu" => Proof {
            id,
            outcome: Outcome::Fail,
            detail: "no per-process GPU memory here (WSL, a container), and the run's output shows the CPU".into(),
            lines,
        },
        None if !per_process => Proof {
            id,
            outcome: Outcome::Skip,
            detail: format!(
                "no per-process GPU memory here (WSL, a container): the output says {}",
                device.device
            ),
            lines,
        },
        // NVML lists every process holding memory; a run it never listed held none.
        None => Proof {
            id,
            outcome: Outcome::Fail,
            detail: format!(
                "NVML never listed a process of the run on the GPU: it held no GPU memory (the output says {})",
                device.device
            ),
            lines,
        },
        Some(mb) if device.device == "cuda" => Proof {
            id,
            outcome: Outcome::Pass,
            detail: format!("the run's process tree held {mb:.0} MiB of GPU memory"),
            lines,
        },
        Some(mb) => Proof {
            id,
            outcome: Outcome::Fail,
            detail: format!(
                "the run's process tree held no GPU memory to speak of ({mb:.0} MiB): it ran on the {}",
                device.device
            ),
            lines,
        },
    }
}

fn not_slower(before: Option<&Measured>, after: &Measured) -> Proof {
    let id = "face_renderer.not_slower";
    let b = before.and_then(|m| m.render.as_ref());
    let a = after.render.as_ref();
    let (Some(b), Some(a)) = (b, a) else {
        let which = if b.is_none() { "before" } else { "after" };
        return skip(
            id,
            format!(
                "no Face Renderer figure {which} (not measured, or the run did not reach its end)"
            ),
        );
    };
    let (band, measured) = noise::allowance(b, a);
    let how = if measured {
        format!(
            "the noise both runs measured ({} and {} timed redraws)",
            b.intervals, a.intervals
        )
    } else {
        format!(
            "{:.0}% (too few timed redraws to measure the noise)",
            noise::UNMEASURED_SHARE * 100.0
        )
    };
    let lines = [("before", b), ("after", a)]
        .iter()
        .filter_map(|(label, t)| t.last_bar.as_ref().map(|l| format!("{label}: {l}")))
        .collect();
    let slower = a.s_per_frame - b.s_per_frame;
    let detail = format!(
        "{:.3} s per frame before, {:.3} after; allowed {:.3} s more by {how}",
        b.s_per_frame, a.s_per_frame, band
    );
    Proof {
        id,
        outcome: if slower > band {
            Outcome::Fail
        } else {
            Outcome::Pass
        },
        detail,
        lines,
    }
}

fn skip(id: &'static str, detail: String) -> Proof {
    Proof {
        id,
        outcome: Outcome::Skip,
        detail,
        lines: Vec::new(),
    }
}

/// The speed-ups, where both runs succeeded.
pub fn speedup(before: Option<&Measured>, after: &Measured) -> Option<Speedup> {
    let before = before.filter(|b| !b.report.run.failed)?;
    if after.report.run.failed {
        return None;
    }
    let ratio = |b: f64, a: f64| (a > 0.0).then(|| b / a);
    Some(Speedup {
        face_renderer: before
            .render
            .as_ref()
            .zip(after.render.as_ref())
            .and_then(|(b, a)| ratio(b.s_per_frame, a.s_per_frame)),
        whole_run: ratio(before.report.wall_s, after.report.wall_s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::expect::Expectations;
    use crate::bench::{report_of, trace};
    use std::path::Path;

    /// A run from one of the repository's traces (a recorded CPU fallback, a synthetic GPU run).
    fn run_of(name: &str) -> Measured {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/traces")
            .join(name);
        let record = trace::read(&dir).unwrap();
        let report = report_of(&record, &Expectations::builtin(), Some(name.into()), false);
        let frames = record.meta.audio_s.map_or(100, |s| (s * 25.0) as u64);
        let render = crate::fix::noise::render_timing(&record, &report, frames);
        Measured { report, render }
    }

    #[test]
    fn a_slower_face_renderer_fails_and_a_faster_one_passes() {
        let (cpu, gpu) = (run_of("cpu-fallback"), run_of("gpu-synthetic"));
        assert!(cpu.render.is_some() && gpu.render.is_some());
        let worse = not_slower(Some(&gpu), &cpu);
        assert_eq!(worse.outcome, Outcome::Fail, "{}", worse.detail);
        assert_eq!(
            worse.lines.len(),
            2,
            "both runs' last bar: {:?}",
            worse.lines
        );
        assert_eq!(not_slower(Some(&cpu), &gpu).outcome, Outcome::Pass);
        assert_eq!(not_slower(None, &gpu).outcome, Outcome::Skip);
        let s = speedup(Some(&cpu), &gpu).unwrap();
        assert!(s.face_renderer.unwrap() > 1.0);
    }
}
