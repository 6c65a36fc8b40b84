//! The `sadfix bench` report as text: a title that says what the numbers are (live, replayed,
//! synthetic, simulated, GPU unavailable), the stage table, the verdicts, and on a failed run
//! its cause and the last lines of stderr. Also the live progress line (stderr, terminals only).

use crate::bench::expect::Status;
use crate::bench::outcome::{BenchReport, GpuTelemetry, Mode};
use crate::bench::record::Origin;
use crate::bench::stages::StageSpan;
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};
use std::io::Write;
use std::path::Path;

/// What the numbers are, in one or two lines; shared with the SVG title.
pub fn provenance(report: &BenchReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let (Mode::Replay, Some(replay)) = (report.mode, &report.replay) {
        let origin = match replay.origin {
            Origin::Synthetic => "a SYNTHETIC trace (written by hand, not measured)",
            Origin::Recorded => "a recorded trace",
        };
        lines.push(format!(
            "REPLAY of {origin}: {} (nothing was run)",
            replay.trace
        ));
    }
    if report.simulated {
        lines.push("SIMULATED install: sadfix's test double, not SadTalker".to_string());
    }
    let gpu = match report.telemetry.gpu {
        GpuTelemetry::Nvml => {
            let t = &report.telemetry;
            let device = match (t.gpu_index, t.device.as_deref()) {
                (Some(i), Some(name)) => format!("GPU {i}: {name}"),
                (Some(i), None) => format!("GPU {i}"),
                (None, Some(name)) => name.to_string(),
                (None, None) => "no GPU sampled".to_string(),
            };
            match t.gpu_chosen_by.as_deref() {
                Some(why) => format!("GPU telemetry: NVML ({device}; {why})"),
                None => format!("GPU telemetry: NVML ({device})"),
            }
        }
        GpuTelemetry::Replay => format!(
            "GPU telemetry {}",
            report.telemetry.reason.as_deref().unwrap_or("replayed")
        ),
        GpuTelemetry::Unavailable => format!(
            "GPU telemetry unavailable: {}",
            report
                .telemetry
                .reason
                .as_deref()
                .unwrap_or("unknown reason")
        ),
    };
    lines.push(gpu);
    lines
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.0}%"))
}

/// How a failed run ended, its cause, what was seen, what to do and the last lines of stderr,
/// one line each, headed "`what` FAILED: ..." (`the run` for bench, `a trial` for tune).
pub fn failure_lines(report: &BenchReport, what: &str) -> Vec<String> {
    // SadTalker exits 0 after "No face is detected": the failure is in what it printed.
    let how = if report.run.ending.succeeded() {
        "exited with code 0, but its output shows it failed".to_string()
    } else {
        report.run.ending.describe()
    };
    let mut out = vec![format!("{what} FAILED: {how}")];
    for (label, text) in [
        ("cause", &report.run.cause),
        ("seen", &report.run.evidence),
        ("next", &report.run.next),
    ] {
        if let Some(text) = text {
            out.push(format!("  {label}: {text}"));
        }
    }
    out.push("  last lines of stderr:".into());
    out.extend(report.run.stderr_tail.iter().map(|l| format!("    {l}")));
    out
}

/// A memory figure in MiB, or "n/a".
pub(super) fn mb(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.0} MiB"))
}

