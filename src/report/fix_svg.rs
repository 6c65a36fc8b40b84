//! The before and after runs as SVG: each run a row of labelled stage bands on one shared time
//! axis (seconds), the row titled with its device and wall time, the whole titled with the
//! verdict line and what the numbers are (simulated, GPU telemetry). Readable without the table.

use super::bench::provenance;
use super::svg::{esc, nice_step, tick_label};
use crate::fix::outcome::{FixReport, Run};
use std::fmt::Write;

const W: f64 = 960.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 24.0;
const ROW_H: f64 = 64.0;
const ROW_GAP: f64 = 40.0;
const BANDS: [&str; 2] = ["#cfe0f3", "#a9c7e8"];
const RENDERER: &str = "#2e7d32";

pub fn chart(doc: &FixReport) -> String {
    let rows: Vec<(&str, &Run)> = [("before", &doc.before), ("after", &doc.after)]
        .into_iter()
        .filter_map(|(l, r)| r.as_ref().map(|r| (l, r)))
        .collect();
    let mut title = vec![format!("sadfix fix: {}", doc.summary)];
    if let Some((_, last)) = rows.last() {
        title.extend(provenance(&last.bench));
    }
    let top = 24.0 + 18.0 * title.len() as f64;
    let height = top + rows.len().max(1) as f64 * (ROW_H + ROW_GAP) + 50.0;
    let end = rows.iter().map(|(_, r)| r.bench.wall_s).fold(0.1, f64::max);
    let x = |t: f64| LEFT + (W - LEFT - RIGHT) * t / end;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, line) in title.iter().enumerate() {
        let weight = if i == 0 { "bold" } else { "normal" };
        let _ = writeln!(
            s,
            r#"<text x="12" y="{}" font-weight="{weight}">{}</text>"#,
            20.0 + 18.0 * i as f64,
            esc(line)
        );
    }
    if rows.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="12" y="{}">no run was measured</text>"#,
            top + 20.0
        );
    }
    for (i, (label, run)) in rows.iter().enumerate() {
        let y = top + i as f64 * (ROW_H + ROW_GAP) + 18.0;
        let b = &run.bench;
        let state = if b.run.failed { ", FAILED" } else { "" };
        let _ = writeln!(
            s,
            r#"<text x="12" y="{:.0}" font-weight="bold">{label}: {}, {:.1} s{state}</text>"#,
            y + ROW_H / 2.0,
            esc(b.device.device),
            b.wall_s
        );
        for (j, stage) in b.stages.iter().enumerate() {
            let (x0, x1) = (x(stage.start_s), x(stage.end_s));
            let fill = if stage.name == "face_renderer" {
                RENDERER
            } else {
                BANDS[j % 2]
            };
            let _ = writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{ROW_H}" fill="{fill}" stroke="white"><title>{} {:.1} s</title></rect>"#,
                (x1 - x0).max(0.5),
                esc(stage.label),
                stage.duration_s
            );
            // A label goes inside the band where it fits, else it is left to the tooltip.
            let text = format!("{} {:.1} s", stage.label, stage.duration_s);
            if (x1 - x0) > 6.5 * text.len() as f64 {
                let colour = if fill == RENDERER { "white" } else { "black" };
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
                    x0 + 4.0,
                    y + ROW_H / 2.0 + 4.0,
                    esc(&text)
                );
            }
        }
    }
    axis(&mut s, top + rows.len() as f64 * (ROW_H + ROW_GAP), end, &x);
    s.push_str("</svg>\n");
    s
}

fn axis(s: &mut String, y: f64, end: f64, x: &dyn Fn(f64) -> f64) {
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#333"/>"##,
        W - RIGHT
    );
    let step = nice_step(end, 8.0);
    let mut t = 0.0;
    while t <= end + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{y:.1}" x2="{0:.1}" y2="{1:.1}" stroke="#333"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{3}</text>"##,
            x(t),
            y + 5.0,
            y + 18.0,
            tick_label(t, step)
        );
        t += step;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since the run started (s); the Face Renderer in green</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        y + 36.0
    );
}
