//! `TuneArgs` from the command line turned into checked, typed options before the domain sees
//! them: every bad value is a usage error that names the flag and the allowed range.

use crate::cli::TuneArgs;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `tune` was asked to do, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneOptions {
    pub python: Option<PathBuf>,
    pub audio: Option<PathBuf>,
    pub image: Option<PathBuf>,
    pub size: u32,
    /// Ascending, without repeats.
    pub batch_sizes: Vec<u32>,
    /// Ascending, without repeats.
    pub parallel: Vec<u32>,
    pub trial_seconds: f64,
    pub timeout: Duration,
    pub headroom_pct: f64,
    pub dry_run: bool,
    pub apply: bool,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    /// `--metrics`: the Prometheus textfile to write.
    pub metrics: Option<PathBuf>,
    pub passthrough: Vec<String>,
    /// With `--exec`: the host's command line, its placeholders filled in for each trial.
    pub host: Option<Vec<String>>,
}

/// What a host's command must hold for tune to vary it (`--exec`).
const HOST_PLACEHOLDERS: &[&str] = &["{audio}", "{batch_size}"];

/// The flags inference.py gets from tune itself; passing them after `--` would fight the trials.
const OWNED_FLAGS: &[&str] = &[
    "--batch_size",
    "--size",
    "--driven_audio",
    "--source_image",
    "--result_dir",
];

impl TryFrom<&TuneArgs> for TuneOptions {
    type Error = String;

    fn try_from(a: &TuneArgs) -> Result<Self, String> {
        if a.size != 256 && a.size != 512 {
            return Err(format!(
                "--size {}: SadTalker renders at 256 or 512 only",
                a.size
            ));
        }
        let batch_sizes = sorted("--batch-sizes", &a.batch_sizes, 64)?;
        let parallel = sorted("--parallel", &a.parallel, 8)?;
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
        if !(a.headroom.is_finite() && (0.0..=90.0).contains(&a.headroom)) {
            return Err(format!(
                "--headroom {}: give a percentage from 0 to 90",
                a.headroom
            ));
        }
        if a.exec {
            if a.passthrough.is_empty() {
                return Err("--exec: give the host's command after --".into());
            }
            if let Some(missing) = HOST_PLACEHOLDERS
                .iter()
                .find(|p| !a.passthrough.iter().any(|arg| arg.contains(*p)))
            {
                return Err(format!(
                    "--exec: the command has no {missing}; tune puts each trial's clip and batch size there (for example: -- python app.py --audio {{audio}} --batch-size {{batch_size}})"
                ));
            }
        } else if let Some(flag) = owned_flag(&a.passthrough, OWNED_FLAGS) {
            return Err(format!(
                "{flag} after --: tune sets it for every trial; use --batch-sizes, --size, --audio or --image"
            ));
        }
        outputs_writable(&[
            ("--json", &a.json),
            ("--svg", &a.svg),
            ("--metrics", &a.metrics),
        ])?;
        Ok(TuneOptions {
            python: a.python.clone(),
            audio: a.audio.clone(),
            image: a.image.clone(),
            size: a.size,
            batch_sizes,
            parallel,
            trial_seconds: a.trial_seconds,
            timeout: Duration::from_secs_f64(a.timeout),
            headroom_pct: a.headroom,
            dry_run: a.dry_run,
            apply: a.apply,
            json: a.json.clone(),
            svg: a.svg.clone(),
            metrics: a.metrics.clone(),
            passthrough: if a.exec {
                Vec::new()
            } else {
                a.passthrough.clone()
            },
            host: a.exec.then(|| a.passthrough.clone()),
        })
    }
}

/// The first argument after `--` that sets one of `owned` (`--flag` or `--flag=value`).
pub fn owned_flag<'a>(passthrough: &'a [String], owned: &[&str]) -> Option<&'a String> {
    passthrough.iter().find(|p| {
        owned
            .iter()
            .any(|o| p.as_str() == *o || p.starts_with(&format!("{o}=")))
    })
}

