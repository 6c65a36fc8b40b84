//! `sadfix tune` on stderr: the progress line (which trial, its stage, elapsed and estimated
//! time) and the note before the trials.

use crate::tune::preflight::Preflight;
use crate::tune::sweep::ProgressNow;
use std::io::Write;

/// One line on stderr before the trials start.
pub fn preflight_note(p: &Preflight) -> String {
    match (&p.gpu, p.fitting().is_empty()) {
        (Err(_), _) => "preflight: no GPU facts; running the trials".into(),
        (Ok(_), true) => "preflight: the full clip will not fit at any batch size (see the report); running the trials anyway".into(),
        (Ok(_), false) => "preflight: done; running the trials".into(),
    }
}

/// Wide enough for the longest progress line, to cover the last one without control codes.
const PROGRESS_WIDTH: usize = 72;

/// Which trial runs, its stage, elapsed and estimated time: a redrawn line on a terminal,
/// one line per trial otherwise; nothing under `--quiet`.
pub fn progress(now: &ProgressNow, live_line: bool) {
    let style = super::style::current();
    if style.quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    let head = format!(
        "trial {}: batch {} x {}",
        now.trial, now.batch_size, now.parallel
    );
    if !live_line {
        if now.starting {
            let _ = writeln!(err, "{head}");
        }
        return;
    }
    let stage = now.stage.map_or("starting".into(), |s| {
        let pct = match (s.done, s.total) {
            (Some(d), Some(t)) if t > 0 => format!(" {:>3}%", 100 * d / t),
            _ => String::new(),
        };
        format!("{}{pct}", s.id.label())
    });
    let estimate = now
        .estimate_s
        .map_or(String::new(), |e| format!(" / ~{e:.0} s"));
    let text = format!("  {head} · {stage} · {:.0} s{estimate}", now.elapsed_s);
    // Without colour (`--color never`, `NO_COLOR`) no control code at all: spaces cover the last line.
    let line = if style.stderr_color {
        format!("\r\x1b[2K{text}")
    } else {
        format!("\r{text:<PROGRESS_WIDTH$}")
    };
    let _ = write!(err, "{line}");
    let _ = err.flush();
}

/// End the progress line.
pub fn progress_done(live_line: bool) {
    if live_line {
        super::bench::clear_progress(PROGRESS_WIDTH);
    }
}
