//! The command line, as clap derive types only. Validation of values lives with the commands.

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::ffi::OsString;
use std::path::PathBuf;

/// `bench --interval` when none is given, in milliseconds.
pub const DEFAULT_INTERVAL_MS: u64 = 250;

#[derive(Debug, Parser)]
#[command(
    name = "sadfix",
    version,
    about = "Find out why SadTalker is not using the GPU, fix its code safely, and prove it",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Parse `args` (the program name first), with clap's own help and usage errors coloured as
/// `--color` asks; clap alone would only look at the terminal and `NO_COLOR`.
pub fn parse_from(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let color = match color_asked(&args) {
        Some(ColorChoice::Always) => clap::ColorChoice::Always,
        Some(ColorChoice::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let matches = Cli::command().color(color).try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))
}

/// The last `--color` value before `--`, read before clap runs (so it also governs `--help`).
fn color_asked(args: &[OsString]) -> Option<ColorChoice> {
    let mut asked = None;
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        let value = match arg.as_ref() {
            "--" => break,
            "--color" => args.next().map(|v| v.into_owned()),
            other => other.strip_prefix("--color=").map(str::to_owned),
        };
        if let Some(value) = value {
            asked = <ColorChoice as ValueEnum>::from_str(&value, false)
                .ok()
                .or(asked);
        }
    }
    asked
}

/// Options every command understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The SadTalker install (or the app that hosts it); default: walk up from the working directory.
    #[arg(long, global = true, value_name = "PATH", value_hint = ValueHint::DirPath)]
    pub root: Option<PathBuf>,
    /// Colour tables, diffs and the progress line: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress line and no hints on stderr; results and errors are still printed.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The values of `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

