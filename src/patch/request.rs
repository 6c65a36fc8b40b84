//! The `scan` and `patch` command lines turned into typed requests before the patch domain
//! sees them: every combination clap cannot rule out is refused here, with what to run.

use super::options::PatchOptions;
use super::outcome::Mode;
use crate::cli::{PatchArgs, ScanArgs};
use crate::exit::{coded, ExitCode};
use std::path::PathBuf;

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

impl Output {
    fn from_flag(json: bool) -> Self {
        if json {
            Output::Json
        } else {
            Output::Text
        }
    }
}

/// `sadfix scan`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    pub output: Output,
    pub python: Option<PathBuf>,
}

impl From<&ScanArgs> for ScanRequest {
    fn from(args: &ScanArgs) -> Self {
        ScanRequest {
            output: Output::from_flag(args.json),
            python: args.python.clone(),
        }
    }
}

/// `sadfix patch`, typed: either undo everything, or make the changes `options` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchRequest {
    Revert {
        force: bool,
        output: Output,
    },
    Change {
        options: PatchOptions,
        mode: Mode,
        output: Output,
        python: Option<PathBuf>,
        /// List every site the flags leave alone, not only those of the flags given.
        verbose: bool,
    },
}

impl PatchRequest {
    pub fn from_args(args: &PatchArgs) -> anyhow::Result<Self> {
        let output = Output::from_flag(args.json);
        if args.revert {
            if args.dry_run || args.check {
                return Err(coded(
                    ExitCode::Usage,
                    "--revert cannot be combined with --dry-run or --check; run `sadfix patch --revert` alone",
                ));
            }
            return Ok(PatchRequest::Revert {
                force: args.force,
                output,
            });
        }
        let options = PatchOptions {
            force_gpu: args.force_gpu,
            batch_size: args.batch_size,
            cuda_timeout: args.cuda_timeout,
            compat: args.compat,
            site_packages: args.site_packages,
            offload_frames: args.offload_frames,
        };
        if options.is_empty() {
            return Err(coded(
                ExitCode::Usage,
                "say what to change: --force-gpu, --batch-size N, --cuda-timeout SECONDS, --compat, --offload-frames, or --revert",
            ));
        }
        let mode = if args.check {
            Mode::Check
        } else if args.dry_run {
            Mode::DryRun
        } else {
            Mode::Apply
        };
        Ok(PatchRequest::Change {
            options,
            mode,
            output,
            python: args.python.clone(),
            verbose: args.verbose,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn request(line: &[&str]) -> anyhow::Result<PatchRequest> {
        let cli = Cli::try_parse_from(line).unwrap();
        let Command::Patch(args) = cli.command else {
            panic!("not patch")
        };
        PatchRequest::from_args(&args)
    }

    #[test]
    fn flags_become_options_and_a_mode() {
        let got = request(&[
            "sadfix",
            "patch",
            "--compat",
            "--site-packages",
            "--dry-run",
        ])
        .unwrap();
        let PatchRequest::Change { options, mode, .. } = got else {
            panic!("{got:?}")
        };
        assert!(options.compat && options.site_packages && !options.force_gpu);
        assert_eq!(mode, Mode::DryRun);
    }

    #[test]
    fn nothing_asked_and_revert_with_dry_run_are_usage_errors() {
        for line in [
            &["sadfix", "patch"][..],
            &["sadfix", "patch", "--revert", "--check"],
        ] {
            let err = request(line).unwrap_err();
            assert!(err.to_string().contains("--revert"), "{err}");
        }
        assert!(Cli::try_parse_from(["sadfix", "patch", "--site-packages"]).is_err());
    }
}
