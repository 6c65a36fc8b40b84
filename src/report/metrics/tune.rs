//! `tune`'s series: the recommendation (batch size, parallel runs, speed-up against the
//! install's default, applied or not), each trial's throughput and memory, and the preflight's
//! prediction per batch size. A replayed GPU snapshot and the simulated install are named in
//! `sadfix_tune_run_info`'s labels.

use super::{flag, mib_to_bytes, one_if, serde_name, MetricsDoc};
use crate::gpu::facts::GpuSource;
use crate::tune::outcome::TuneReport;
use std::time::SystemTime;

pub fn tune(report: &TuneReport, now: SystemTime) -> MetricsDoc {
    let mut doc = MetricsDoc::for_command("tune", now);
    let pre = &report.preflight;
    let gpu_source = match &pre.gpu {
        Ok(facts) if matches!(facts.source, GpuSource::Replay(_)) => "replay",
        Ok(_) => "nvml",
        Err(_) => "unavailable",
    };
    doc.gauge(
        "sadfix_tune_run_info",
        "The tune run: where the GPU memory figures came from (nvml, replay: a recorded snapshot, unavailable), the device its trials ran on (cuda, cpu, mixed, unknown; none when no trial ran: a cpu tuning is not a GPU tuning), simulated true for trials on sadfix's simulated install (a test double), dry_run true when only the preflight ran.",
    )
    .sample(
        &[
            ("gpu_source", gpu_source),
            ("device", report.device.as_ref().map_or("none", |d| d.device)),
            ("simulated", flag(report.extra.simulated)),
            ("dry_run", flag(report.extra.dry_run)),
        ],
        1.0,
    );
    if let Some(rec) = &report.recommendation {
        doc.gauge(
            "sadfix_tune_recommended_batch_size",
            "The batch size tune recommends.",
        )
        .value(rec.batch_size as f64);
        doc.gauge(
            "sadfix_tune_recommended_parallel",
            "How many generations at once tune recommends.",
        )
        .value(rec.parallel as f64);
        if let Some(speedup) = rec.speedup {
            doc.gauge(
                "sadfix_tune_speedup_ratio",
                "Videos per minute of the recommendation against the install's default batch size at one run.",
            )
            .value(speedup);
        }
        doc.gauge(
            "sadfix_tune_recommendation_applied",
            "Whether --apply made the recommended batch size the install's default (1).",
        )
        .value(one_if(rec.applied));
    }
    if let Some(bs) = report.extra.default_batch_size {
        doc.gauge(
            "sadfix_tune_default_batch_size",
            "The install's batch size default before tune.",
        )
        .value(bs as f64);
    }
    doc.gauge(
        "sadfix_tune_audio_seconds",
        "Length of the audio tune predicted for.",
    )
    .value(pre.audio_s);
    if let Some(mb) = pre.gpu_free_mb {
        doc.gauge(
            "sadfix_tune_gpu_free_bytes",
            "GPU 0's free memory before the trials.",
        )
        .value(mib_to_bytes(mb));
    }
    for fit in &pre.per_batch {
        let bs = fit.batch_size.to_string();
        if let Some(mb) = fit.predicted_peak_mb {
            doc.gauge(
                "sadfix_tune_predicted_peak_bytes",
                "Predicted peak GPU memory of the Face Renderer for the full audio, per batch size.",
            )
            .sample(&[("batch_size", &bs)], mib_to_bytes(mb));
        }
        if let Some(fits) = fit.fits {
            doc.gauge(
                "sadfix_tune_fits",
                "Whether the full audio is predicted to fit the memory budget at each batch size (1).",
            )
            .sample(&[("batch_size", &bs)], one_if(fits));
        }
    }
    let mut seen: Vec<(u32, u32)> = Vec::new();
    for trial in &report.trials {
        if seen.contains(&(trial.batch_size, trial.parallel)) {
            continue;
        }
        seen.push((trial.batch_size, trial.parallel));
        let (bs, p) = (trial.batch_size.to_string(), trial.parallel.to_string());
        let labels = [("batch_size", bs.as_str()), ("parallel", p.as_str())];
        let status = serde_name(&trial.status);
        doc.gauge(
            "sadfix_tune_trial_info",
            "Each trial (batch size, generations at once) and how it came out: ok, oom, failed, skipped.",
        )
        .sample(&[labels[0], labels[1], ("status", &status)], 1.0);
        if let Some(vpm) = trial.videos_per_min {
            doc.gauge(
                "sadfix_tune_trial_videos_per_second",
                "Videos finished per second in each trial, all parallel runs together.",
            )
            .sample(&labels, vpm / 60.0);
        }
        if let Some(wall) = trial.wall_s {
            doc.gauge("sadfix_tune_trial_wall_seconds", "Wall time of each trial.")
                .sample(&labels, wall);
        }
        if let Some(mb) = trial.gpu_mem_peak_mb {
            doc.gauge(
                "sadfix_tune_trial_gpu_memory_peak_bytes",
                "Peak GPU memory of each trial's process trees, summed over parallel runs.",
            )
            .sample(&labels, mib_to_bytes(mb));
        }
    }
    doc
}
