//! `bench`'s series: the run (where it came from, how it ended), its wall time against the
//! audio, each stage's seconds and GPU use, the whole run's GPU use, the device it used and
//! whether that was confirmed, and each verdict on `status_value`'s scale. A replay or the
//! simulated install is named in the `source` and `simulated` labels of the `_info` series.

use super::{flag, mib_to_bytes, one_if, serde_name, severity, status_value, MetricsDoc};
use crate::bench::expect::Status;
use crate::bench::outcome::BenchReport;
use crate::bench::record::Origin;
use std::time::SystemTime;

/// `live` (sadfix ran or watched it), `replay_recorded` or `replay_synthetic` (a trace, not
/// this machine now).
pub fn source(report: &BenchReport) -> &'static str {
    match &report.replay {
        None => "live",
        Some(r) if r.origin == Origin::Synthetic => "replay_synthetic",
        Some(_) => "replay_recorded",
    }
}

/// The device is confirmed when the `device.confirmed` verdict passed: what the output says
/// and the process tree's GPU memory (NVML per process) agree.
pub fn confirmed(report: &BenchReport) -> bool {
    report
        .verdicts
        .iter()
        .any(|v| v.id == "device.confirmed" && v.status == Status::Pass)
}

pub fn bench(report: &BenchReport, now: SystemTime) -> MetricsDoc {
    let mut doc = MetricsDoc::for_command("bench", now);
    let source = source(report);
    let simulated = flag(report.simulated);
    let telemetry = serde_name(&report.telemetry.gpu);
    let ending = serde_name(&report.run.ending);
    doc.gauge(
        "sadfix_bench_run_info",
        "The generation bench judged: source live or replay_recorded/replay_synthetic (a trace), simulated true for sadfix's simulated install (a test double), how it ended, and where the GPU figures came from (nvml, replay, unavailable).",
    )
    .sample(
        &[
            ("source", source),
            ("simulated", simulated),
            ("ending", &ending),
            ("gpu_telemetry", &telemetry),
        ],
        1.0,
    );
    doc.gauge(
        "sadfix_bench_device_info",
        "The device the generation used (cuda, cpu, unknown) and whether the output and the process tree's GPU memory agree on it (confirmed).",
    )
    .sample(
        &[
            ("device", report.device.device),
            ("confirmed", flag(confirmed(report))),
            ("source", source),
            ("simulated", simulated),
        ],
        1.0,
    );
    if let Some(name) = &report.telemetry.device {
        doc.gauge(
            "sadfix_bench_gpu_info",
            "The GPU the figures were sampled on; source replay_* marks a trace.",
        )
        .sample(&[("name", name), ("source", source)], 1.0);
    }
    doc.gauge(
        "sadfix_bench_run_failed",
        "Whether the generation itself failed (1): a crash, a timeout, a signal, out of memory.",
    )
    .value(one_if(report.run.failed));
    doc.gauge("sadfix_bench_wall_seconds", "Wall time of the generation.")
        .value(report.wall_s);
    if let Some(audio) = report.audio_s {
        doc.gauge("sadfix_bench_audio_seconds", "Length of the driving audio.")
            .value(audio);
    }
    if let Some(ratio) = report.work_per_audio_s {
        doc.gauge(
            "sadfix_bench_work_per_audio_ratio",
            "Seconds of generation per second of audio.",
        )
        .value(ratio);
    }
    if let Some(bs) = report.batch_size_inferred.or(report.batch_size_requested) {
        doc.gauge(
            "sadfix_bench_batch_size",
            "The Face Renderer's batch size (inferred from its bar, else as requested).",
        )
        .value(bs as f64);
    }
    for stage in &report.stages {
        let labels = [("stage", stage.name)];
        doc.gauge("sadfix_bench_stage_seconds", "Seconds spent in each stage.")
            .sample(&labels, stage.duration_s);
        if let Some(util) = stage.gpu_util_mean {
            doc.gauge(
                "sadfix_bench_stage_gpu_utilization_ratio",
                "Mean GPU utilisation (0 to 1) while each stage ran.",
            )
            .sample(&labels, util / 100.0);
        }
        if let Some(mb) = stage.gpu_mem_peak_mb {
            doc.gauge(
                "sadfix_bench_stage_gpu_memory_peak_bytes",
                "Peak GPU memory in use while each stage ran.",
            )
            .sample(&labels, mib_to_bytes(mb));
        }
    }
    if let Some(util) = report.overall.gpu_util_mean {
        doc.gauge(
            "sadfix_bench_gpu_utilization_ratio",
            "Mean GPU utilisation (0 to 1) over the whole run.",
        )
        .value(util / 100.0);
    }
    if let Some(mb) = report.overall.gpu_mem_peak_mb {
        doc.gauge(
            "sadfix_bench_gpu_memory_peak_bytes",
            "Peak GPU memory in use over the whole run (the whole device).",
        )
        .value(mib_to_bytes(mb));
    }
    if let Some(mb) = report.device.tree_gpu_mem_peak_mb {
        doc.gauge(
            "sadfix_bench_process_gpu_memory_peak_bytes",
            "Peak GPU memory held by the run's own process tree (NVML per process).",
        )
        .value(mib_to_bytes(mb));
    }
    let verdicts = doc.gauge(
        "sadfix_bench_verdict_status",
        "Each bench verdict against the expectations: 0 pass, 1 warn, 2 fail, -1 skip.",
    );
    let mut seen: Vec<&str> = Vec::new();
    for verdict in &report.verdicts {
        if seen.contains(&verdict.id.as_str()) {
            continue;
        }
        seen.push(&verdict.id);
        let status = serde_name(&verdict.status);
        verdicts.sample(
            &[("verdict", &verdict.id), ("severity", severity(&status))],
            status_value(&status),
        );
    }
    doc
}
