//! `BenchOptions`: the `bench` command line checked and typed before the bench domain sees it.
//! What to watch is one `Target` (the install's `inference.py`, a host's command, a running
//! process, a trace), so no later code has to ask which flags were given together.

use crate::cli::{BenchArgs, DEFAULT_INTERVAL_MS};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// The flags of a generation of the install's own `inference.py`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generation {
    pub python: Option<PathBuf>,
    pub audio: Option<PathBuf>,
    pub image: Option<PathBuf>,
    pub batch_size: Option<u32>,
    pub size: Option<u32>,
    pub enhancer: Option<String>,
    pub preprocess: Option<String>,
    /// Arguments passed verbatim to `inference.py`.
    pub passthrough: Vec<String>,
    /// A host's command line to run instead of `inference.py` (tune's `--exec`), with the
    /// placeholders `{audio}`, `{image}`, `{batch_size}`, `{size}` and `{result_dir}`.
    pub host: Option<Vec<String>>,
}

/// What `bench` watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Run the install's `inference.py`.
    Install(Generation),
    /// Run a host's own command line (no shell).
    Exec { argv: Vec<String> },
    /// Watch a process already running; never signal it.
    Attach {
        pid: u32,
        duration: Option<Duration>,
    },
    /// Build the report from a recorded trace; run nothing.
    Replay { dir: PathBuf },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    pub target: Target,
    /// Deadline of a run sadfix starts.
    pub timeout: Duration,
    pub interval: Duration,
    /// Log files to follow (patterns; `*` and `?` in the file name).
    pub logs: Vec<String>,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    /// `--metrics`: the Prometheus textfile to write.
    pub metrics: Option<PathBuf>,
    pub record: Option<PathBuf>,
    pub expect: Option<PathBuf>,
    pub require_gpu: bool,
}

/// A bench command line that cannot be run as given.
#[derive(Debug, Error, PartialEq)]
pub enum OptionsError {
    #[error("--timeout must be a positive number of seconds")]
    Timeout,
    #[error("--duration must be a positive number of seconds")]
    Duration,
    #[error("--interval must be between 10 and 60000 ms")]
    Interval,
    #[error("{flag} {file}: no directory {folder} to write it in")]
    NoFolder {
        flag: &'static str,
        file: String,
        folder: String,
    },
    #[error("--batch-size must be at least 1")]
    BatchSize,
    #[error("{flag} has no effect with {with}: {why}")]
    NoEffect {
        flag: &'static str,
        with: &'static str,
        why: &'static str,
    },
    #[error("--exec needs a command after --: sadfix bench --exec -- python3 app.py ...")]
    NoCommand,
    #[error("--duration needs --attach PID")]
    DurationWithoutAttach,
}

impl BenchOptions {
    pub fn from_args(args: &BenchArgs) -> Result<BenchOptions, OptionsError> {
        if !(args.timeout.is_finite() && args.timeout > 0.0) {
            return Err(OptionsError::Timeout);
        }
        if !(10..=60_000).contains(&args.interval) {
            return Err(OptionsError::Interval);
        }
        for (flag, file) in [
            ("--json", &args.json),
            ("--svg", &args.svg),
            ("--metrics", &args.metrics),
        ] {
            let Some(file) = file else { continue };
            if let Some(folder) = file
                .parent()
                .filter(|f| !f.as_os_str().is_empty() && !f.is_dir())
            {
                return Err(OptionsError::NoFolder {
                    flag,
                    file: file.display().to_string(),
                    folder: folder.display().to_string(),
                });
            }
        }
        if args.batch_size == Some(0) {
            return Err(OptionsError::BatchSize);
        }
        let generation = Generation {
            python: args.python.clone(),
            audio: args.audio.clone(),
            image: args.image.clone(),
            batch_size: args.batch_size,
            size: args.size,
            enhancer: args.enhancer.clone(),
            preprocess: args.preprocess.clone(),
            passthrough: args.passthrough.clone(),
            host: None,
        };
        let target = target(args, generation)?;
        if args.duration.is_some() && !matches!(target, Target::Attach { .. }) {
            return Err(OptionsError::DurationWithoutAttach);
        }
        if matches!(target, Target::Replay { .. }) && !args.log.is_empty() {
            return Err(no_effect("--log", "--replay", "a replay runs nothing"));
        }
        Ok(BenchOptions {
            target,
            timeout: Duration::from_secs_f64(args.timeout),
            interval: Duration::from_millis(args.interval),
            logs: args.log.clone(),
            json: args.json.clone(),
            svg: args.svg.clone(),
            metrics: args.metrics.clone(),
            record: args.record.clone(),
            expect: args.expect.clone(),
            require_gpu: args.require_gpu,
        })
    }

