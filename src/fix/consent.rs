//! Whether `fix` may write: `--yes`, else the user's answer on the terminal; without a
//! terminal there is nobody to ask, and writing without `--yes` is refused.

use super::options::Consent;
use crate::exit::{coded, ExitCode};
use std::io::{BufRead, IsTerminal};

/// What the user said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
}

/// `Yes` under `--yes`; on a terminal, the answer to `question`; else a usage error.
pub fn obtain(consent: Consent, question: &str) -> anyhow::Result<Answer> {
    match consent {
        Consent::Given => Ok(Answer::Yes),
        Consent::DryRun => Ok(Answer::No),
        Consent::Ask if !std::io::stdin().is_terminal() => Err(coded(
            ExitCode::Usage,
            "nothing written: stdin is not a terminal, so sadfix cannot ask; run `sadfix fix --yes` to apply the plan above, or `sadfix fix --dry-run` to only show it",
        )),
        Consent::Ask => {
            crate::report::fix_plan::prompt(question);
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(read(&line))
        }
    }
}

fn read(line: &str) -> Answer {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        _ => Answer::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_writes() {
        assert_eq!(read("y\n"), Answer::Yes);
        assert_eq!(read(" YES "), Answer::Yes);
        assert_eq!(read("\n"), Answer::No);
        assert_eq!(read("sure"), Answer::No);
        assert_eq!(obtain(Consent::Given, "?").unwrap(), Answer::Yes);
    }
}