/// The whole report as text for stdout; the verdicts' status coloured as `--color` decided.
pub fn render(report: &BenchReport) -> String {
    let mut out = String::new();
    out.push_str("sadfix bench\n");
    for line in provenance(report) {
        out.push_str(&format!("  {line}\n"));
    }
    out.push('\n');
    out.push_str(&stage_table(report).to_string());
    out.push_str("\n\n");
    out.push_str(&figures(report));
    out.push('\n');
    out.push_str(&verdict_table(report, super::color_enabled()).to_string());
    out.push('\n');
    for v in &report.verdicts {
        if let (Status::Warn | Status::Fail, Some(hint)) = (v.status, &v.hint) {
            out.push_str(&format!("  {} {}: {hint}\n", status_word(v.status), v.id));
        }
        if let (Status::Warn | Status::Fail | Status::Pass, Some(note)) = (v.status, &v.note) {
            out.push_str(&format!("  note on {}: {note}\n", v.id));
        }
    }
    out.push_str(&skipped(report));
    if report.run.failed {
        out.push('\n');
        for line in failure_lines(report, "the run") {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if let Some(dir) = &report.recorded_to {
        out.push_str(&format!(
            "\ntrace recorded in {dir} (replay with sadfix bench --replay {dir})\n"
        ));
    }
    out
}

fn stage_table(report: &BenchReport) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "stage",
            "start",
            "duration",
            "iterations",
            "rate",
            "GPU mean",
            "GPU p95",
            "GPU mem peak",
            "CPU mean",
        ]);
    for s in &report.stages {
        let iters = match (s.done, s.total) {
            (Some(d), Some(t)) => format!("{d}/{t}"),
            _ => String::new(),
        };
        table.add_row([
            s.label.to_string(),
            format!("{:.1} s", s.start_s),
            format!("{:.1} s", s.duration_s),
            iters,
            s.rate.clone().unwrap_or_default(),
            pct(s.gpu_util_mean),
            pct(s.gpu_util_p95),
            mb(s.gpu_mem_peak_mb),
            pct(s.cpu_mean),
        ]);
    }
    let o = &report.overall;
    table.add_row([
        "whole run".to_string(),
        String::new(),
        format!("{:.1} s", report.wall_s),
        String::new(),
        String::new(),
        pct(o.gpu_util_mean),
        pct(o.gpu_util_p95),
        mb(o.gpu_mem_peak_mb),
        pct(o.cpu_mean),
    ]);
    for i in 1..9 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn figures(report: &BenchReport) -> String {
    let mut parts = vec![format!("wall {:.1} s", report.wall_s)];
    if let Some(a) = report.audio_s {
        parts.push(format!("audio {a:.1} s"));
    }
    if let Some(w) = report.work_per_audio_s {
        parts.push(format!("{w:.1} s of work per second of audio"));
    }
    match (report.batch_size_inferred, report.batch_size_requested) {
        (Some(i), Some(r)) => parts.push(format!("batch size {i} (inferred; asked {r})")),
        (Some(i), None) => parts.push(format!("batch size {i} (inferred)")),
        (None, Some(r)) => parts.push(format!("batch size asked {r}")),
        (None, None) => {}
    }
    let mut text = parts.join(" · ");
    text.push('\n');
    // A replay's video is where the recorded run left it, on the machine that recorded it.
    let video = match report.mode {
        Mode::Replay => "video (as recorded)",
        Mode::Run => "video",
    };
    match &report.output_video {
        Some(v) if v.exists => {
            let size = v.size_bytes.map_or(String::new(), human_size);
            let dur = v.duration_s.map_or_else(
                || v.probe_note.clone().unwrap_or_default(),
                |d| format!("{d:.2} s"),
            );
            text.push_str(&format!("{video}: {} ({size}, {dur})\n", v.path));
        }
        Some(v) => text.push_str(&format!(
            "{video}: {} (named by the run, but missing)\n",
            v.path
        )),
        None => text.push_str(&format!("{video}: none named by the run\n")),
    }
    if !report.cpu_tells.is_empty() {
        for tell in &report.cpu_tells {
            text.push_str(&format!("CPU tell at {:.1} s: {}\n", tell.t, tell.what));
        }
    }
    if let Some(how) = &report.telemetry.attribution {
        text.push_str(&format!("GPU attribution: {how}\n"));
    }
    let tree = &report.overall;
    if tree.proc_gpu_mem_peak_mb.is_some() || tree.proc_gpu_util_mean.is_some() {
        text.push_str(&format!(
            "GPU of the run's process tree: utilisation mean {} · memory peak {}\n",
            pct(tree.proc_gpu_util_mean),
            mb(tree.proc_gpu_mem_peak_mb)
        ));
    }
    if report.device.device != "unknown" {
        text.push_str(&format!(
            "device used: {} ({})\n",
            report.device.device,
            report.device.how.join("; ")
        ));
    }
    if let Some(host) = &report.host {
        text.push_str(&host_lines(host));
    }
    text
}

/// How a host's run was watched: its marker, logs, the SadTalker child, why no stages.
fn host_lines(host: &crate::bench::host::HostReport) -> String {
    let mut text = String::new();
    match (host.kind.as_deref(), &host.run_id) {
        (Some("attach"), _) => text.push_str("watched a running process (never signalled)\n"),
        (_, Some(id)) => text.push_str(&format!(
            "host command: every process with SADFIX_RUN={id} counted as the run\n"
        )),
        _ => {}
    }
    if !host.logs.is_empty() {
        let followed = if host.logs_followed.is_empty() {
            "none matched".to_string()
        } else {
            host.logs_followed.join(", ")
        };
        text.push_str(&format!("logs followed: {followed}\n"));
    }
    if let Some(child) = &host.sadtalker {
        let batch = if child.argv.iter().any(|a| a.starts_with("--batch_size")) {
            format!("batch size {}", child.batch_size)
        } else {
            format!("batch size {} (SadTalker's default)", child.batch_size)
        };
        let size = child.size.map_or(String::new(), |s| format!(", size {s}"));
        text.push_str(&format!(
            "SadTalker child: pid {}, {batch}{size}, seen from {:.1} s to {:.1} s\n",
            child.pid, child.first_seen_s, child.last_seen_s
        ));
        if let Some(stats) = &host.sadtalker_stats {
            text.push_str(&format!(
                "  over its lifetime: CPU {} · GPU {} · GPU mem peak {}\n",
                pct(stats.cpu_mean),
                pct(stats.gpu_util_mean),
                mb(stats.gpu_mem_peak_mb)
            ));
        }
    }
    if let Some(note) = &host.stages_note {
        text.push_str(&format!("stages: none seen. {note}\n"));
    }
    text
}

