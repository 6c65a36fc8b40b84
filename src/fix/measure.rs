//! One trial generation, before or after the fix: the first seconds of the user's audio run
//! through bench's runner (process group, deadline, Ctrl-C, NVML and CPU sampling) and judged
//! by bench's own report, with the Face Renderer's figures `judge` compares.

use super::noise::{self, RenderTiming};
use super::options::FixOptions;
use crate::bench::expect::Expectations;
use crate::bench::options::{BenchOptions, Generation};
use crate::bench::outcome::BenchReport;
use crate::bench::runner::Event;
use crate::bench::{live, report_of};
use crate::exit::{coded, ExitCode};
use crate::install::Install;
use crate::tune::audio;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The trial clip both runs render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clip {
    /// The audio it was cut from.
    pub source: String,
    pub seconds: f64,
    pub frames: u64,
    #[serde(skip)]
    pub path: PathBuf,
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Measured {
    pub report: BenchReport,
    pub render: Option<RenderTiming>,
}

/// Cut the first `--trial-seconds` of the audio (the install's example when none is given)
/// into `dir`.
pub fn clip(install: &Install, options: &FixOptions, dir: &Path) -> anyhow::Result<Clip> {
    let source = match &options.audio {
        Some(path) => path.clone(),
        None => {
            // bench's own choice of example, so `fix` renders what `bench` would.
            let generation = Generation {
                python: options.python.clone(),
                ..Generation::default()
            };
            live::plan(install, &generation, dir)?.audio
        }
    };
    let facts = audio::inspect(&source).map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    let seconds = options.trial_seconds.min(facts.seconds);
    let path = dir.join("sadfix-fix-trial.wav");
    let frames = audio::cut_trial(&source, seconds, &path)
        .map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    if frames == 21 || frames < 2 {
        return Err(coded(
            ExitCode::Usage,
            format!(
                "{}: {frames} frames is too short a trial (SadTalker crashes at 21 frames); pass --audio with at least 2 s",
                source.display()
            ),
        ));
    }
    Ok(Clip {
        source: source.display().to_string(),
        seconds,
        frames,
        path,
    })
}

/// What both runs share.
pub struct Trial<'a> {
    pub install: &'a Install,
    pub options: &'a FixOptions,
    pub clip: &'a Clip,
    /// Each run's result folder goes under it.
    pub work_dir: &'a Path,
}

/// Run the clip once, at the install's own batch-size default, through bench's runner.
pub fn run(trial: &Trial, label: &str, observe: &mut dyn FnMut(Event)) -> anyhow::Result<Measured> {
    let o = trial.options;
    let generation = Generation {
        python: o.python.clone(),
        audio: Some(trial.clip.path.clone()),
        image: o.image.clone(),
        passthrough: o.passthrough.clone(),
        ..Generation::default()
    };
    let bench = BenchOptions::for_generation(generation.clone(), o.timeout);
    let dir = trial.work_dir.join(label);
    let plan = live::plan(trial.install, &generation, &dir)?;
    let record = live::run(plan, trial.install, &bench, observe)
        .with_context(|| format!("cannot run the {label} trial"))?;
    let report = report_of(&record, &Expectations::builtin(), None, false);
    let render = noise::render_timing(&record, &report, trial.clip.frames);
    Ok(Measured { report, render })
}
