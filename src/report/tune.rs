//! `sadfix tune` as text on stdout: the preflight, the trial table and the recommendation
//! (what goes to stderr is in `tune_progress`).

use crate::bench::outcome::BenchReport;
use crate::gpu::facts::GpuSource;
use crate::tune::outcome::TuneReport;
use crate::tune::preflight::Preflight;
use crate::tune::trial::{Trial, TrialStatus};
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

use super::bench::mb;

fn num(v: Option<f64>, digits: usize, unit: &str) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}{unit}"))
}

pub fn status_word(s: TrialStatus) -> &'static str {
    match s {
        TrialStatus::Ok => "ok",
        TrialStatus::Oom => "oom",
        TrialStatus::Failed => "FAILED",
        TrialStatus::Skipped => "skipped",
    }
}

/// The whole result for stdout.
pub fn render(doc: &TuneReport) -> String {
    let x = &doc.extra;
    let mut out = format!("sadfix tune ({})\n", x.install);
    if x.simulated {
        out.push_str(
            "  the simulated install (a test double): these figures are not SadTalker's\n",
        );
    }
    out.push('\n');
    out.push_str(&preflight(&doc.preflight));
    if x.dry_run {
        out.push_str("\n--dry-run: no trial was run\n");
        return out;
    }
    out.push_str(&format!(
        "\ntrials: the first {:.1} s of the audio ({} frames), one at a time except the parallel ones",
        x.clip_s, x.clip_frames
    ));
    if let Some(dir) = &x.work_dir {
        out.push_str(&format!("; results in {dir}"));
    }
    out.push('\n');
    out.push_str(&device_line(doc));
    out.push_str(&trial_table(doc).to_string());
    out.push('\n');
    for t in doc.trials.iter().filter(|t| t.note.is_some()) {
        out.push_str(&format!(
            "  batch {} x {}: {}\n",
            t.batch_size,
            t.parallel,
            t.note.as_deref().unwrap_or_default()
        ));
    }
    out.push('\n');
    out.push_str(&recommendation(doc));
    if let Some(pct) = x.overhead_pct {
        out.push_str(&format!(
            "\ntune's own overhead: {pct:.2}% of a trial (median; everything but the generation)\n"
        ));
    }
    out
}

fn preflight(p: &Preflight) -> String {
    let mut out = format!(
        "preflight: {} — {:.1} s of audio, {} frames at 25 fps, --size {}\n",
        p.audio, p.audio_s, p.frames, p.size
    );
    let gpu = match &p.gpu {
        Err(reason) => {
            out.push_str(&format!(
                "  GPU facts unavailable: {reason}; nothing is predicted about GPU memory\n"
            ));
            return out;
        }
        Ok(g) => g,
    };
    let source = match &gpu.source {
        GpuSource::Nvml => "NVML".to_string(),
        GpuSource::Replay(file) => {
            format!("a replayed snapshot ({file}), not this machine's GPU now")
        }
    };
    out.push_str(&format!(
        "  GPU {}: {}, {:.0} MiB total, {:.0} MiB free (from {source})\n",
        gpu.index, gpu.name, gpu.total_mb, gpu.free_mb
    ));
    out.push_str(&format!("  chosen: {}\n", gpu.chosen_by));
    out.push_str(&format!(
        "  a run may use {} ({:.0}% of the free memory; --headroom {:.0}%)\n",
        mb(p.budget_mb),
        100.0 - p.headroom_pct,
        p.headroom_pct
    ));
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["batch", "predicted peak, full audio", "from", "fits"]);
    for b in &p.per_batch {
        let fits = match b.fits {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "n/a",
        };
        let from = if b.measured { "trial" } else { "model" };
        table.add_row([
            b.batch_size.to_string(),
            mb(b.predicted_peak_mb),
            from.into(),
            fits.into(),
        ]);
    }
    for col in [0, 1] {
        if let Some(c) = table.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.push_str(&table.to_string());
    out.push('\n');
    let fitting = p.fitting();
    if fitting.is_empty() {
        out.push_str("  the full clip will NOT fit at any batch size; what to do:\n");
        for line in &p.advice {
            out.push_str(&format!("  - {line}\n"));
        }
    } else {
        let list: Vec<String> = fitting.iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "  the full clip fits at batch {}\n",
            list.join(", ")
        ));
    }
    out
}

