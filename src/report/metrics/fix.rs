//! `fix`'s series: how the procedure ended, each of its two runs (wall time, stage seconds, the
//! device and whether it was confirmed), the speed-ups, and whether the change was kept. The
//! runs are bench's own reports, so their labels and units are bench's.

use super::bench::{confirmed, source};
use super::{flag, one_if, serde_name, MetricsDoc};
use crate::fix::outcome::{FixReport, Run};
use std::time::SystemTime;

pub fn fix(report: &FixReport, now: SystemTime) -> MetricsDoc {
    let mut doc = MetricsDoc::for_command("fix", now);
    let verdict = serde_name(&report.verdict);
    let cuda = serde_name(&report.cuda);
    doc.gauge(
        "sadfix_fix_info",
        "How sadfix fix ended (fixed, not_measured, nothing_to_fix, environment_only, dry_run, declined, rolled_back, run_failed, interrupted), whether CUDA works (works, hangs, cannot_work), simulated true for sadfix's simulated install (a test double).",
    )
    .sample(
        &[
            ("verdict", &verdict),
            ("cuda", &cuda),
            ("simulated", flag(report.simulated)),
        ],
        1.0,
    );
    doc.gauge(
        "sadfix_fix_code_fixes_applied",
        "Code fixes applied through the patch engine (still applied unless rolled back).",
    )
    .value(report.applied.len() as f64);
    doc.gauge(
        "sadfix_fix_rolled_back",
        "Whether the applied fixes were rolled back (1) because the after run did not prove them.",
    )
    .value(one_if(report.rolled_back.is_some()));
    doc.gauge(
        "sadfix_fix_environment_fixes",
        "Fixes only the environment can make (driver, wheel, container flags), left for the user.",
    )
    .value(report.environment_fixes.len() as f64);
    for (name, run) in [("before", &report.before), ("after", &report.after)] {
        if let Some(run) = run {
            run_series(&mut doc, name, run);
        }
    }
    if let Some(speedup) = &report.speedup {
        for (part, value) in [
            ("face_renderer", speedup.face_renderer),
            ("whole_run", speedup.whole_run),
        ] {
            if let Some(value) = value {
                doc.gauge(
                    "sadfix_fix_speedup_ratio",
                    "The after run's speed over the before run's (above 1 is faster), for the Face Renderer and the whole run.",
                )
                .sample(&[("part", part)], value);
            }
        }
    }
    doc
}

fn run_series(doc: &mut MetricsDoc, name: &'static str, run: &Run) {
    let bench = &run.bench;
    doc.gauge(
        "sadfix_fix_device_info",
        "The device each of fix's runs used (cuda, cpu, unknown) and whether the output and the process tree's GPU memory agree on it (confirmed).",
    )
    .sample(
        &[
            ("run", name),
            ("device", bench.device.device),
            ("confirmed", flag(confirmed(bench))),
            ("source", source(bench)),
            ("simulated", flag(bench.simulated)),
        ],
        1.0,
    );
    doc.gauge(
        "sadfix_fix_wall_seconds",
        "Wall time of each of fix's runs.",
    )
    .sample(&[("run", name)], bench.wall_s);
    for stage in &bench.stages {
        doc.gauge(
            "sadfix_fix_stage_seconds",
            "Seconds each of fix's runs spent in each stage.",
        )
        .sample(&[("run", name), ("stage", stage.name)], stage.duration_s);
    }
    if let Some(timing) = &run.face_renderer {
        doc.gauge(
            "sadfix_fix_face_renderer_seconds_per_frame",
            "The Face Renderer's seconds per frame in each of fix's runs.",
        )
        .sample(&[("run", name)], timing.s_per_frame);
    }
}
