//! The trials in order: every batch size one at a time (after an out-of-memory the larger ones
//! are skipped as "would not fit"; any other failure stops the sweep), then P runs at once at
//! the best batch size, raising P while throughput rises and the memory would fit.

use super::recommend::{self, Recommendation, Rule};
use super::trial::{self, Trial, TrialSetup, TrialStatus};
use crate::bench::runner::Event;
use crate::bench::stages::{StageParser, StageSpan};
use crate::gpu::memory::{self, RunCost};
use std::time::{Duration, Instant};

/// How often the progress line is redrawn at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the progress line shows.
pub struct ProgressNow<'a> {
    /// The trial is about to start (the first call for it).
    pub starting: bool,
    pub trial: usize,
    pub batch_size: u32,
    pub parallel: u32,
    pub stage: Option<&'a StageSpan>,
    pub elapsed_s: f64,
    /// From the previous trial's wall time.
    pub estimate_s: Option<f64>,
}

/// Where progress goes (a terminal line, a log line, or nowhere).
pub type ProgressSink<'a> = &'a (dyn Fn(&ProgressNow) + Sync);

/// The memory facts the sweep and the rule share.
pub struct MemoryFacts {
    pub size: u32,
    pub full_frames: u64,
    /// The trial clip's frames, which the trials' peaks were measured over.
    pub clip_frames: u64,
    pub budget_mb: Option<f64>,
}

/// The cost of one run at `batch_size`: a trial's measurement where there is one, else the
/// priors (with the baseline W' of any trial that measured it).
pub fn cost_of(trials: &[Trial], batch_size: u32, size: u32, clip_frames: u64) -> RunCost {
    let at = trials
        .iter()
        .find(|t| t.batch_size == batch_size && t.parallel == 1 && t.status == TrialStatus::Ok);
    if let Some((baseline, peak)) = at.and_then(|t| t.baseline_mb.zip(t.gpu_mem_peak_mb)) {
        return RunCost::measured(baseline, peak, clip_frames, batch_size, size);
    }
    let mut cost = RunCost::prior(batch_size, size);
    if let Some(w) = trials
        .iter()
        .find_map(|t| t.baseline_mb.filter(|_| t.parallel == 1))
    {
        cost.baseline_mb = w;
    }
    cost
}

/// Predicted peak of `parallel` runs of the full audio, or `None` without GPU facts.
pub fn need_mb(trials: &[Trial], m: &MemoryFacts, bs: u32, parallel: u32) -> Option<f64> {
    m.budget_mb?;
    let cost = cost_of(trials, bs, m.size, m.clip_frames);
    Some(f64::from(parallel) * memory::predicted_peak_mb(cost, m.full_frames, bs, m.size))
}

/// The recommendation rule over `trials`, with the memory they need by `need_mb`.
pub fn recommend(
    trials: &[Trial],
    m: &MemoryFacts,
    default_batch_size: Option<u32>,
    gpu_telemetry: bool,
) -> Option<Recommendation> {
    let need = |bs: u32, p: u32| need_mb(trials, m, bs, p);
    let rule = Rule {
        need_mb: &need,
        budget_mb: m.budget_mb,
        default_batch_size,
        gpu_telemetry,
    };
    recommend::recommend(trials, &rule)
}

/// Run every trial. Stops at the first trial that failed for another reason than memory; that
/// trial is the last one returned.
pub fn run(
    setup: &TrialSetup,
    m: &MemoryFacts,
    default_batch_size: Option<u32>,
    progress: ProgressSink,
) -> anyhow::Result<Vec<Trial>> {
    let o = setup.options;
    let mut trials: Vec<Trial> = Vec::new();
    let mut oom_at: Option<u32> = None;
    for &bs in &o.batch_sizes {
        if let Some(at) = oom_at {
            trials.push(Trial::skipped(
                bs,
                1,
                &format!("would not fit (batch {at} ran out of memory)"),
            ));
            continue;
        }
        let t = one(setup, &trials, bs, 1, progress)?;
        let stop = t.status == TrialStatus::Failed;
        if t.status == TrialStatus::Oom {
            oom_at = Some(bs);
        }
        trials.push(t);
        if stop {
            return Ok(trials);
        }
    }
    // Only the pair matters here; whether it was ranked by time alone is the report's to say.
    let best = recommend(&trials, m, default_batch_size, true);
    let Some(best) = best else { return Ok(trials) };
    let mut last_vpm = best.videos_per_min;
    let mut stopped: Option<String> = None;
    for &p in o.parallel.iter().filter(|&&p| p > 1) {
        if let Some(why) = &stopped {
            trials.push(Trial::skipped(best.batch_size, p, why));
            continue;
        }
        let need = need_mb(&trials, m, best.batch_size, p);
        if let (Some(need), Some(budget)) = (need, m.budget_mb) {
            if need > budget {
                let why = format!("would not fit ({need:.0} MiB predicted for the full audio, {budget:.0} MiB budget)");
                trials.push(Trial::skipped(best.batch_size, p, &why));
                stopped = Some("would not fit".into());
                continue;
            }
        }
        let t = one(setup, &trials, best.batch_size, p, progress)?;
        let status = t.status;
        let vpm = t.videos_per_min;
        trials.push(t);
        match status {
            TrialStatus::Failed => return Ok(trials),
            TrialStatus::Oom => {
                stopped = Some("would not fit (fewer runs at once ran out of memory)".into())
            }
            _ if vpm.is_none_or(|v| v <= last_vpm) => {
                stopped = Some(format!(
                    "not run: throughput stopped rising at {} at once",
                    p
                ))
            }
            _ => last_vpm = vpm.unwrap_or(last_vpm),
        }
    }
    Ok(trials)
}

fn one(
    setup: &TrialSetup,
    done: &[Trial],
    bs: u32,
    parallel: u32,
    progress: ProgressSink,
) -> anyhow::Result<Trial> {
    let index = done
        .iter()
        .filter(|t| t.status != TrialStatus::Skipped)
        .count()
        + 1;
    let estimate_s = done.iter().rev().find_map(|t| t.wall_s);
    let mut parser = StageParser::new();
    let started = Instant::now();
    let mut drawn: Option<Instant> = None;
    fn now(
        parser: &StageParser,
        starting: bool,
        trial: usize,
        bs: u32,
        parallel: u32,
        started: Instant,
        estimate_s: Option<f64>,
    ) -> ProgressNow<'_> {
        ProgressNow {
            starting,
            trial,
            batch_size: bs,
            parallel,
            stage: parser.current(),
            elapsed_s: started.elapsed().as_secs_f64(),
            estimate_s,
        }
    }
    progress(&now(
        &parser, true, index, bs, parallel, started, estimate_s,
    ));
    let mut observe = |event: Event| {
        if let Event::Line(line) = event {
            parser.feed(line);
        }
        if drawn.is_none_or(|d| d.elapsed() >= PROGRESS_EVERY) {
            progress(&now(
                &parser, false, index, bs, parallel, started, estimate_s,
            ));
            drawn = Some(Instant::now());
        }
    };
    trial::run(setup, bs, parallel, &mut observe)
}