/// Where the trials ran, by bench's judgement, and what that makes of the tuning.
fn device_line(doc: &TuneReport) -> String {
    let Some(d) = &doc.device else {
        return String::new();
    };
    let how = if d.how.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.how.join("; "))
    };
    match d.device {
        "cuda" => format!("device: the trials ran on the GPU{how}\n"),
        "cpu" => format!(
            "device: the trials ran on the CPU{how}\n  this is a CPU tuning: no GPU tuning was done (sadfix doctor finds why SadTalker is not on the GPU)\n"
        ),
        "mixed" => format!(
            "device: some trials ran on the GPU and some on the CPU{how}\n  the figures do not compare: no GPU tuning can be read from them\n"
        ),
        _ => "device: unknown (no device claim, GPU memory figure or CPU tell): whether this is a GPU tuning cannot be said\n".to_string(),
    }
}

fn trial_table(doc: &TuneReport) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "batch",
            "at once",
            "status",
            "render s/frame",
            "wall",
            "videos/min",
            "GPU mem peak",
            "GPU util",
            "CPU",
        ]);
    for t in &doc.trials {
        table.add_row(row(t));
    }
    for col in [0, 1, 3, 4, 5, 6, 7, 8] {
        if let Some(c) = table.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn row(t: &Trial) -> Vec<String> {
    vec![
        t.batch_size.to_string(),
        t.parallel.to_string(),
        status_word(t.status).into(),
        num(t.render_s_per_frame, 3, " s"),
        num(t.wall_s, 1, " s"),
        num(t.videos_per_min, 2, ""),
        mb(t.gpu_mem_peak_mb),
        num(t.gpu_util_mean, 0, "%"),
        num(t.cpu_mean, 0, "%"),
    ]
}

fn recommendation(doc: &TuneReport) -> String {
    let x = &doc.extra;
    let Some(r) = &doc.recommendation else {
        if doc.trials.iter().any(|t| t.status == TrialStatus::Failed) {
            let mut out = "no recommendation: a trial failed\n".to_string();
            if let Some(failed) = doc.trials.iter().find_map(|t| t.failure.as_deref()) {
                for line in failure(failed) {
                    out.push_str(&format!("  {line}\n"));
                }
            }
            return out;
        }
        let mut out = "no recommendation: no measured batch size fits the full audio\n".to_string();
        for line in &doc.preflight.advice {
            out.push_str(&format!("  - {line}\n"));
        }
        return out;
    };
    let against = match (r.speedup, r.default_batch_size) {
        (Some(s), Some(d)) => {
            format!(": {s:.2}x the videos per minute of batch {d} x 1 (the install's default)")
        }
        (None, Some(d)) => {
            format!(" (the install's default, batch {d}, was not measured: no speed-up to state)")
        }
        (_, None) => " (the install's default batch size was not found)".into(),
    };
    let device = match doc.device.as_ref().map(|d| d.device) {
        Some("cpu") => " ON THE CPU (not a GPU tuning)",
        Some("mixed") => " from trials on different devices (not a GPU tuning)",
        _ => "",
    };
    let mut out = format!(
        "recommended{device}: batch {} x {} at once{against}, {:.2} videos/min\n",
        r.batch_size, r.parallel, r.videos_per_min
    );
    if let Some(need) = r.predicted_mb {
        out.push_str(&format!(
            "  predicted peak for the full audio: {need:.0} MiB\n"
        ));
    }
    if r.by_time_alone {
        let why = x.gpu_unavailable.as_deref().unwrap_or("no GPU telemetry");
        out.push_str(&format!(
            "  ranked by time alone: no GPU telemetry during the trials ({why})\n"
        ));
    }
    match &x.applied {
        Some(plan) if plan.changes.is_empty() => out.push_str(&format!(
            "  --apply: batch {} already is the default; nothing changed\n",
            r.batch_size
        )),
        Some(plan) => {
            out.push_str(&format!(
                "  --apply: the --batch_size default is now {} (undo: sadfix patch --revert)\n",
                r.batch_size
            ));
            out.push_str(&super::patch::render_diff(plan, false));
        }
        None if x.default_batch_size != Some(r.batch_size) => out.push_str(&format!(
            "  to make it the default: sadfix tune --apply, or sadfix patch --batch-size {}\n",
            r.batch_size
        )),
        None => {}
    }
    if let Some(cmd) = &x.parallel_command {
        out.push_str(&format!(
            "  {} at once, each with its own result folder:\n    {cmd}\n",
            r.parallel
        ));
    }
    out
}

/// A failed trial's diagnosis, as bench gives it.
fn failure(report: &BenchReport) -> Vec<String> {
    super::bench::failure_lines(report, "a trial")
}
