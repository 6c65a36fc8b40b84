//! The bench timeline as SVG: GPU and CPU utilisation over time, the stages as labelled bands,
//! axes with units, and a title that says when the numbers are replayed, synthetic, simulated
//! or missing. Readable without the table.

use crate::bench::outcome::{BenchReport, GpuTelemetry};
use std::fmt::Write;

const W: f64 = 960.0;
/// The height of the plot area; the title above it grows with the provenance lines.
const PLOT_H: f64 = 294.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const BOTTOM: f64 = 70.0;
/// Characters of 12 px sans-serif that fit between `LEFT` and the right edge.
const TITLE_WRAP: usize = 140;
/// The least distance between two labels written upwards (10 px text, plus a gap).
const UPRIGHT_GAP: f64 = 13.0;
const BANDS: [&str; 2] = ["#eef2f7", "#dde5ef"];
const GPU_COLOUR: &str = "#2e7d32";
const CPU_COLOUR: &str = "#1565c0";

/// Text escaped for SVG content and attribute values.
pub(super) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Split `text` at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A tick value with as many decimals as its step has (0.2 s steps: "0.6", 5 s steps: "15").
pub(super) fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{value:.decimals$}")
}

/// A tick step giving about `n` ticks over `span`.
pub(super) fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let unit = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * magnitude >= raw)
        .unwrap_or(10.0);
    unit * magnitude
}

