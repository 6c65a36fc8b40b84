//! The `sadfix doctor` table: checks grouped by area, a mark per status, the fix under every
//! problem; colour only when asked for.

use crate::doctor::check::{Check, DoctorReport, Status};
use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

/// How many evidence lines a problem shows in the table (`--json` has them all).
const EVIDENCE_SHOWN: usize = 4;

/// Render the report as text for a terminal or a pipe.
pub fn render(report: &DoctorReport, color: bool) -> String {
    let mut out = format!(
        "SadTalker: {} ({})\n",
        report.install.root.display(),
        report.install.layout
    );
    match &report.python {
        Some(p) => out.push_str(&format!(
            "Python:    {}{} ({})\n",
            p.path.display(),
            p.version
                .as_ref()
                .map_or(String::new(), |v| format!(" {v}")),
            p.reason
        )),
        None => out.push_str("Python:    none found\n"),
    }
    if report.gpu_source.starts_with("replay") {
        out.push_str(&format!(
            "GPU facts: {} (not this machine's NVML)\n",
            report.gpu_source
        ));
    }
    out.push('\n');
    for line in table(&report.checks, color).to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&totals(report));
    if report
        .checks
        .iter()
        .any(|c| c.status == Status::Interrupted)
    {
        out.push_str(
            "sadfix was interrupted: the checks marked INTERRUPTED were not judged; run `sadfix doctor` again for them\n",
        );
    }
    out
}

fn table(checks: &[Check], color: bool) -> Table {
    let mut table = Table::new();
    table
        // No rules: one long finding would stretch them across the screen.
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec!["area", "status", "check", "finding"]);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let mut last_area = None;
    for check in checks {
        let area = if last_area == Some(check.area) {
            String::new()
        } else {
            check.area.title().to_string()
        };
        last_area = Some(check.area);
        table.add_row(vec![
            Cell::new(area),
            mark(check.status, color),
            Cell::new(&check.id),
            Cell::new(finding(check)),
        ]);
    }
    table
}

fn finding(check: &Check) -> String {
    let mut text = check.summary.clone();
    let problem = check.status != Status::Ok && check.status != Status::Skip;
    if problem {
        for line in check.evidence.iter().take(EVIDENCE_SHOWN) {
            text.push_str(&format!("\n  {line}"));
        }
    }
    if let Some(fix) = &check.fix {
        text.push_str(&format!("\n  fix: {fix}"));
    }
    text
}

fn mark(status: Status, color: bool) -> Cell {
    let text = match status {
        Status::Ok => "ok",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "skip",
        Status::Timeout => "TIMEOUT",
        Status::Interrupted => "INTERRUPTED",
    };
    let cell = Cell::new(text);
    if !color {
        return cell;
    }
    match status {
        Status::Ok => cell.fg(Color::Green),
        Status::Warn => cell.fg(Color::Yellow).add_attribute(Attribute::Bold),
        Status::Fail | Status::Timeout => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Skip => cell.fg(Color::DarkGrey),
        Status::Interrupted => cell.fg(Color::Magenta).add_attribute(Attribute::Bold),
    }
}

fn totals(report: &DoctorReport) -> String {
    let count = |s: Status| report.checks.iter().filter(|c| c.status == s).count();
    let mut parts = Vec::new();
    for status in [
        Status::Fail,
        Status::Timeout,
        Status::Interrupted,
        Status::Warn,
        Status::Ok,
        Status::Skip,
    ] {
        let n = count(status);
        if n > 0 {
            parts.push(format!("{n} {}", status.label()));
        }
    }
    format!(
        "{} in {:.1} s\n",
        parts.join(", "),
        report.elapsed_ms as f64 / 1000.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::check::{Area, InstallSummary};

    fn report(checks: Vec<Check>) -> DoctorReport {
        DoctorReport {
            schema_version: 1,
            install: InstallSummary {
                root: "/x/SadTalker".into(),
                layout: "standalone clone".into(),
                host: None,
            },
            python: None,
            gpu_source: "replay: snap.json".into(),
            platform: Default::default(),
            checks,
            elapsed_ms: 1234,
        }
    }

    #[test]
    fn problems_carry_their_fix_and_areas_are_named_once() {
        let checks = vec![
            Check::new("torch.build", Area::Torch, Status::Fail, "CPU-only torch")
                .evidence("torch.version.cuda = None")
                .fix("pip install torch"),
            Check::new("cuda.available", Area::Torch, Status::Ok, "CUDA works"),
        ];
        let text = render(&report(checks), false);
        assert!(text.contains("fix: pip install torch"), "{text}");
        assert!(text.contains("torch.version.cuda = None"));
        assert_eq!(text.matches("torch and CUDA").count(), 1);
        assert!(text.contains("GPU facts: replay: snap.json"));
        assert!(text.contains("1 fail, 1 ok in 1.2 s"));
        assert!(!text.contains('\u{1b}'), "no colour was asked for");
    }

    #[test]
    fn interrupted_checks_are_marked_and_the_rerun_named() {
        let checks = vec![
            Check::new(
                "cuda.available",
                Area::Torch,
                Status::Interrupted,
                "not judged",
            ),
            Check::new("ffmpeg", Area::Tools, Status::Ok, "ffmpeg 6"),
        ];
        let report = report(checks);
        assert!(!report.failed());
        let text = render(&report, false);
        assert!(text.contains("INTERRUPTED  cuda.available"), "{text}");
        assert!(text.contains("1 interrupted, 1 ok in 1.2 s"), "{text}");
        assert!(text.contains("run `sadfix doctor` again"), "{text}");
    }

    #[test]
    fn colour_marks_failures_only_when_enabled() {
        let checks = vec![Check::new("ffmpeg", Area::Tools, Status::Fail, "missing")];
        assert!(render(&report(checks), true).contains('\u{1b}'));
    }
}
