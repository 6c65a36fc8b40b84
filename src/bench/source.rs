//! Where a run comes from: a generation started now, or a trace recorded earlier. Both give a
//! `RunRecord`; nothing after this point knows which, except for the label a replay carries.

use super::live;
use super::record::RunRecord;
use super::runner::Event;
use super::trace;
use crate::cli::{BenchArgs, GlobalArgs};
use crate::exit::{coded, ExitCode};
use crate::report;
use anyhow::Context;
use std::path::PathBuf;

pub trait RunSource {
    /// The whole run. `observe` sees lines and samples as they arrive (a replay shows none).
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord>;

    /// The trace being replayed, for the report's label; `None` for a live run.
    fn replay_of(&self) -> Option<String>;
}

/// Run the install's `inference.py` now.
pub struct LiveRun<'a> {
    pub global: &'a GlobalArgs,
    pub args: &'a BenchArgs,
}

impl RunSource for LiveRun<'_> {
    fn record(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunRecord> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let install = crate::install::locate(self.global.root.as_deref(), &cwd)?;
        let plan = live::plan(&install, self.args, &cwd)?;
        report::note(&report::bench::starting(&plan.argv, &plan.result_dir));
        live::run(plan, &install, self.args, observe)
    }

    fn replay_of(&self) -> Option<String> {
        None
    }
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
