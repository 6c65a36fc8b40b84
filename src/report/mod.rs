//! The only module that writes user-visible bytes: results to stdout, errors and hints to stderr.
//! Renderers for each command live in their own file and return strings; `emit` writes them;
//! `metrics` writes Prometheus textfiles.

pub mod bench;
pub mod compat;
pub mod doctor;
pub mod fix;
pub mod fix_plan;
pub mod fix_svg;
pub mod metrics;
pub mod patch;
pub mod scan;
pub mod style;
pub mod svg;
pub mod tune;
pub mod tune_progress;
pub mod tune_svg;
pub mod width;

use crate::exit::code_of;
use serde::Serialize;
use std::io::Write;

/// The JSON schema version every `--json` document carries.
pub const SCHEMA_VERSION: u32 = 1;

/// Write a result to stdout. A closed pipe (`sadfix scan | head`) is not an error.
pub fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A hint or progress line on stderr; `--quiet` drops it.
pub fn note(text: &str) {
    if !style::current().quiet {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("report values serialise");
    text.push('\n');
    text
}

/// Whether stdout (tables, diffs) carries colour; decided in `style`.
pub fn color_enabled() -> bool {
    style::current().stdout_color
}

/// Print an error with its causes to stderr and return the exit code it maps to.
pub fn error(err: &anyhow::Error) -> i32 {
    let mut text = format!("sadfix: error: {err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    // Not `note`: an error is shown under `--quiet` too.
    let _ = writeln!(std::io::stderr(), "{text}");
    code_of(err).as_i32()
}
