//! `FixArgs` from the command line turned into checked, typed options before the fix domain
//! sees them: every bad value is a usage error that names the flag.

use crate::cli::{FixArgs, GlobalArgs};
use crate::tune::options::{outputs_writable, owned_flag};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether `fix` may write, and how it learns that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// `--dry-run`: show the plan, write nothing.
    DryRun,
    /// `--yes`: write without asking.
    Given,
    /// Ask on the terminal (refused when stdin is not one).
    Ask,
}

/// Everything `fix` was asked to do, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FixOptions {
    pub root: Option<PathBuf>,
    pub python: Option<PathBuf>,
    /// Taken from the working directory.
    pub audio: Option<PathBuf>,
    pub image: Option<PathBuf>,
    pub trial_seconds: f64,
    pub tune: bool,
    pub consent: Consent,
    pub measure: bool,
    pub site_packages: bool,
    pub timeout: Duration,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub passthrough: Vec<String>,
}

/// The flags inference.py gets from the trials themselves.
const OWNED_FLAGS: &[&str] = &["--driven_audio", "--source_image", "--result_dir"];

impl FixOptions {
    pub fn from_args(global: &GlobalArgs, a: &FixArgs, cwd: &Path) -> Result<FixOptions, String> {
        if !(a.trial_seconds.is_finite() && (2.0..=60.0).contains(&a.trial_seconds)) {
            return Err(format!(
                "--trial-seconds {}: give 2 to 60 seconds (shorter clips are unrepresentative, and 0.84 s crashes SadTalker)",
                a.trial_seconds
            ));
        }
        if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 86_400.0) {
            return Err(format!(
                "--timeout {}: give a number of seconds above 0",
                a.timeout
            ));
        }
        if a.no_measure && a.dry_run {
            return Err(
                "--no-measure has no effect with --dry-run: a dry run measures nothing".into(),
            );
        }
        if let Some(flag) = owned_flag(&a.passthrough, OWNED_FLAGS) {
            return Err(format!(
                "{flag} after --: fix sets it for both trials; use --audio or --image"
            ));
        }
        outputs_writable(&[
            ("--json", &a.json),
            ("--svg", &a.svg),
            ("--metrics", &a.metrics),
        ])?;
        let consent = if a.dry_run {
            Consent::DryRun
        } else if a.yes {
            Consent::Given
        } else {
            Consent::Ask
        };
        // The runs start in the install: a relative path means from here.
        let here = |p: &PathBuf| cwd.join(p);
        let python = a.python.as_ref().map(|p| {
            if p.is_relative() && p.components().count() > 1 {
                cwd.join(p)
            } else {
                p.clone()
            }
        });
        Ok(FixOptions {
            root: global.root.clone(),
            python,
            audio: a.audio.as_ref().map(here),
            image: a.image.as_ref().map(here),
            trial_seconds: a.trial_seconds,
            tune: a.tune,
            consent,
            measure: !a.no_measure,
            site_packages: a.site_packages,
            timeout: Duration::from_secs_f64(a.timeout),
            json: a.json.clone(),
            svg: a.svg.clone(),
            metrics: a.metrics.clone(),
            passthrough: a.passthrough.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn options(argv: &[&str]) -> Result<FixOptions, String> {
        let cli = Cli::try_parse_from(["sadfix", "fix"].iter().chain(argv)).unwrap();
        let Command::Fix(args) = &cli.command else {
            unreachable!()
        };
        FixOptions::from_args(&cli.global, args, Path::new("/here"))
    }

    #[test]
    fn defaults_and_consent() {
        let o = options(&[]).unwrap();
        assert_eq!(o.trial_seconds, 4.0);
        assert_eq!(o.consent, Consent::Ask);
        assert!(o.measure && !o.tune);
        assert_eq!(options(&["--yes"]).unwrap().consent, Consent::Given);
        assert_eq!(options(&["--dry-run"]).unwrap().consent, Consent::DryRun);
        let o = options(&["--audio", "talk.wav", "--python", "venv/bin/python"]).unwrap();
        assert_eq!(o.audio, Some(PathBuf::from("/here/talk.wav")));
        assert_eq!(o.python, Some(PathBuf::from("/here/venv/bin/python")));
    }

    #[test]
    fn bad_values_name_their_flag() {
        for (argv, flag) in [
            (vec!["--trial-seconds", "1"], "--trial-seconds"),
            (vec!["--timeout", "0"], "--timeout"),
            (vec!["--no-measure", "--dry-run"], "--no-measure"),
            (vec!["--", "--driven_audio", "x.wav"], "--driven_audio"),
            (vec!["--json", "/no/such/dir/f.json"], "--json"),
        ] {
            let err = options(&argv).unwrap_err();
            assert!(err.starts_with(flag), "{argv:?}: {err}");
        }
        assert!(Cli::try_parse_from(["sadfix", "fix", "--yes", "--dry-run"]).is_err());
    }
}
