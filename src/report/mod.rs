//! The only module that writes user-visible bytes: results to stdout, errors and hints to stderr.
//! Renderers for each command live in their own file and return strings; `emit` writes them.

pub mod bench;
pub mod compat;
pub mod doctor;
pub mod patch;
pub mod scan;
pub mod svg;

use crate::exit::code_of;
use serde::Serialize;
use std::io::{IsTerminal, Write};

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

/// A hint or progress line on stderr.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("report values serialise");
    text.push('\n');
    text
}

/// Whether stdout may carry colour: a terminal, and `NO_COLOR` unset or empty.
pub fn color_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Print an error with its causes to stderr and return the exit code it maps to.
pub fn error(err: &anyhow::Error) -> i32 {
    let mut text = format!("sadfix: error: {err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    note(&text);
    code_of(err).as_i32()
}