// Parsed once per process, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose why SadTalker is not on the GPU, with the fix for each finding.
    Doctor(DoctorArgs),
    /// Rewrite the device-selection and batch-size code by syntax (diff, backup, revert).
    Patch(PatchArgs),
    /// List every device-selection and batch-size site and what `patch` would do with it.
    Scan(ScanArgs),
    /// Run a generation, follow it stage by stage, and judge GPU use against expectations.
    Bench(BenchArgs),
    /// Find the fastest batch size and parallel runs this GPU holds; predict out-of-memory first.
    Tune(TuneArgs),
    /// The whole procedure: diagnose, apply the code fixes, prove them with a before/after run, roll back what made it worse.
    Fix(FixArgs),
    /// Print a shell completion script to stdout (for example `sadfix completions bash`).
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to stdout: `sadfix man | man -l -`.
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The Python whose packages gate the compat sites (same discovery as doctor).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct PatchArgs {
    /// Make the CUDA branch of the device selection unconditional (`--cpu` keeps working).
    #[arg(long, conflicts_with_all = ["cuda_timeout", "revert"])]
    pub force_gpu: bool,
    /// Set the default of the `--batch_size` argument (1 to 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64), conflicts_with = "revert")]
    pub batch_size: Option<u32>,
    /// Bound the CUDA check: ask a child Python with this deadline instead of calling it inline.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=3600), conflicts_with = "revert")]
    pub cuda_timeout: Option<u32>,
    /// Fix the code that packages newer than SadTalker's pins break (gated on the installed versions).
    #[arg(long, conflicts_with = "revert")]
    pub compat: bool,
    /// With --compat: also fix basicsr in the install Python's site-packages.
    #[arg(long, requires = "compat")]
    pub site_packages: bool,
    /// Keep each rendered batch on the host in the Face Renderer loop (GPU memory stops growing with the clip).
    #[arg(long, conflicts_with = "revert")]
    pub offload_frames: bool,
    /// The Python whose packages gate --compat (same discovery as doctor).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Restore every file sadfix changed to its original bytes.
    #[arg(long)]
    pub revert: bool,
    /// With --revert: restore even files that changed since sadfix wrote them.
    #[arg(long, requires = "revert")]
    pub force: bool,
    /// Only show the diff; write nothing.
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Write nothing; exit 1 when something would change (for CI).
    #[arg(long)]
    pub check: bool,
    /// Print what changed as JSON instead of a diff.
    #[arg(long)]
    pub json: bool,
    /// Also list the sites the flags given are not about (device and batch-size sites under --compat).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The Python interpreter SadTalker runs with; default: the install's venv, the venv sadfix is installed in, $VIRTUAL_ENV, $CONDA_PREFIX, python3 (docs/install.md).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Deadline for each probe, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 20.0,
        allow_negative_numbers = true
    )]
    pub timeout: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also predict whether this audio fits the GPU's memory (check `preflight.memory`).
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Write Prometheus metrics to FILE, atomically (for node_exporter's textfile collector, name it *.prom).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The Python interpreter to run inference.py with (same discovery as doctor).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Driving audio (WAV); default: the install's own example.
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Source image; default: the install's own example.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Passed to inference.py as --batch_size.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u32>,
    /// Passed to inference.py as --size (256 or 512).
    #[arg(long, value_name = "PX")]
    pub size: Option<u32>,
    /// Passed to inference.py as --enhancer (for example gfpgan).
    #[arg(long, value_name = "NAME")]
    pub enhancer: Option<String>,
    /// Passed to inference.py as --preprocess (crop, resize, full, extcrop, extfull).
    #[arg(long, value_name = "MODE")]
    pub preprocess: Option<String>,
    /// Deadline for the whole generation, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800.0,
        allow_negative_numbers = true
    )]
    pub timeout: f64,
    /// Telemetry sampling interval, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_INTERVAL_MS)]
    pub interval: u64,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a timeline picture (SVG) to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write Prometheus metrics to FILE, atomically (for node_exporter's textfile collector, name it *.prom).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Record the run as a trace in DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Build the report from a recorded trace in DIR; runs nothing.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Expectations YAML; default: the guide's numbers, embedded.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Fail the GPU expectations when no GPU telemetry is available instead of skipping them.
    #[arg(long)]
    pub require_gpu: bool,
    /// Run the host's own command (given after --) instead of the install's inference.py.
    #[arg(long, conflicts_with_all = ["replay", "attach"])]
    pub exec: bool,
    /// Watch a generation already running in process PID (and its tree); signals nothing.
    #[arg(long, value_name = "PID", conflicts_with = "replay")]
    pub attach: Option<u32>,
    /// With --attach: stop watching after this many seconds (default: when PID exits, or Ctrl-C).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Follow a log file the host writes, as `tail -F` does (repeatable; `*` and `?` allowed).
    #[arg(long, value_name = "FILE")]
    pub log: Vec<String>,
    /// Arguments passed verbatim to inference.py; with --exec, the command to run.
    #[arg(last = true, value_name = "INFERENCE_ARGS")]
    pub passthrough: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// The Python interpreter to run inference.py with (same discovery as doctor).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// The audio you will really render (WAV); default: the install's own example.
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Source image; default: the install's own example.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// The render size, 256 or 512 (passed to inference.py as --size).
    #[arg(long, value_name = "PX", default_value_t = 256)]
    pub size: u32,
    /// Batch sizes to try, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,2,4,8,16"
    )]
    pub batch_sizes: Vec<u32>,
    /// Numbers of generations at once to try at the best batch size, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pub parallel: Vec<u32>,
    /// Length of the trial clip cut from the start of the audio, in seconds.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 4.0,
        allow_negative_numbers = true
    )]
    pub trial_seconds: f64,
    /// Deadline for each trial generation, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600.0,
        allow_negative_numbers = true
    )]
    pub timeout: f64,
    /// Share of the GPU's free memory to keep unused, in percent.
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 15.0,
        allow_negative_numbers = true
    )]
    pub headroom: f64,
    /// Only the preflight: predict memory for the full audio; run nothing.
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
    /// Set the winning batch size as the install's default (through `sadfix patch`).
    #[arg(long)]
    pub apply: bool,
    /// Write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a chart (SVG) of throughput and memory against batch size to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write Prometheus metrics to FILE, atomically (for node_exporter's textfile collector, name it *.prom).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Run the host's own command (given after --) for each trial instead of inference.py; it
    /// must hold {audio} and {batch_size}, and may hold {image}, {size} and {result_dir}.
    #[arg(long, requires = "audio", conflicts_with = "apply")]
    pub exec: bool,
    /// Arguments passed verbatim to inference.py in every trial; with --exec, the command to run.
    #[arg(last = true, value_name = "INFERENCE_ARGS")]
    pub passthrough: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// The Python interpreter SadTalker runs with (same discovery as doctor).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// The audio you render (WAV); the trials use its first --trial-seconds. Default: the install's example.
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Source image; default: the install's own example.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Length of the before and after trial clip, cut from the start of the audio, in seconds.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 4.0,
        allow_negative_numbers = true
    )]
    pub trial_seconds: f64,
    /// Also measure batch sizes after the device fix (sadfix tune) and apply the winner.
    #[arg(long)]
    pub tune: bool,
    /// Show the diagnosis and the plan (cause, recipe, diff); measure nothing, write nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Apply without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Apply without the before and after runs (the result then says "not measured").
    #[arg(long)]
    pub no_measure: bool,
    /// Also fix basicsr in the install Python's site-packages (backed up, undone by `sadfix patch --revert`).
    #[arg(long)]
    pub site_packages: bool,
    /// Deadline for each trial generation, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600.0,
        allow_negative_numbers = true
    )]
    pub timeout: f64,
    /// Write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write both runs' timelines on one time axis (SVG) to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write Prometheus metrics to FILE, atomically (for node_exporter's textfile collector, name it *.prom).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Arguments passed verbatim to inference.py in both trials.
    #[arg(last = true, value_name = "INFERENCE_ARGS")]
    pub passthrough: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn color_is_read_before_parsing_and_the_last_one_wins() {
        assert_eq!(
            color_asked(&args("sadfix --color never --help")),
            Some(ColorChoice::Never)
        );
        assert_eq!(
            color_asked(&args("sadfix scan --color=never --color always")),
            Some(ColorChoice::Always)
        );
        assert_eq!(color_asked(&args("sadfix bench -- --color never")), None);
        let cli = parse_from(args("sadfix patch --check --color never -q")).unwrap();
        assert_eq!(cli.global.color, ColorChoice::Never);
        assert!(cli.global.quiet);
    }

    #[test]
    fn force_gpu_and_cuda_timeout_conflict() {
        let err = Cli::try_parse_from(["sadfix", "patch", "--force-gpu", "--cuda-timeout", "5"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn a_negative_timeout_reaches_the_commands_own_check() {
        // Not "unexpected argument '-1'": the command says what a timeout must be.
        for sub in ["doctor", "bench"] {
            assert!(Cli::try_parse_from(["sadfix", sub, "--timeout", "-1"]).is_ok());
        }
    }

    #[test]
    fn batch_size_out_of_range_is_rejected() {
        for bad in ["0", "65", "-1", "four"] {
            assert!(
                Cli::try_parse_from(["sadfix", "patch", "--batch-size", bad]).is_err(),
                "{bad} was accepted"
            );
        }
        assert!(Cli::try_parse_from(["sadfix", "patch", "--batch-size", "64"]).is_ok());
    }
}
