//! Where a run comes from: a generation started now, or a trace recorded earlier. Both give a
//! `RunRecord`; nothing after this point knows which, except for the label a replay carries.

use super::live;
use super::options::{BenchOptions, Generation};
use super::record::RunRecord;
use super::runner::Event;
use super::started::Started;
use super::trace;
use crate::cli::GlobalArgs;
use crate::exit::{coded, ExitCode};
use crate::report;
use anyhow::Context;
use std::path::PathBuf;
use std::process::Command;

pub trait RunSource {
    /// The whole run. `observe` sees lines and samples as they arrive (a replay shows none).
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord>;

    /// The trace being replayed, for the report's label; `None` for a live run.
    fn replay_of(&self) -> Option<String>;
}

/// Run the install's `inference.py` now.
pub struct LiveRun<'a> {
    pub global: &'a GlobalArgs,
    pub options: &'a BenchOptions,
    pub generation: &'a Generation,
}

impl RunSource for LiveRun<'_> {
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let install = crate::install::locate(self.global.root.as_deref(), &cwd)?;
        let plan = live::plan(&install, self.generation, &cwd)?;
        report::note(&report::bench::starting(&plan.argv, &plan.result_dir));
        live::run(plan, &install, self.options, observe)
    }

    fn replay_of(&self) -> Option<String> {
        None
    }
}

/// Run a host's own command line (no shell), marked so that all it starts is part of the run.
pub struct ExecRun<'a> {
    pub options: &'a BenchOptions,
    pub argv: &'a [String],
}

impl RunSource for ExecRun<'_> {
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let mut command = Command::new(&self.argv[0]);
        command.args(&self.argv[1..]);
        report::note(&report::bench::starting_host(self.argv, &self.options.logs));
        let mut started = Started::now(command, self.argv.to_vec(), self.options, Some("exec"))?;
        let output = started.run(observe)?;
        let video = output_video(&output.lines, output.wall_s, &cwd);
        Ok(started.record(output, video))
    }

    fn replay_of(&self) -> Option<String> {
        None
    }
}

/// Watch a process already running; never signal it.
pub struct AttachRun<'a> {
    pub options: &'a BenchOptions,
    pub pid: u32,
}

impl RunSource for AttachRun<'_> {
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        if !super::runner::alive(self.pid) {
            return Err(coded(
                ExitCode::Usage,
                format!(
                    "--attach {}: no such process; give the id of a running process",
                    self.pid
                ),
            ));
        }
        let mut started = Started::watching(self.pid, self.options);
        report::note(&report::bench::attaching(
            self.pid,
            &started.argv,
            &self.options.logs,
        ));
        let output = started.run(observe)?;
        // The server's working directory is where its relative video paths start.
        let root = std::fs::read_link(format!("/proc/{}/cwd", self.pid)).unwrap_or(cwd);
        let video = output_video(&output.lines, output.wall_s, &root);
        Ok(started.record(output, video))
    }

    fn replay_of(&self) -> Option<String> {
        None
    }
}

/// The video the run named, looked for from `dir`.
fn output_video(
    lines: &[super::record::OutputLine],
    wall_s: f64,
    dir: &std::path::Path,
) -> Option<super::record::VideoInfo> {
    let timeline = super::stages::parse(lines, wall_s);
    let ffprobe = crate::install::on_path("ffprobe");
    timeline
        .output_video
        .map(|named| super::media::probe_video(&dir.join(named), ffprobe.as_deref()))
}

/// Read a trace written by `--record` (or by hand); runs nothing.
pub struct TraceReplay {
    pub dir: PathBuf,
}

impl RunSource for TraceReplay {
    fn record(&mut self, _observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord> {
        trace::read(&self.dir).map_err(|e| {
            coded(
                ExitCode::Usage,
                format!("cannot replay {}: {e}", self.dir.display()),
            )
        })
    }

    fn replay_of(&self) -> Option<String> {
        Some(self.dir.display().to_string())
    }
}
