//! One trial: P generations of the trial clip at one batch size, each through bench's runner
//! (its own process group, the deadline, Ctrl-C ending the group), each in its own result
//! directory; then the figures tune ranks by, read from bench's own report of each run.

use super::options::TuneOptions;
use crate::bench::device::RunsDevice;
use crate::bench::expect::Expectations;
use crate::bench::markers::{FailureKind, StageId};
use crate::bench::options::{BenchOptions, Generation};
use crate::bench::outcome::{BenchReport, GpuTelemetry};
use crate::bench::record::{RunEnding, RunRecord};
use crate::bench::runner::Event;
use crate::bench::{live, report_of};
use crate::install::Install;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a trial came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    Ok,
    /// The GPU ran out of memory: a data point, not a failure of tune.
    Oom,
    Failed,
    /// Not run: "would not fit", or throughput had stopped rising.
    Skipped,
}

/// One row of the trial table. Serialises to an entry of `trials` in `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub batch_size: u32,
    pub parallel: u32,
    pub status: TrialStatus,
    pub render_s_per_frame: Option<f64>,
    pub wall_s: Option<f64>,
    pub videos_per_min: Option<f64>,
    /// Peak GPU memory of the generations' process trees (summed over parallel runs), MiB.
    pub gpu_mem_peak_mb: Option<f64>,
    pub gpu_util_mean: Option<f64>,
    /// Where its generations ran, by bench's judgement: `cuda`, `cpu`, `mixed` or `unknown`
    /// (absent for a trial that was not run).
    #[serde(
        rename = "device",
        serialize_with = "device_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub device: Option<RunsDevice>,
    /// Why it was skipped, or what failed.
    #[serde(skip)]
    pub note: Option<String>,
    #[serde(skip)]
    pub cpu_mean: Option<f64>,
    /// The process memory when `Face Renderer:` began (W'), MiB, of the first run.
    #[serde(skip)]
    pub baseline_mb: Option<f64>,
    /// The failed run's report, for bench's diagnosis.
    #[serde(skip)]
    pub failure: Option<Box<BenchReport>>,
    /// What tune itself spent around the generations (planning, parsing, reports), seconds.
    #[serde(skip)]
    pub overhead_s: f64,
    /// The runs came from the simulated install (a test double).
    #[serde(skip)]
    pub simulated: bool,
    /// Why there was no GPU telemetry during the runs, if there was none.
    #[serde(skip)]
    pub gpu_unavailable: Option<String>,
}

impl Trial {
    /// A trial that was not run, and why.
    pub fn skipped(batch_size: u32, parallel: u32, why: &str) -> Trial {
        Trial {
            note: Some(why.to_string()),
            ..Trial::blank(batch_size, parallel, TrialStatus::Skipped)
        }
    }

    /// A row with no figures yet.
    pub fn blank(batch_size: u32, parallel: u32, status: TrialStatus) -> Trial {
        Trial {
            batch_size,
            parallel,
            status,
            render_s_per_frame: None,
            wall_s: None,
            videos_per_min: None,
            gpu_mem_peak_mb: None,
            gpu_util_mean: None,
            device: None,
            note: None,
            cpu_mean: None,
            baseline_mb: None,
            failure: None,
            overhead_s: 0.0,
            simulated: false,
            gpu_unavailable: None,
        }
    }
}

/// What every trial shares.
pub struct TrialSetup<'a> {
    pub install: &'a Install,
    pub options: &'a TuneOptions,
    pub clip: &'a Path,
    pub clip_frames: u64,
    /// Each generation's working folder goes under it (bench puts its result directory there).
    pub work_dir: &'a Path,
}

/// The generation bench runs for one trial: the clip at this batch size, with the user's image,
/// size, interpreter and pass-through arguments.
fn generation(setup: &TrialSetup, batch_size: u32) -> Generation {
    let o = setup.options;
    Generation {
        python: o.python.clone(),
        audio: Some(setup.clip.to_path_buf()),
        image: o.image.clone(),
        batch_size: Some(batch_size),
        size: Some(o.size),
        passthrough: o.passthrough.clone(),
        host: o.host.clone(),
        ..Generation::default()
    }
}

