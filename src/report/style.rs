//! Whether output is coloured and whether hints and progress are shown: decided once per process
//! from `--color`, `--quiet`, the terminals and `NO_COLOR`; every renderer asks here.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// When to colour, as the user asked (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// Colour a stream only when it is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    Always,
    Never,
}

/// The decision for this process: colour on each stream, and whether stderr carries only errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Tables and diffs (stdout) carry colour.
    pub stdout_color: bool,
    /// The live progress line (stderr) carries colour and terminal control codes.
    pub stderr_color: bool,
    /// No progress and no hints on stderr; errors still go there.
    pub quiet: bool,
}

/// What the decision depends on besides the flags, so tests can give it any terminal.
#[derive(Debug, Clone, Copy)]
pub struct Terminals {
    pub stdout: bool,
    pub stderr: bool,
    /// `NO_COLOR` is set to something non-empty (<https://no-color.org>).
    pub no_color: bool,
}

impl Terminals {
    /// This process's streams and environment.
    pub fn detect() -> Terminals {
        Terminals {
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

impl Style {
    /// The one place the colour rule lives: `always` and `never` win; `auto` needs a terminal on
    /// that stream and no `NO_COLOR`.
    pub fn decide(when: ColorWhen, quiet: bool, terminals: Terminals) -> Style {
        let on = |is_terminal: bool| match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => is_terminal && !terminals.no_color,
        };
        Style {
            stdout_color: on(terminals.stdout),
            stderr_color: on(terminals.stderr),
            quiet,
        }
    }
}

impl Style {
    /// The decision for `--color` and `--quiet` on this process's streams.
    pub fn from_args(global: &crate::cli::GlobalArgs) -> Style {
        use crate::cli::ColorChoice;
        let when = match global.color {
            ColorChoice::Auto => ColorWhen::Auto,
            ColorChoice::Always => ColorWhen::Always,
            ColorChoice::Never => ColorWhen::Never,
        };
        Style::decide(when, global.quiet, Terminals::detect())
    }
}

static CURRENT: OnceLock<Style> = OnceLock::new();

/// Fix the decision for this process (from the command line, before any command runs). A second
/// call keeps the first decision.
pub fn set(style: Style) {
    let _ = CURRENT.set(style);
}

/// The decision in force; without `set` (the library used directly), `auto` and not quiet.
pub fn current() -> Style {
    *CURRENT.get_or_init(|| Style::decide(ColorWhen::Auto, false, Terminals::detect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminals(stdout: bool, stderr: bool, no_color: bool) -> Terminals {
        Terminals {
            stdout,
            stderr,
            no_color,
        }
    }

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        let s = Style::decide(ColorWhen::Auto, false, terminals(true, false, false));
        assert!(s.stdout_color && !s.stderr_color);
        let s = Style::decide(ColorWhen::Auto, false, terminals(true, true, true));
        assert!(
            !s.stdout_color && !s.stderr_color,
            "NO_COLOR wins over a terminal"
        );
    }

    #[test]
    fn always_and_never_ignore_the_terminal_and_no_color() {
        for t in [terminals(false, false, true), terminals(true, true, false)] {
            let s = Style::decide(ColorWhen::Always, false, t);
            assert!(s.stdout_color && s.stderr_color);
            let s = Style::decide(ColorWhen::Never, false, t);
            assert!(!s.stdout_color && !s.stderr_color);
        }
    }

    #[test]
    fn quiet_is_carried_independently_of_colour() {
        let s = Style::decide(ColorWhen::Always, true, terminals(true, true, false));
        assert!(s.quiet && s.stdout_color);
    }
}