/// `--json` and `--svg` name a file in a folder that exists, else the usage error saying so.
pub fn outputs_writable(files: &[(&str, &Option<PathBuf>)]) -> Result<(), String> {
    for &(flag, file) in files {
        let folder = file.as_deref().and_then(|f| f.parent());
        if let Some(folder) = folder.filter(|f| !f.as_os_str().is_empty() && !f.is_dir()) {
            return Err(format!(
                "{flag} {}: no directory {} to write it in",
                file.as_deref().unwrap_or(folder).display(),
                folder.display()
            ));
        }
    }
    Ok(())
}

fn sorted(flag: &str, values: &[u32], max: u32) -> Result<Vec<u32>, String> {
    if values.is_empty() {
        return Err(format!("{flag}: give at least one number"));
    }
    if let Some(bad) = values.iter().find(|v| **v == 0 || **v > max) {
        return Err(format!(
            "{flag}: {bad} is out of range; give numbers from 1 to {max}"
        ));
    }
    let mut out = values.to_vec();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn options(argv: &[&str]) -> Result<TuneOptions, String> {
        let cli = Cli::try_parse_from(["sadfix", "tune"].iter().chain(argv)).unwrap();
        let Command::Tune(args) = cli.command else {
            unreachable!()
        };
        TuneOptions::try_from(&args)
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let o = options(&[]).unwrap();
        assert_eq!(o.batch_sizes, vec![1, 2, 4, 8, 16]);
        assert_eq!(o.parallel, vec![1, 2]);
        assert_eq!(o.trial_seconds, 4.0);
        assert_eq!(o.headroom_pct, 15.0);
        assert_eq!(o.size, 256);
    }

    #[test]
    fn lists_are_sorted_and_bad_values_name_their_flag() {
        assert_eq!(
            options(&["--batch-sizes", "8,1,4,4"]).unwrap().batch_sizes,
            vec![1, 4, 8]
        );
        for (argv, flag) in [
            (vec!["--batch-sizes", "0,2"], "--batch-sizes"),
            (vec!["--parallel", "9"], "--parallel"),
            (vec!["--size", "128"], "--size"),
            (vec!["--trial-seconds", "0.84"], "--trial-seconds"),
            (vec!["--headroom", "-5"], "--headroom"),
            (vec!["--timeout", "0"], "--timeout"),
            (vec!["--", "--batch_size", "3"], "--batch_size"),
        ] {
            let err = options(&argv).unwrap_err();
            assert!(err.starts_with(flag), "{argv:?}: {err}");
        }
    }

    #[test]
    fn exec_takes_the_hosts_command_with_its_placeholders() {
        let host = [
            "--audio",
            "a.wav",
            "--exec",
            "--",
            "python",
            "app.py",
            "--audio",
            "{audio}",
            "--bs",
            "{batch_size}",
        ];
        let o = options(&host).unwrap();
        assert_eq!(
            o.host.as_deref().unwrap()[1..4],
            ["app.py", "--audio", "{audio}"]
        );
        assert!(o.passthrough.is_empty());
        let err = options(&[
            "--audio", "a.wav", "--exec", "--", "python", "app.py", "{audio}",
        ]);
        assert!(err.unwrap_err().contains("no {batch_size}"));
        // Without --audio there is nothing to cut the trial clip from; --apply edits the install.
        assert!(Cli::try_parse_from(["sadfix", "tune", "--exec", "--", "x"]).is_err());
        assert!(
            Cli::try_parse_from(["sadfix", "tune", "--audio", "a", "--exec", "--apply"]).is_err()
        );
    }

    #[test]
    fn apply_and_dry_run_exclude_each_other() {
        assert!(Cli::try_parse_from(["sadfix", "tune", "--apply", "--dry-run"]).is_err());
    }
}