/// Run `parallel` generations at once at `batch_size`; `observe` sees the first one's output.
pub fn run(
    setup: &TrialSetup,
    batch_size: u32,
    parallel: u32,
    observe: &mut (dyn FnMut(Event) + Send),
) -> anyhow::Result<Trial> {
    let started = Instant::now();
    let generation = generation(setup, batch_size);
    let options = BenchOptions::for_generation(generation.clone(), setup.options.timeout);
    let dirs: Vec<PathBuf> = (1..=parallel)
        .map(|i| {
            setup
                .work_dir
                .join(format!("batch{batch_size}-x{parallel}-{i}"))
        })
        .collect();
    let mut plans = Vec::new();
    for dir in &dirs {
        plans.push(live::plan(setup.install, &generation, dir)?);
    }
    let records: Vec<anyhow::Result<RunRecord>> = std::thread::scope(|scope| {
        let mut first = Some(observe);
        let handles: Vec<_> = plans
            .into_iter()
            .map(|plan| {
                let watcher = first.take();
                let options = &options;
                scope.spawn(move || match watcher {
                    Some(obs) => live::run(plan, setup.install, options, obs),
                    None => live::run(plan, setup.install, options, &mut |_| {}),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a trial thread panicked")))
            })
            .collect()
    });
    let mut reports = Vec::new();
    for record in records {
        let record = record?;
        let report = report_of(&record, &Expectations::builtin(), None, false);
        reports.push((record, report));
    }
    let mut trial = measure(batch_size, parallel, setup.clip_frames, &reports);
    let generations_s = trial.wall_s.unwrap_or(0.0);
    let total_s = started.elapsed().as_secs_f64();
    // Everything but the generations themselves: planning, the reports, the joins.
    trial.overhead_s = (total_s - generations_s).max(0.0);
    Ok(trial)
}

/// The trial's figures from bench's reports of its runs.
pub fn measure(
    batch_size: u32,
    parallel: u32,
    frames: u64,
    runs: &[(RunRecord, BenchReport)],
) -> Trial {
    let mut trial = Trial::blank(batch_size, parallel, TrialStatus::Ok);
    trial.device = Some(crate::bench::device_of(runs.iter().map(|(_, rep)| rep)));
    trial.simulated = runs.iter().any(|(_, rep)| rep.simulated);
    trial.gpu_unavailable = runs
        .iter()
        .find(|(_, rep)| rep.telemetry.gpu != GpuTelemetry::Nvml)
        .map(|(_, rep)| {
            rep.telemetry
                .reason
                .clone()
                .unwrap_or_else(|| "no NVML".into())
        });
    if let Some((_, failed)) = runs
        .iter()
        .find(|(r, rep)| rep.run.failed && !is_oom(r, rep))
    {
        trial.status = TrialStatus::Failed;
        trial.note = failed.run.cause.clone();
        trial.failure = Some(Box::new(failed.clone()));
        return trial;
    }
    if runs.iter().any(|(r, rep)| is_oom(r, rep)) {
        trial.status = TrialStatus::Oom;
        trial.note = Some("CUDA out of memory".into());
        trial.gpu_mem_peak_mb = sum(runs.iter().map(|(_, rep)| rep.overall.proc_gpu_mem_peak_mb));
        return trial;
    }
    let wall = runs.iter().map(|(r, _)| r.meta.wall_s).fold(0.0, f64::max);
    trial.status = TrialStatus::Ok;
    trial.wall_s = Some(wall);
    trial.videos_per_min = (wall > 0.0).then(|| 60.0 * parallel as f64 / wall);
    let render: Vec<f64> = runs
        .iter()
        .filter_map(|(_, rep)| rep.stages.iter().find(|s| s.id == StageId::FaceRenderer))
        .map(|s| s.duration_s / frames.max(1) as f64)
        .collect();
    trial.render_s_per_frame =
        (!render.is_empty()).then(|| render.iter().sum::<f64>() / render.len() as f64);
    trial.gpu_mem_peak_mb = sum(runs.iter().map(|(_, rep)| rep.overall.proc_gpu_mem_peak_mb));
    trial.gpu_util_mean = runs.first().and_then(|(_, rep)| rep.overall.gpu_util_mean);
    trial.cpu_mean = sum(runs.iter().map(|(_, rep)| rep.overall.cpu_mean));
    trial.baseline_mb = runs.first().and_then(|(r, rep)| baseline_mb(r, rep));
    trial
}

fn device_name<S: serde::Serializer>(d: &Option<RunsDevice>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(d.device),
        None => s.serialize_none(),
    }
}

/// A sum that is `None` unless every part was measured.
fn sum(parts: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    parts.sum()
}

/// bench's out-of-memory tell, or the driver-level form that expandable segments raise.
fn is_oom(record: &RunRecord, report: &BenchReport) -> bool {
    if report.run.failure_kind == Some(FailureKind::OutOfMemory) {
        return true;
    }
    !matches!(record.meta.ending, RunEnding::Exited { code: 0 })
        && record.lines.iter().any(|l| {
            l.text.contains("CUDA driver error: out of memory")
                || l.text.contains("CUDA error: out of memory")
        })
}

/// W': the process tree's GPU memory at the first sample inside `Face Renderer`.
fn baseline_mb(record: &RunRecord, report: &BenchReport) -> Option<f64> {
    let start = report
        .stages
        .iter()
        .find(|s| s.id == StageId::FaceRenderer)?
        .start_s;
    record
        .samples
        .iter()
        .find(|s| s.t >= start && s.proc_gpu_mem_mb.is_some())
        .and_then(|s| s.proc_gpu_mem_mb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn a_trial_is_a_bench_run_of_the_clip_at_its_batch_size() {
        let cli = Cli::try_parse_from([
            "sadfix",
            "tune",
            "--size",
            "512",
            "--timeout",
            "90",
            "--",
            "--still",
        ])
        .unwrap();
        let Command::Tune(args) = cli.command else {
            unreachable!()
        };
        let options = TuneOptions::try_from(&args).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sim-install");
        let install = crate::install::locate(Some(&root), &root).unwrap();
        let setup = TrialSetup {
            install: &install,
            options: &options,
            clip: Path::new("/tmp/clip.wav"),
            clip_frames: 100,
            work_dir: Path::new("/tmp/work"),
        };
        let g = generation(&setup, 8);
        assert_eq!(g.batch_size, Some(8));
        assert_eq!(g.size, Some(512));
        assert_eq!(g.audio.as_deref(), Some(Path::new("/tmp/clip.wav")));
        assert_eq!(g.passthrough, vec!["--still".to_string()]);
        let b = BenchOptions::for_generation(g, options.timeout);
        assert_eq!(b.timeout, std::time::Duration::from_secs(90));
        assert!(b.json.is_none() && b.record.is_none() && b.logs.is_empty());
    }
}
