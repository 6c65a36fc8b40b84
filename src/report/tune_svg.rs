//! The tune chart as SVG: videos per minute (bars) and peak GPU memory (points: measured in the
//! trial; line: predicted for the full audio) against batch size, the GPU's memory and the
//! budget as lines, the winner marked, and a title that says where the figures come from.

use super::svg::esc;
use crate::gpu::facts::GpuSource;
use crate::tune::outcome::TuneReport;
use crate::tune::trial::TrialStatus;
use std::fmt::Write;

const W: f64 = 860.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 80.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 60.0;
const BAR: &str = "#1565c0";
const MEM: &str = "#c62828";
const WIN: &str = "#2e7d32";

/// The chart; readable without the table.
pub fn chart(doc: &TuneReport) -> String {
    let p = &doc.preflight;
    let sizes: Vec<u32> = p.per_batch.iter().map(|b| b.batch_size).collect();
    let single = |bs: u32| {
        doc.trials
            .iter()
            .find(|t| t.batch_size == bs && t.parallel == 1)
    };
    let vpm_max = doc
        .trials
        .iter()
        .filter_map(|t| t.videos_per_min)
        .fold(0.0, f64::max)
        .max(1e-9);
    let gpu = p.gpu.as_ref().ok();
    let mut mem_max = p
        .per_batch
        .iter()
        .filter_map(|b| b.predicted_peak_mb)
        .fold(0.0, f64::max);
    for t in &doc.trials {
        mem_max = mem_max.max(t.gpu_mem_peak_mb.unwrap_or(0.0));
    }
    if let Some(g) = gpu {
        mem_max = mem_max.max(g.total_mb);
    }
    // Without any memory figure the right axis would be a scale of nothing: it is left out.
    let has_memory = mem_max > 0.0;
    let mem_max = (mem_max * 1.1).max(1.0);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / sizes.len().max(1) as f64;
    let x_of = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y_vpm = |v: f64| TOP + plot_h * (1.0 - v / (vpm_max * 1.15));
    let y_mem = |m: f64| TOP + plot_h * (1.0 - m / mem_max);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let mut title = format!(
        "sadfix tune: {:.1} s of audio, {} frames, --size {}",
        p.audio_s, p.frames, p.size
    );
    if doc.extra.simulated {
        title.push_str(" — simulated install (a test double)");
    }
    if doc.on_cpu() {
        title.push_str(" — trials ON THE CPU: not a GPU tuning");
    }
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="15">{}</text>"#,
        esc(&title)
    );
    let source = match gpu.map(|g| &g.source) {
        Some(GpuSource::Nvml) => "GPU memory from NVML".to_string(),
        Some(GpuSource::Replay(f)) => format!("GPU memory from a replayed snapshot ({f})"),
        None => "no GPU facts: memory not predicted".to_string(),
    };
    let telemetry = match &doc.extra.gpu_unavailable {
        Some(_) => "; no GPU telemetry in the trials: ranked by time alone",
        None => "",
    };
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="40" fill="#555">{}</text>"##,
        esc(&format!("{source}{telemetry}"))
    );
    // Axes.
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="#333"/>"##,
        TOP + plot_h
    );
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="#333"/>"##,
        TOP + plot_h,
        LEFT + plot_w
    );
    let _ = write!(
        s,
        r##"<line x1="{0}" y1="{TOP}" x2="{0}" y2="{1}" stroke="#333"/>"##,
        LEFT + plot_w,
        TOP + plot_h
    );
    for k in 0..=4 {
        let v = vpm_max * 1.15 * k as f64 / 4.0;
        let m = mem_max * k as f64 / 4.0;
        let y = TOP + plot_h * (1.0 - k as f64 / 4.0);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" fill="{BAR}">{v:.1}</text>"#,
            LEFT - 6.0,
            y + 4.0
        );
        if has_memory {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" fill="{MEM}">{m:.0}</text>"#,
                LEFT + plot_w + 6.0,
                y + 4.0
            );
        }
    }
    if !has_memory {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{MEM}">GPU memory: neither measured nor predicted here (no GPU facts, no GPU telemetry)</text>"#,
            LEFT + plot_w / 2.0,
            TOP + 16.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="14" y="{}" fill="{BAR}" transform="rotate(-90 14 {0})" text-anchor="middle">videos per minute (1 at once)</text>"#,
        TOP + plot_h / 2.0
    );
    let _ = write!(
        s,
        r#"<text x="{0}" y="{1}" fill="{MEM}" transform="rotate(90 {0} {1})" text-anchor="middle">GPU memory, MiB</text>"#,
        W - 14.0,
        TOP + plot_h / 2.0
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">batch size</text>"#,
        LEFT + plot_w / 2.0,
        H - 14.0
    );
    // GPU memory and budget.
    if let Some(g) = gpu {
        let y = y_mem(g.total_mb);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#333" stroke-dasharray="6 4"/>"##,
            LEFT + plot_w
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">GPU memory {:.0} MiB</text>"#,
            LEFT + plot_w - 4.0,
            y - 4.0,
            g.total_mb
        );
        if let Some(b) = p.budget_mb {
            let y = y_mem(b);
            let _ = write!(
                s,
                r#"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="{MEM}" stroke-dasharray="2 3"/>"#,
                LEFT + plot_w
            );
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end" fill="{MEM}">budget {b:.0} MiB</text>"#,
                LEFT + plot_w - 4.0,
                y + 14.0
            );
        }
    }
    let winner = doc.recommendation.as_ref().map(|r| r.batch_size);
    let mut line = Vec::new();
    for (i, &bs) in sizes.iter().enumerate() {
        let x = x_of(i);
        let _ = write!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle">{bs}</text>"#,
            TOP + plot_h + 18.0
        );
        let t = single(bs);
        match t.map(|t| (t.status, t.videos_per_min)) {
            Some((TrialStatus::Ok, Some(v))) => {
                let y = y_vpm(v);
                let fill = if winner == Some(bs) { WIN } else { BAR };
                let _ = write!(
                    s,
                    r#"<rect x="{}" y="{y}" width="{}" height="{}" fill="{fill}" opacity="0.8"/>"#,
                    x - slot * 0.3,
                    slot * 0.6,
                    TOP + plot_h - y
                );
                let _ = write!(
                    s,
                    r#"<text x="{x}" y="{}" text-anchor="middle">{v:.2}</text>"#,
                    y - 4.0
                );
                if winner == Some(bs) {
                    let _ = write!(
                        s,
                        r#"<text x="{x}" y="{}" text-anchor="middle" fill="{WIN}" font-weight="bold">recommended</text>"#,
                        y - 18.0
                    );
                }
            }
            Some((status, _)) => {
                let word = match status {
                    TrialStatus::Oom => "out of memory",
                    TrialStatus::Skipped => "would not fit",
                    _ => "failed",
                };
                let _ = write!(
                    s,
                    r#"<text x="{x}" y="{}" text-anchor="middle" fill="{MEM}">{word}</text>"#,
                    TOP + plot_h - 8.0
                );
            }
            None => {}
        }
        if let Some(m) = t.and_then(|t| t.gpu_mem_peak_mb) {
            let _ = write!(
                s,
                r#"<circle cx="{x}" cy="{}" r="4" fill="{MEM}"/>"#,
                y_mem(m)
            );
        }
        if let Some(m) = p.per_batch[i].predicted_peak_mb {
            line.push(format!("{x:.1},{:.1}", y_mem(m)));
        }
    }
    if !line.is_empty() {
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{MEM}" stroke-width="2"/>"#,
            line.join(" ")
        );
    }
    // Legend.
    let ly = TOP - 14.0;
    let _ = write!(
        s,
        r#"<rect x="{LEFT}" y="{}" width="10" height="10" fill="{BAR}"/><text x="{}" y="{ly}">videos/min</text>"#,
        ly - 9.0,
        LEFT + 14.0
    );
    let _ = write!(
        s,
        r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{MEM}" stroke-width="2"/><text x="{3}" y="{ly}">predicted peak, full audio</text>"#,
        LEFT + 100.0,
        ly - 4.0,
        LEFT + 120.0,
        LEFT + 124.0
    );
    let _ = write!(
        s,
        r#"<circle cx="{}" cy="{}" r="4" fill="{MEM}"/><text x="{}" y="{ly}">measured peak, trial</text>"#,
        LEFT + 300.0,
        ly - 4.0,
        LEFT + 308.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::facts::GpuFacts;
    use crate::gpu::memory::RunCost;
    use crate::tune::audio::AudioFacts;
    use crate::tune::outcome::Extra;
    use crate::tune::preflight::{assess, Inputs};
    use crate::tune::recommend::Recommendation;
    use crate::tune::trial::Trial;

    fn doc(gpu: Result<GpuFacts, String>) -> TuneReport {
        let audio = AudioFacts {
            path: "talk.wav".into(),
            seconds: 10.0,
            frames: 250,
        };
        let preflight = assess(
            Inputs {
                audio: &audio,
                size: 256,
                batch_sizes: &[1, 2, 4, 8],
                headroom_pct: 15.0,
                gpu,
                host_ram_free_mb: None,
            },
            &|bs| RunCost::prior(bs, 256),
        );
        let mut trials: Vec<Trial> = [(1, 10.0), (2, 12.0), (4, 15.0)]
            .into_iter()
            .map(|(bs, vpm)| {
                let mut t = Trial::blank(bs, 1, TrialStatus::Ok);
                t.videos_per_min = Some(vpm);
                t
            })
            .collect();
        let oom = Trial::blank(8, 1, TrialStatus::Oom);
        trials.push(oom);
        TuneReport {
            schema_version: 1,
            device: None,
            preflight,
            trials,
            recommendation: Some(Recommendation {
                batch_size: 4,
                parallel: 1,
                speedup: Some(1.25),
                applied: false,
                videos_per_min: 15.0,
                default_batch_size: Some(2),
                by_time_alone: true,
                predicted_mb: None,
            }),
            extra: Extra {
                simulated: true,
                gpu_unavailable: Some("no NVML".into()),
                ..Extra::default()
            },
        }
    }

    #[test]
    fn the_chart_marks_the_winner_the_oom_and_the_gpus_memory() {
        let gpu = GpuFacts {
            index: 0,
            chosen_by: "the only GPU".into(),
            name: "test".into(),
            total_mb: 6144.0,
            free_mb: 6144.0,
            source: GpuSource::Replay("gpu.json".into()),
            others: vec![],
        };
        let svg = chart(&doc(Ok(gpu)));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("recommended"));
        assert!(svg.contains("out of memory"));
        assert!(svg.contains("GPU memory 6144 MiB"));
        assert!(svg.contains("replayed snapshot (gpu.json)"));
        assert!(svg.contains("simulated install"));
        assert!(svg.contains("ranked by time alone"));
        assert!(!svg.contains("ON THE CPU"));
        let mut on_cpu = doc(Err("no NVML".into()));
        on_cpu.device = Some(crate::bench::device::RunsDevice {
            device: "cpu",
            how: vec!["the output says cpu".into()],
        });
        assert!(chart(&on_cpu).contains("trials ON THE CPU: not a GPU tuning"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            3 + 1,
            "three bars and the legend's swatch"
        );
    }

    #[test]
    fn without_any_memory_figure_the_chart_says_so() {
        let svg = chart(&doc(Err("no NVML".into())));
        assert!(svg.contains("neither measured nor predicted"));
        assert!(!svg.contains("budget"));
    }
}
