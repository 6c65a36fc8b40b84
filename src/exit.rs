//! Exit codes: few, stable, documented in the README. Errors carry their code through `anyhow`.

use std::fmt;

/// The process exit codes sadfix uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Success; nothing failed (for `patch --check`: nothing left to change).
    Ok = 0,
    /// The command worked and found a problem: a failing check, a failed expectation, or
    /// `patch --check` with changes pending.
    Findings = 1,
    /// Bad command line or bad input value.
    Usage = 2,
    /// No SadTalker install found, or more than one candidate.
    NoInstall = 3,
    /// sadfix refused or could not do the work: unparsable file, read-only file, lock held,
    /// file changed since sadfix wrote it, I/O error.
    Refused = 4,
    /// `bench`: the generation itself failed (crash, timeout, interrupted).
    RunFailed = 5,
}

impl ExitCode {
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// An error that knows which exit code it maps to. Wrap it in `anyhow::Error`; `report::error`
/// finds it in the chain. Errors without one exit with `Refused`.
#[derive(Debug)]
pub struct Coded {
    pub code: ExitCode,
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// Build an `anyhow::Error` that exits with `code`.
pub fn coded(code: ExitCode, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
    })
}

/// The exit code an error maps to: the first `Coded` or `InstallError` in its chain, else `Refused`.
pub fn code_of(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if cause
            .downcast_ref::<crate::install::InstallError>()
            .is_some()
        {
            return ExitCode::NoInstall;
        }
    }
    ExitCode::Refused
}
