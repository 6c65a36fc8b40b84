//! `sadfix tune`: predict from the real audio whether the Face Renderer fits the GPU (the
//! preflight), measure each batch size and parallel runs with short trials through bench's
//! runner, recommend the fastest pair that fits, and apply it through the patch engine.
//!
//! `TuneArgs` -> `TuneOptions` -> preflight -> trials -> recommendation -> `TuneReport`
//! -> `report::tune`.

pub mod apply;
pub mod audio;
pub mod options;
pub mod outcome;
pub mod preflight;
pub mod recommend;
pub mod sweep;
pub mod trial;

use crate::cli::{GlobalArgs, TuneArgs};
use crate::exit::{coded, ExitCode};
use crate::install::Install;
use crate::report;
use anyhow::Context;
use options::TuneOptions;
use outcome::{Extra, TuneReport};
use preflight::{Inputs, Preflight};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use trial::{TrialSetup, TrialStatus};

/// Where the trials' result folders go, under the working directory (next to bench's).
pub const RESULTS: &str = ".sadfix-tune";

pub fn command(global: &GlobalArgs, args: &TuneArgs) -> anyhow::Result<ExitCode> {
    let options = TuneOptions::try_from(args).map_err(|e| coded(ExitCode::Usage, e))?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let install = crate::install::locate(global.root.as_deref(), &cwd)?;
    let doc = run(&install, options.clone(), &cwd)?;
    finish(doc, &options)
}

/// The preflight, the trials (each result folder under `cwd`) and, with `apply`, the winner
/// written through the patch engine: the report, printed by the caller.
pub fn run(install: &Install, mut options: TuneOptions, cwd: &Path) -> anyhow::Result<TuneReport> {
    let install = install.clone();
    let default_batch_size = apply::current_default(&install);
    // The speed-up is stated against the install's default, so the default is measured too.
    let missing = |d: &u32| (1..=64).contains(d) && !options.batch_sizes.contains(d);
    if let Some(d) = default_batch_size.filter(|d| missing(d) && !options.dry_run) {
        options.batch_sizes.push(d);
        options.batch_sizes.sort_unstable();
        report::note(&format!(
            "batch {d} (the install's default) joins the trials, to state the speed-up against it"
        ));
    }
    let audio_path = audio_file(&install, &options)?;
    let audio = audio::inspect(&audio_path).map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    let env = |var: &str| std::env::var(var).ok();
    let gpu = crate::gpu::facts::read(&env)?;
    let host_ram_free_mb =
        Some(crate::doctor::system::resources().available_ram as f64 / 1048576.0);
    let inputs = |gpu| Inputs {
        audio: &audio,
        size: options.size,
        batch_sizes: &options.batch_sizes,
        headroom_pct: options.headroom_pct,
        gpu,
        host_ram_free_mb,
    };
    let size = options.size;
    let first = preflight::assess(inputs(gpu.clone()), &|bs| {
        crate::gpu::memory::RunCost::prior(bs, size)
    });
    let mut extra = Extra {
        dry_run: options.dry_run,
        install: install.root.display().to_string(),
        default_batch_size,
        ..Extra::default()
    };
    if options.dry_run {
        return Ok(TuneReport::new(first, Vec::new(), None, extra));
    }
    report::note(&report::tune_progress::preflight_note(&first));

    let clip_dir =
        tempfile::tempdir().context("cannot create a temporary folder for the trial clip")?;
    let clip = clip_dir.path().join("sadfix-trial.wav");
    extra.clip_s = options.trial_seconds.min(audio.seconds);
    extra.clip_frames = audio::cut_trial(&audio.path, extra.clip_s, &clip)
        .map_err(|e| coded(ExitCode::Usage, e.to_string()))?;
    if extra.clip_frames == 21 || extra.clip_frames < 2 {
        return Err(coded(
            ExitCode::Usage,
            format!(
                "{}: {} frames is too short a trial (SadTalker crashes at 21 frames); pass --audio with at least 2 s",
                audio.path.display(),
                extra.clip_frames
            ),
        ));
    }
    let work_dir = work_dir(cwd);
    extra.work_dir = Some(work_dir.display().to_string());
    let setup = TrialSetup {
        install: &install,
        options: &options,
        clip: &clip,
        clip_frames: extra.clip_frames,
        work_dir: &work_dir,
    };
    let facts = sweep::MemoryFacts {
        size,
        full_frames: audio.frames,
        clip_frames: extra.clip_frames,
        budget_mb: first.budget_mb,
    };
    let live_line = std::io::stderr().is_terminal();
    let progress = move |now: &sweep::ProgressNow| report::tune_progress::progress(now, live_line);
    let trials = sweep::run(&setup, &facts, default_batch_size, &progress)?;
    report::tune_progress::progress_done(live_line);
    extra.simulated = trials.iter().any(|t| t.simulated);
    extra.gpu_unavailable = trials.iter().find_map(|t| t.gpu_unavailable.clone());
    extra.overhead_pct = overhead_pct(&trials);

    // The trials replace the priors wherever they measured the memory.
    let measured = preflight::assess(inputs(gpu), &|bs| {
        sweep::cost_of(&trials, bs, size, facts.clip_frames)
    });
    let failed = trials.iter().any(|t| t.status == TrialStatus::Failed);
    let gpu_telemetry = extra.gpu_unavailable.is_none();
    let mut recommendation = (!failed)
        .then(|| sweep::recommend(&trials, &facts, default_batch_size, gpu_telemetry))
        .flatten();
    if let (Some(rec), true) = (&mut recommendation, options.apply) {
        let plan = apply::apply(&install, rec.batch_size, &trials)
            .with_context(|| format!("cannot set the batch size default to {}", rec.batch_size))?;
        rec.applied = true;
        extra.applied = Some(plan);
    }
    if let Some(rec) = recommendation
        .as_ref()
        .filter(|r| r.parallel > 1 && options.host.is_none())
    {
        extra.parallel_command = Some(parallel_command(
            &install,
            rec.parallel,
            rec.batch_size,
            rec.applied,
        ));
    }
    Ok(TuneReport::new(measured, trials, recommendation, extra))
}

