//! `sadfix bench`: run a generation (or replay a recorded one), follow its stages, sample
//! telemetry, and judge GPU use against the guide's numbers.
//!
//! raw output -> `RunRecord` (live or replayed) -> `Timeline` (stages) -> `BenchReport`
//! (figures and verdicts) -> `report::bench` / `report::svg`.

pub mod ansi;
pub mod census;
pub mod device;
pub mod expect;
pub mod follow;
pub mod host;
mod intake;
pub mod judge;
pub mod lines;
pub mod live;
pub mod markers;
pub mod media;
mod message;
pub mod options;
pub mod outcome;
pub mod record;
pub mod runner;
pub mod sampler;
pub mod source;
pub mod sources;
pub mod stages;
pub mod started;
pub mod status;
pub mod summary;
pub mod telemetry;
pub mod tqdm;
pub mod trace;

use crate::cli::{BenchArgs, GlobalArgs};
use crate::exit::{coded, ExitCode};
use crate::report;
use anyhow::Context;
use expect::Expectations;
use options::{BenchOptions, Target};
use outcome::{build, BenchReport, Build};
use record::RunRecord;
use runner::Event;
use source::{AttachRun, ExecRun, LiveRun, RunSource, TraceReplay};
use stages::StageParser;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the live progress line is redrawn at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

pub fn command(global: &GlobalArgs, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let options =
        BenchOptions::from_args(args).map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    run(global, &options)
}

/// `bench` with its options checked.
pub fn run(global: &GlobalArgs, options: &BenchOptions) -> anyhow::Result<ExitCode> {
    let expectations = match &options.expect {
        Some(path) => {
            Expectations::load(path).map_err(|e| coded(ExitCode::Usage, e.to_string()))?
        }
        None => Expectations::builtin(),
    };
    let mut source: Box<dyn RunSource + '_> = match &options.target {
        Target::Replay { dir } => Box::new(TraceReplay { dir: dir.clone() }),
        Target::Install(generation) => Box::new(LiveRun {
            global,
            options,
            generation,
        }),
        Target::Exec { argv } => Box::new(ExecRun { options, argv }),
        Target::Attach { pid, .. } => Box::new(AttachRun { options, pid: *pid }),
    };
    // Found out now, not after a generation that may take half an hour.
    if let Some(dir) = &options.record {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot record the trace in {}", dir.display()))?;
    }
    let record = follow(source.as_mut())?;
    let replay_of = source.replay_of();
    let mut report = report_of(&record, &expectations, replay_of, options.require_gpu);
    let recorded = options.record.as_ref().map(|dir| {
        trace::write(dir, &record)
            .with_context(|| format!("cannot record the trace in {}", dir.display()))
            .map(|()| dir)
    });
    if let Some(Ok(dir)) = &recorded {
        report.recorded_to = Some(dir.display().to_string());
    }
    // The report of a finished run is shown even when its trace could not be written.
    write_outputs(&report, options)?;
    if let Some(Err(e)) = recorded {
        return Err(e);
    }
    Ok(report.exit_code())
}

/// Which device the runs behind `reports` used, by bench's judgement of each (the output's
/// claim, the process tree's GPU memory, the CPU tells): for the commands that run
/// generations and must say where they ran (tune's trials, fix's runs).
pub fn device_of<'a>(reports: impl IntoIterator<Item = &'a BenchReport>) -> device::RunsDevice {
    device::of_runs(reports.into_iter().map(|r| &r.device))
}

/// The report for a record, live or replayed: the same path for both.
pub fn report_of(
    record: &RunRecord,
    expectations: &Expectations,
    replay_of: Option<String>,
    require_gpu: bool,
) -> BenchReport {
    let timeline = stages::parse(&record.lines, record.meta.wall_s);
    build(Build {
        record,
        timeline: &timeline,
        expectations,
        replay_of,
        require_gpu,
    })
}

/// Take the run from its source, with a live progress line when stderr is a terminal.
fn follow(source: &mut dyn RunSource) -> anyhow::Result<RunRecord> {
    let live_line = source.replay_of().is_none() && std::io::stderr().is_terminal();
    let mut parser = StageParser::new();
    let mut gpu_now = None;
    let mut drawn = Instant::now()
        .checked_sub(PROGRESS_EVERY)
        .unwrap_or_else(Instant::now);
    let mut observe = |event: Event| {
        if !live_line {
            return;
        }
        match event {
            Event::Line(line) => parser.feed(line),
            Event::Sample(sample) => gpu_now = sample.gpu_util,
        }
        // A fast bar redraws hundreds of times a second; the terminal needs a few.
        if drawn.elapsed() >= PROGRESS_EVERY {
            report::bench::progress(parser.current(), gpu_now);
            drawn = Instant::now();
        }
    };
    let record = source.record(&mut observe)?;
    if live_line {
        report::bench::progress_done();
    }
    Ok(record)
}

fn write_outputs(report: &BenchReport, args: &BenchOptions) -> anyhow::Result<()> {
    report::emit(&report::bench::render(report)).context("cannot write the report")?;
    if let Some(path) = &args.json {
        write_file(path, &report::to_json(report))?;
    }
    if let Some(path) = &args.svg {
        write_file(path, &report::svg::timeline(report))?;
    }
    if let Some(path) = &args.metrics {
        let now = std::time::SystemTime::now();
        report::metrics::write(path, &report::metrics::bench::bench(report, now))?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
