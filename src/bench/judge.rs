//! Judging a run against expectations: each expectation becomes a verdict. GPU expectations are
//! skipped without GPU telemetry (failed with `--require-gpu`), stages too short to sample are
//! skipped, and time bounds are scaled to the audio length.

use super::device::{self, DeviceUse};
use super::expect::{Expectation, Expectations, Metric, Status, Verdict};
use super::record::VideoInfo;
use super::stages::Tell;
use super::summary::{StageSummary, Stats};

/// Fewer samples than this in a stage and its GPU mean says nothing.
const MIN_SAMPLES: usize = 2;

/// The figures a run produced, as the judge needs them.
pub struct Observed<'a> {
    pub stages: &'a [StageSummary],
    pub overall: &'a Stats,
    pub wall_s: f64,
    pub audio_s: Option<f64>,
    pub cpu_tells: &'a [Tell],
    pub output_video: Option<&'a VideoInfo>,
    /// Why there is no GPU telemetry, when there is none.
    pub gpu_unavailable: Option<&'a str>,
    pub require_gpu: bool,
    /// The generation failed: its missing video is part of that failure, not a separate one.
    pub run_failed: bool,
    /// Which device the run used, by the evidence.
    pub device: &'a DeviceUse,
    /// Why the run's end was not seen (`--attach` stopped watching first), when it was not.
    pub unfinished: Option<&'a str>,
}

pub fn judge(expectations: &Expectations, observed: &Observed) -> Vec<Verdict> {
    expectations
        .list
        .iter()
        .map(|e| judge_one(e, expectations.reference_audio_s, observed))
        .collect()
}

fn judge_one(e: &Expectation, reference_audio_s: f64, obs: &Observed) -> Verdict {
    let stage = e
        .stage
        .and_then(|id| obs.stages.iter().find(|s| s.id == id));
    let stage_label = e.stage.map_or("the whole run", |s| s.label());
    let mut scale = 1.0;
    if e.scale_with_audio {
        match obs.audio_s {
            None => return skip(e, "the audio length is unknown, so the time cannot be scaled".into()),
            Some(a) if e.min_audio_s.is_some_and(|min| a < min) => {
                return skip(
                    e,
                    format!(
                        "{a:.1} s of audio is shorter than {:.0} s: start-up time dominates; judge with a longer clip (--audio FILE)",
                        e.min_audio_s.unwrap_or_default()
                    ),
                )
            }
            Some(a) => scale = a / reference_audio_s,
        }
    }
    if e.metric == Metric::DeviceConfirmed {
        let mut v = device::verdict(obs.device, device::claimed(obs.device));
        v.id = e.id.clone();
        v.expected = e.guide.clone();
        return v;
    }
    if let Some(why) = obs
        .unfinished
        .filter(|_| matches!(e.metric, Metric::OutputVideo | Metric::WallS))
    {
        return skip(e, why.to_string());
    }
    if e.metric == Metric::OutputVideo && obs.run_failed {
        return skip(e, "the run failed (see below)".into());
    }
    if e.metric.needs_gpu() {
        if let Some(reason) = obs.gpu_unavailable {
            let text = format!("GPU telemetry unavailable: {reason}");
            if obs.require_gpu {
                let mut v = verdict(e, Status::Fail, None, scale);
                v.hint = Some(format!(
                    "{text}; --require-gpu makes this a failure; run sadfix doctor"
                ));
                return v;
            }
            return skip(e, text);
        }
        if e.stage.is_some() {
            match stage {
                None => return skip(e, format!("no {stage_label} stage in this run")),
                Some(s) if s.samples < MIN_SAMPLES => {
                    return skip(
                        e,
                        format!(
                            "{stage_label} lasted {:.1} s, too short to sample ({} sample(s)); lower --interval",
                            s.duration_s, s.samples
                        ),
                    )
                }
                Some(_) => {}
            }
        }
    }
    let (value, observed_text) = match value_of(e, stage, obs) {
        Some(v) => v,
        None => return skip(e, "nothing measured it in this run".into()),
    };
    let status = status_of(e, value, scale);
    let mut v = verdict(e, status, Some(value), scale);
    v.observed = Some(observed_text.clone());
    let template = match status {
        Status::Fail => e.hint_fail.as_ref().or(e.hint_warn.as_ref()),
        Status::Warn => e.hint_warn.as_ref(),
        _ => None,
    };
    v.hint = template.map(|t| {
        t.replace("{stage}", stage_label)
            .replace("{observed}", &observed_text)
    });
    v
}

fn value_of(
    e: &Expectation,
    stage: Option<&StageSummary>,
    obs: &Observed,
) -> Option<(f64, String)> {
    let value = match e.metric {
        Metric::GpuUtilMean => match e.stage {
            Some(_) => stage?.gpu_util_mean?,
            None => obs.overall.gpu_util_mean?,
        },
        Metric::GpuMemPeakGb => obs.overall.gpu_mem_peak_mb? / 1024.0,
        Metric::WallS => obs.wall_s,
        Metric::CpuTells => {
            let n = obs.cpu_tells.len();
            let text = match obs.cpu_tells.first() {
                None => "none".to_string(),
                Some(first) => format!("{n} CPU tell(s), first: {}", first.what),
            };
            return Some((n as f64, text));
        }
        // Judged whole in `judge_one`.
        Metric::DeviceConfirmed => return None,
        Metric::OutputVideo => {
            if obs.output_video.is_some_and(|v| v.exists) {
                1.0
            } else {
                0.0
            }
        }
    };
    Some((value, e.metric.format(value)))
}

fn status_of(e: &Expectation, value: f64, scale: f64) -> Status {
    let below = |b: Option<f64>| b.is_some_and(|b| value < b * scale);
    let above = |b: Option<f64>| b.is_some_and(|b| value > b * scale);
    if below(e.fail_below) || above(e.fail_above) {
        Status::Fail
    } else if below(e.warn_below) || above(e.warn_above) {
        Status::Warn
    } else {
        Status::Pass
    }
}

fn verdict(e: &Expectation, status: Status, value: Option<f64>, scale: f64) -> Verdict {
    Verdict {
        id: e.id.clone(),
        status,
        observed: value.map(|v| e.metric.format(v)),
        observed_value: value,
        expected: expected_text(e, scale),
        hint: None,
        note: e.note.clone(),
    }
}

fn skip(e: &Expectation, why: String) -> Verdict {
    let mut v = verdict(e, Status::Skip, None, 1.0);
    v.hint = Some(why);
    v
}

/// "guide 90%; warn below 60%, fail below 20%", with the bounds scaled where they are.
fn expected_text(e: &Expectation, scale: f64) -> String {
    let unit = match e.metric {
        Metric::GpuUtilMean => "%",
        _ => "",
    };
    let mut parts = Vec::new();
    let fmt = |b: f64| e.metric.format(b * scale);
    for (word, bound) in [
        ("warn below", e.warn_below),
        ("fail below", e.fail_below),
        ("warn above", e.warn_above),
        ("fail above", e.fail_above),
    ] {
        if let Some(b) = bound {
            if e.metric == Metric::OutputVideo || e.metric == Metric::CpuTells {
                continue;
            }
            parts.push(format!("{word} {}", fmt(b)));
        }
    }
    let scaled = if e.scale_with_audio && scale != 1.0 {
        " (scaled to this audio)"
    } else {
        ""
    };
    if parts.is_empty() {
        format!("{}{unit}", e.guide)
    } else {
        format!("guide {}{unit}; {}{scaled}", e.guide, parts.join(", "))
    }
}