impl TuneReport {
    fn new(
        preflight: Preflight,
        trials: Vec<trial::Trial>,
        recommendation: Option<recommend::Recommendation>,
        extra: Extra,
    ) -> TuneReport {
        let device = outcome::trials_device(&trials);
        TuneReport {
            schema_version: report::SCHEMA_VERSION,
            device,
            preflight,
            trials,
            recommendation,
            extra,
        }
    }
}

fn finish(doc: TuneReport, options: &TuneOptions) -> anyhow::Result<ExitCode> {
    report::emit(&report::tune::render(&doc)).context("cannot write the report")?;
    if let Some(path) = &options.json {
        write_file(path, &report::to_json(&doc))?;
    }
    if let Some(path) = &options.svg {
        write_file(path, &report::tune_svg::chart(&doc))?;
    }
    if let Some(path) = &options.metrics {
        let now = std::time::SystemTime::now();
        report::metrics::write(path, &report::metrics::tune::tune(&doc, now))?;
    }
    Ok(doc.exit_code())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The audio given, or the one bench would use (the install's own example).
fn audio_file(install: &Install, options: &TuneOptions) -> anyhow::Result<PathBuf> {
    if let Some(path) = &options.audio {
        return Ok(path.clone());
    }
    // bench's own choice of example, so both commands render the same clip by default.
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let generation = crate::bench::options::Generation {
        python: options.python.clone(),
        ..Default::default()
    };
    Ok(crate::bench::live::plan(install, &generation, scratch.path())?.audio)
}

fn work_dir(cwd: &Path) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    cwd.join(RESULTS)
        .join(format!("{}-{}", stamp.as_secs(), std::process::id()))
}

/// The median share of a trial's time spent in tune itself.
fn overhead_pct(trials: &[trial::Trial]) -> Option<f64> {
    let mut shares: Vec<f64> = trials
        .iter()
        .filter_map(|t| t.wall_s.map(|w| 100.0 * t.overhead_s / (w + t.overhead_s)))
        .collect();
    shares.sort_by(f64::total_cmp);
    shares.get(shares.len() / 2).copied()
}

/// How to start `parallel` generations at once, each with its own result folder.
fn parallel_command(install: &Install, parallel: u32, batch_size: u32, applied: bool) -> String {
    let batch = if applied {
        String::new()
    } else {
        format!(" --batch_size {batch_size}")
    };
    format!(
        "cd {} && for i in $(seq 1 {parallel}); do python inference.py --driven_audio part$i.wav{batch} --result_dir results/run$i & done; wait",
        install.root.display()
    )
}
