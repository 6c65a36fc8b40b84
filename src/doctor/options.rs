//! What the user asked `doctor` to do, as one typed value: the command line is read and checked
//! here once, and nothing past this point sees clap's types.

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::exit::{coded, ExitCode};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
}

/// Everything `doctor` was asked, checked. New flags become new fields here.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorOptions {
    /// `--root`: the install named on the command line, else found from the working directory.
    pub root: Option<PathBuf>,
    /// `--python`, already taken relative to the working directory where it names a path.
    pub python: Option<PathBuf>,
    /// The deadline of each probe.
    pub timeout: Duration,
    pub format: ReportFormat,
    /// `--audio`: the clip to predict the Face Renderer's memory for (`preflight.memory`).
    pub audio: Option<PathBuf>,
    /// `--metrics`: the Prometheus textfile to write, taken relative to the working directory.
    pub metrics: Option<PathBuf>,
}

/// The longest deadline a probe may be given, in seconds.
pub const MAX_TIMEOUT_S: f64 = 3600.0;

impl DoctorOptions {
    /// Check the command line; `cwd` is where relative paths start.
    pub fn from_args(
        global: &GlobalArgs,
        args: &DoctorArgs,
        cwd: &Path,
    ) -> anyhow::Result<DoctorOptions> {
        if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= MAX_TIMEOUT_S) {
            return Err(coded(
                ExitCode::Usage,
                format!(
                    "--timeout {}: give a number of seconds above 0, at most 3600",
                    args.timeout
                ),
            ));
        }
        // The probes run from the install root: a relative `--python dir/python` means from
        // here, while a bare name (`python3.10`) is looked up on PATH.
        let python = args.python.as_ref().map(|p| {
            if p.is_relative() && p.components().count() > 1 {
                cwd.join(p)
            } else {
                p.clone()
            }
        });
        let metrics = args.metrics.as_ref().map(|m| cwd.join(m));
        if let Some(folder) = metrics.as_deref().and_then(Path::parent) {
            if !folder.is_dir() {
                return Err(coded(
                    ExitCode::Usage,
                    format!(
                        "--metrics {}: no directory {} to write it in",
                        args.metrics.as_deref().unwrap_or(folder).display(),
                        folder.display()
                    ),
                ));
            }
        }
        Ok(DoctorOptions {
            root: global.root.clone(),
            python,
            timeout: Duration::from_secs_f64(args.timeout),
            format: if args.json {
                ReportFormat::Json
            } else {
                ReportFormat::Table
            },
            audio: args.audio.as_ref().map(|a| cwd.join(a)),
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(line: &[&str]) -> anyhow::Result<DoctorOptions> {
        let cli = crate::cli::Cli::try_parse_from(line).unwrap();
        let crate::cli::Command::Doctor(args) = &cli.command else {
            panic!("not doctor");
        };
        DoctorOptions::from_args(&cli.global, args, Path::new("/work/here"))
    }

    #[test]
    fn paths_are_taken_from_here_and_the_timeout_is_checked() {
        let o = parse(&["sadfix", "doctor", "--python", "venv/bin/python", "--json"]).unwrap();
        assert_eq!(o.python, Some(PathBuf::from("/work/here/venv/bin/python")));
        assert_eq!(o.format, ReportFormat::Json);
        assert_eq!(o.timeout, Duration::from_secs(20));
        let bare = parse(&["sadfix", "doctor", "--python", "python3.10"]).unwrap();
        assert_eq!(bare.python, Some(PathBuf::from("python3.10")));
        assert_eq!(bare.format, ReportFormat::Table);
        let err = parse(&["sadfix", "doctor", "--timeout", "-1"]).unwrap_err();
        assert!(err.to_string().contains("--timeout -1"), "{err}");
        assert!(parse(&["sadfix", "doctor", "--timeout", "3601"]).is_err());
    }
}
