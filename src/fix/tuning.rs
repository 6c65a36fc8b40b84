//! `--tune`: tune's own preflight, trials and recommendation after the device fix, its winner
//! applied through the patch engine into the same journal. tune's flags are built by parsing
//! an argument list with clap, so tune's defaults and checks apply unchanged.

use super::options::FixOptions;
use crate::cli::{Cli, Command};
use crate::exit::{coded, ExitCode};
use crate::install::Install;
use crate::tune::options::TuneOptions;
use crate::tune::outcome::TuneReport;
use clap::Parser;
use std::path::Path;

/// tune's options for `fix --tune`: the same audio, image, interpreter, clip length, deadline
/// and pass-through arguments, with `--apply`.
pub fn options(o: &FixOptions) -> anyhow::Result<TuneOptions> {
    let mut argv: Vec<String> = vec!["sadfix".into(), "tune".into(), "--apply".into()];
    let mut add = |flag: &str, value: String| {
        argv.push(flag.into());
        argv.push(value);
    };
    add("--trial-seconds", o.trial_seconds.to_string());
    add("--timeout", o.timeout.as_secs_f64().to_string());
    let paths = [
        ("--python", &o.python),
        ("--audio", &o.audio),
        ("--image", &o.image),
    ];
    for (flag, path) in paths {
        if let Some(p) = path {
            add(flag, p.display().to_string());
        }
    }
    if !o.passthrough.is_empty() {
        argv.push("--".into());
        argv.extend(o.passthrough.iter().cloned());
    }
    let cli = Cli::try_parse_from(&argv).map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    let Command::Tune(args) = &cli.command else {
        unreachable!("the list starts with tune")
    };
    TuneOptions::try_from(args).map_err(|e| coded(ExitCode::Usage, format!("--tune: {e}")))
}

/// Run tune's trials (their result folders under `dir`) and apply its recommendation.
pub fn run(install: &Install, o: &FixOptions, dir: &Path) -> anyhow::Result<TuneReport> {
    crate::tune::run(install, options(o)?, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn tune_gets_the_same_clip_deadline_and_arguments() {
        let cli = Cli::try_parse_from([
            "sadfix",
            "fix",
            "--trial-seconds",
            "6",
            "--timeout",
            "90",
            "--audio",
            "talk.wav",
            "--",
            "--still",
        ])
        .unwrap();
        let Command::Fix(args) = &cli.command else {
            unreachable!()
        };
        let fix = FixOptions::from_args(&cli.global, args, Path::new("/w")).unwrap();
        let t = options(&fix).unwrap();
        assert!(t.apply && !t.dry_run);
        assert_eq!(t.trial_seconds, 6.0);
        assert_eq!(t.timeout.as_secs(), 90);
        assert_eq!(t.audio.as_deref(), Some(Path::new("/w/talk.wav")));
        assert_eq!(t.passthrough, vec!["--still".to_string()]);
        assert_eq!(t.batch_sizes, vec![1, 2, 4, 8, 16]);
    }
}