pub fn timeline(report: &BenchReport) -> String {
    let end = report.wall_s.max(0.1);
    let cpu_max = report
        .samples
        .iter()
        .filter_map(|s| s.cpu_pct)
        .fold(100.0f64, f64::max);
    // A few percent over one core is sampling jitter; a second busy core gets its own band.
    let y_max = ((cpu_max - 10.0) / 100.0).ceil().max(1.0) * 100.0;
    // Every provenance line is shown (a replay of a simulated run without NVML has four or
    // more): the plot moves down rather than a line being dropped.
    let mut title = super::bench::provenance(report);
    if report.run.failed {
        // The picture of a failed run must say so without the table.
        let mut line = format!("the run FAILED: {}", report.run.ending.describe());
        if let Some(cause) = &report.run.cause {
            line.push_str(&format!("; {cause}"));
        }
        title.push(line);
    }
    let title_lines: Vec<String> = title.iter().flat_map(|l| wrap(l, TITLE_WRAP)).collect();
    let top = 44.0 + 16.0 * title_lines.len() as f64 + 4.0;
    let h = top + PLOT_H + BOTTOM;
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, top, top + PLOT_H);
    let x = |t: f64| x0 + (t / end).clamp(0.0, 1.0) * (x1 - x0);
    let y = |v: f64| y1 - (v / y_max).clamp(0.0, 1.0) * (y1 - y0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">sadfix bench: where the time went ({:.1} s)</text>"#,
        report.wall_s
    );
    for (i, line) in title_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#b71c1c">{}</text>"##,
            44.0 + 16.0 * i as f64,
            esc(line)
        );
    }

    // Short stages sit side by side (preprocess, 3DMM, mel, audio2coeff take well under a second):
    // their upright labels are pushed apart so none is written over another.
    let mut last_upright = f64::NEG_INFINITY;
    // Written after every band and series, so no later band hides a label pushed into it and
    // the lines pass behind the text; a white halo keeps it legible over them.
    let mut labels = String::new();
    for (i, stage) in report.stages.iter().enumerate() {
        let (a, b) = (x(stage.start_s), x(stage.end_s));
        let width = (b - a).max(0.5);
        let _ = writeln!(
            s,
            r#"<rect x="{a:.1}" y="{y0}" width="{width:.1}" height="{:.1}" fill="{}"><title>{} {:.1}-{:.1} s</title></rect>"#,
            y1 - y0,
            BANDS[i % 2],
            esc(stage.label),
            stage.start_s,
            stage.end_s
        );
        // Narrow bands get their label written upwards.
        let label = esc(stage.label);
        if width >= 7.0 * stage.label.len() as f64 {
            let _ = writeln!(
                labels,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#37474f">{label}</text>"##,
                a + width / 2.0,
                y0 + 14.0
            );
        } else {
            let lx = (a + width / 2.0 + 4.0).max(last_upright + UPRIGHT_GAP);
            last_upright = lx;
            // Below the row of level labels, so a long upright one never crosses them.
            let ly = y0 + 22.0;
            let _ = writeln!(
                labels,
                r##"<text x="{lx:.1}" y="{ly:.1}" transform="rotate(90 {lx:.1} {ly:.1})" font-size="10" fill="#37474f">{label}</text>"##
            );
        }
    }

    // Axes, grid and ticks.
    let _ = writeln!(
        s,
        r#"<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="black"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>"#
    );
    let ystep = nice_step(y_max, 5.0);
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{0:.1}" x2="{x1}" y2="{0:.1}" stroke="#90a4ae" stroke-width="0.5" stroke-dasharray="3 3"/><text x="{1}" y="{2:.1}" text-anchor="end">{v:.0}</text>"##,
            y(v),
            x0 - 6.0,
            y(v) + 4.0
        );
        v += ystep;
    }
    let xstep = nice_step(end, 10.0);
    // Multiples of the step, not a running sum: 0.2 added three times is 0.6000000000000001.
    let mut i = 0u32;
    while f64::from(i) * xstep <= end + 1e-9 {
        let t = f64::from(i) * xstep;
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" y1="{y1}" x2="{0:.1}" y2="{1}" stroke="black"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"#,
            x(t),
            y1 + 5.0,
            y1 + 18.0,
            tick_label(t, xstep)
        );
        i += 1;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">time since start (s)</text>"#,
        (x0 + x1) / 2.0,
        y1 + 36.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{0:.1}" transform="rotate(-90 16 {0:.1})" text-anchor="middle">utilisation (%; CPU in % of one core)</text>"#,
        (y0 + y1) / 2.0
    );

    // The series: GPU only where it was measured (or replayed), CPU of the child's tree.
    let series = |pick: fn(&crate::bench::record::Sample) -> Option<f64>| -> String {
        report
            .samples
            .iter()
            .filter_map(|p| pick(p).map(|v| format!("{:.1},{:.1}", x(p.t), y(v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cpu = series(|p| p.cpu_pct);
    if !cpu.is_empty() {
        let _ = writeln!(
            s,
            r#"<polyline points="{cpu}" fill="none" stroke="{CPU_COLOUR}" stroke-width="1.5"/>"#
        );
    }
    let gpu = series(|p| p.gpu_util);
    let gpu_legend = match report.telemetry.gpu {
        GpuTelemetry::Unavailable => {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14" fill="#b71c1c">GPU utilisation: unavailable (not zero)</text>"##,
                (x0 + x1) / 2.0,
                (y0 + y1) / 2.0
            );
            "GPU utilisation: unavailable"
        }
        GpuTelemetry::Replay => "GPU utilisation (replayed)",
        GpuTelemetry::Nvml => "GPU utilisation (NVML)",
    };
    if !gpu.is_empty() {
        let _ = writeln!(
            s,
            r#"<polyline points="{gpu}" fill="none" stroke="{GPU_COLOUR}" stroke-width="2"/>"#
        );
    }
    let _ = writeln!(
        s,
        r#"<g stroke="white" stroke-width="3" paint-order="stroke" stroke-linejoin="round">"#
    );
    s.push_str(&labels);
    s.push_str("</g>\n");
    let ly = h - 14.0;
    let _ = writeln!(
        s,
        r#"<line x1="{x0}" y1="{0}" x2="{1}" y2="{0}" stroke="{GPU_COLOUR}" stroke-width="2"/><text x="{2}" y="{3}">{gpu_legend}</text>"#,
        ly - 4.0,
        x0 + 24.0,
        x0 + 30.0,
        ly
    );
    let cx = x0 + 300.0;
    let _ = writeln!(
        s,
        r#"<line x1="{cx}" y1="{0}" x2="{1}" y2="{0}" stroke="{CPU_COLOUR}" stroke-width="1.5"/><text x="{2}" y="{3}">CPU of the generation's process tree</text>"#,
        ly - 4.0,
        cx + 24.0,
        cx + 30.0,
        ly
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::expect::Expectations;
    use crate::bench::{report_of, trace};

    fn replayed(name: &str) -> BenchReport {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/traces")
            .join(name);
        let record = trace::read(&dir).unwrap();
        report_of(
            &record,
            &Expectations::builtin(),
            Some(format!("fixtures/traces/{name}")),
            false,
        )
    }

    /// The x of every label written upwards, in order.
    fn upright_label_xs(svg: &str) -> Vec<f64> {
        svg.split(r#"transform="rotate(90 "#)
            .skip(1)
            .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn labels_of_short_stages_side_by_side_do_not_overlap() {
        let svg = timeline(&replayed("gpu-synthetic"));
        let xs = upright_label_xs(&svg);
        assert!(xs.len() >= 3, "several short stages: {xs:?}");
        for pair in xs.windows(2) {
            assert!(pair[1] - pair[0] >= UPRIGHT_GAP, "labels overlap: {xs:?}");
        }
        // No band is drawn over a label.
        let last_band = svg.rfind("<rect x=").unwrap();
        for label in [
            "preprocess (face detection)",
            "3DMM extraction",
            "mel spectrogram",
        ] {
            let at = svg.find(&format!(">{label}</text>"));
            assert!(at.is_some_and(|at| at > last_band), "{label} is hidden");
        }
    }

    #[test]
    fn a_failed_run_says_so_in_the_title() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces/cpu-fallback");
        let mut record = trace::read(&dir).unwrap();
        record.meta.ending = crate::bench::record::RunEnding::Exited { code: 1 };
        let report = report_of(&record, &Expectations::builtin(), None, false);
        let svg = timeline(&report);
        assert!(
            svg.contains(">the run FAILED: exited with code 1; inference.py exited with code 1<"),
            "{svg}"
        );
        assert!(!timeline(&replayed("cpu-fallback")).contains("FAILED"));
    }

    #[test]
    fn every_provenance_line_is_in_the_title_and_the_plot_starts_below_it() {
        let report = replayed("cpu-fallback");
        let svg = timeline(&report);
        let lines: Vec<String> = crate::report::bench::provenance(&report)
            .iter()
            .flat_map(|l| wrap(l, TITLE_WRAP))
            .collect();
        assert!(lines.len() >= 4, "replay, simulated, and a long reason");
        for line in &lines {
            assert!(svg.contains(&esc(line)), "missing from the title: {line}");
            assert!(line.len() <= TITLE_WRAP);
        }
        let last_title_y = 44.0 + 16.0 * (lines.len() - 1) as f64;
        let plot_top: f64 = svg
            .split(r#"<rect x=""#)
            .nth(1)
            .and_then(|r| r.split(r#"y=""#).nth(1))
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(plot_top > last_title_y, "the plot covers the title");
    }

    #[test]
    fn tick_labels_are_round_numbers() {
        assert_eq!(tick_label(0.2 + 0.2 + 0.2, 0.2), "0.6");
        assert_eq!(tick_label(1.5999999999999999, 0.2), "1.6");
        assert_eq!(tick_label(15.0, 5.0), "15");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
        // A two-second run: every label on the time axis is short.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces/cpu-fallback");
        let mut record = trace::read(&dir).unwrap();
        record.meta.wall_s = 2.0;
        let svg = timeline(&report_of(&record, &Expectations::builtin(), None, false));
        for label in svg.split(r#"text-anchor="middle">"#).skip(1) {
            let text = label.split('<').next().unwrap();
            if text.parse::<f64>().is_ok() {
                assert!(text.len() <= 4, "tick label {text}");
            }
        }
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(nice_step(34.0, 10.0), 5.0);
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(3.0, 10.0), 0.5);
    }
}