fn verdict_table(report: &BenchReport, color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["expectation", "status", "observed", "expected"]);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for v in &report.verdicts {
        let observed = v.observed.clone().unwrap_or_else(|| "n/a".into());
        table.add_row([
            Cell::new(&v.id),
            status_cell(v.status, color),
            Cell::new(observed),
            Cell::new(&v.expected),
        ]);
    }
    table
}

/// The status word, coloured as doctor colours its marks.
fn status_cell(status: Status, color: bool) -> Cell {
    let cell = Cell::new(status_word(status));
    if !color {
        return cell;
    }
    match status {
        Status::Pass => cell.fg(Color::Green),
        Status::Warn => cell.fg(Color::Yellow).add_attribute(Attribute::Bold),
        Status::Fail => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Skip => cell.fg(Color::DarkGrey),
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "skip",
    }
}

/// Skipped expectations, grouped by the reason they were skipped.
fn skipped(report: &BenchReport) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for v in report.verdicts.iter().filter(|v| v.status == Status::Skip) {
        let why = v.hint.as_deref().unwrap_or("no reason given");
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, ids)) => ids.push(&v.id),
            None => groups.push((why, vec![&v.id])),
        }
    }
    groups
        .iter()
        .map(|(why, ids)| format!("  skipped {}: {why}\n", ids.join(", ")))
        .collect()
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.0} kB", b as f64 / 1e3),
        b => format!("{b} bytes"),
    }
}

/// The line shown on stderr before the child starts.
pub fn starting(argv: &[String], result_dir: &Path) -> String {
    format!(
        "sadfix bench: running {}\n  results in {}",
        argv.join(" "),
        result_dir.display()
    )
}

/// The line shown before a host's command starts.
pub fn starting_host(argv: &[String], logs: &[String]) -> String {
    let mut text = format!("sadfix bench: running the host command {}", argv.join(" "));
    if !logs.is_empty() {
        text.push_str(&format!("\n  following {}", logs.join(", ")));
    }
    text
}

/// The line shown when watching a process sadfix did not start.
pub fn attaching(pid: u32, argv: &[String], logs: &[String]) -> String {
    let mut text =
        format!(
        "sadfix bench: watching process {pid} ({}); it is never signalled, Ctrl-C stops watching",
        if argv.is_empty() { "?".to_string() } else { argv.join(" ") }
    );
    if !logs.is_empty() {
        text.push_str(&format!("\n  following {}", logs.join(", ")));
    }
    text
}

/// Redraw the live progress line: stage, percent, GPU now. Nothing under `--quiet`.
pub fn progress(stage: Option<&StageSpan>, gpu_now: Option<f64>) {
    let style = super::style::current();
    let Some(stage) = stage.filter(|_| !style.quiet) else {
        return;
    };
    let percent = match (stage.done, stage.total) {
        (Some(d), Some(t)) if t > 0 => format!(" {:>3}%", 100 * d / t),
        _ => String::new(),
    };
    let gpu = gpu_now.map_or("GPU n/a".into(), |g| format!("GPU {g:.0}%"));
    let line = progress_line(stage.id.label(), &percent, &gpu, style.stderr_color);
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{line}");
    let _ = err.flush();
}

/// Wide enough for the longest stage label with its percent and GPU figure.
const PROGRESS_WIDTH: usize = 50;

/// With colour, the stage in bold after an erase-line code; without it (`--color never`,
/// `NO_COLOR`), no control code at all: the line is padded with spaces to cover the last one.
fn progress_line(label: &str, percent: &str, gpu: &str, color: bool) -> String {
    if color {
        format!("\r\x1b[2K  \x1b[1m{label}\x1b[0m{percent} · {gpu}")
    } else {
        format!(
            "\r{:<PROGRESS_WIDTH$}",
            format!("  {label}{percent} · {gpu}")
        )
    }
}

/// End the live progress line.
pub fn progress_done() {
    clear_progress(PROGRESS_WIDTH);
}

/// Erase a progress line of up to `width` characters from stderr (spaces without colour: no
/// control code then), unless `--quiet` kept it from being drawn.
pub fn clear_progress(width: usize) {
    let style = super::style::current();
    if style.quiet {
        return;
    }
    let clear = if style.stderr_color {
        "\r\x1b[2K".to_string()
    } else {
        format!("\r{:width$}\r", "")
    };
    let _ = write!(std::io::stderr(), "{clear}");
}

#[cfg(test)]
mod progress_tests {
    use super::progress_line;

    #[test]
    fn the_progress_line_without_colour_has_no_control_codes() {
        let plain = progress_line("Face Renderer", "  40%", "GPU 87%", false);
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
        assert!(plain.starts_with("\r  Face Renderer  40% · GPU 87%"));
        assert_eq!(plain.chars().count(), 1 + super::PROGRESS_WIDTH);
        let coloured = progress_line("Face Renderer", "  40%", "GPU 87%", true);
        assert!(
            coloured.contains("\x1b[1mFace Renderer\x1b[0m"),
            "{coloured:?}"
        );
    }
}