    /// A run of the install's `inference.py` with bench's defaults and nothing written: what a
    /// command built on bench (`tune`'s trials) runs.
    pub fn for_generation(generation: Generation, timeout: Duration) -> BenchOptions {
        BenchOptions {
            target: Target::Install(generation),
            timeout,
            interval: Duration::from_millis(DEFAULT_INTERVAL_MS),
            logs: Vec::new(),
            json: None,
            svg: None,
            metrics: None,
            record: None,
            expect: None,
            require_gpu: false,
        }
    }

    pub fn interval_ms(&self) -> u64 {
        self.interval.as_millis() as u64
    }
}

fn no_effect(flag: &'static str, with: &'static str, why: &'static str) -> OptionsError {
    OptionsError::NoEffect { flag, with, why }
}

fn target(args: &BenchArgs, generation: Generation) -> Result<Target, OptionsError> {
    let install_flags = [
        ("--python", generation.python.is_some()),
        ("--audio", generation.audio.is_some()),
        ("--image", generation.image.is_some()),
        ("--batch-size", generation.batch_size.is_some()),
        ("--size", generation.size.is_some()),
        ("--enhancer", generation.enhancer.is_some()),
        ("--preprocess", generation.preprocess.is_some()),
    ];
    let given = install_flags.iter().find(|(_, given)| *given).map(|f| f.0);
    let refuse = |with, why| match given {
        Some(flag) => Err(no_effect(flag, with, why)),
        None => Ok(()),
    };
    if let Some(dir) = &args.replay {
        refuse("--replay", "a replay runs nothing")?;
        if !generation.passthrough.is_empty() {
            return Err(no_effect(
                "arguments after --",
                "--replay",
                "a replay runs nothing",
            ));
        }
        return Ok(Target::Replay { dir: dir.clone() });
    }
    if let Some(pid) = args.attach {
        refuse("--attach", "sadfix watches a run it did not start")?;
        if !generation.passthrough.is_empty() {
            return Err(no_effect(
                "arguments after --",
                "--attach",
                "sadfix watches a run it did not start",
            ));
        }
        let duration = match args.duration {
            Some(s) if !(s.is_finite() && s > 0.0) => return Err(OptionsError::Duration),
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        return Ok(Target::Attach { pid, duration });
    }
    if args.exec {
        refuse("--exec", "the host's own command line sets them")?;
        if generation.passthrough.is_empty() {
            return Err(OptionsError::NoCommand);
        }
        return Ok(Target::Exec {
            argv: generation.passthrough,
        });
    }
    Ok(Target::Install(generation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn options(argv: &[&str]) -> Result<BenchOptions, OptionsError> {
        let cli = Cli::try_parse_from(["sadfix", "bench"].iter().chain(argv)).unwrap();
        match cli.command {
            Command::Bench(args) => BenchOptions::from_args(&args),
            _ => unreachable!(),
        }
    }

    #[test]
    fn exec_takes_the_command_after_the_double_dash() {
        let o = options(&["--exec", "--log", "w*.log", "--", "python3", "app.py"]).unwrap();
        assert_eq!(
            o.target,
            Target::Exec {
                argv: vec!["python3".into(), "app.py".into()]
            }
        );
        assert_eq!(o.logs, vec!["w*.log".to_string()]);
        assert_eq!(options(&["--exec"]), Err(OptionsError::NoCommand));
        assert!(matches!(
            options(&["--exec", "--batch-size", "4", "--", "x"]),
            Err(OptionsError::NoEffect {
                flag: "--batch-size",
                ..
            })
        ));
    }

    #[test]
    fn attach_and_duration_go_together() {
        let o = options(&["--attach", "42", "--duration", "1.5"]).unwrap();
        assert_eq!(
            o.target,
            Target::Attach {
                pid: 42,
                duration: Some(Duration::from_millis(1500))
            }
        );
        assert_eq!(
            options(&["--duration", "3"]),
            Err(OptionsError::DurationWithoutAttach)
        );
        assert_eq!(
            options(&["--attach", "42", "--duration", "-1"]),
            Err(OptionsError::Duration)
        );
    }

    #[test]
    fn replay_refuses_what_only_a_run_uses() {
        assert!(matches!(
            options(&["--replay", "t", "--audio", "a.wav"]),
            Err(OptionsError::NoEffect {
                flag: "--audio",
                ..
            })
        ));
        assert!(matches!(
            options(&["--replay", "t", "--log", "x.log"]),
            Err(OptionsError::NoEffect { flag: "--log", .. })
        ));
        assert_eq!(options(&["--timeout", "0"]), Err(OptionsError::Timeout));
        assert_eq!(options(&["--interval", "5"]), Err(OptionsError::Interval));
    }
}
