//! Expectations: the guide's numbers (embedded `expectations.yaml`, or `--expect FILE`), read
//! into raw serde types, validated with every error collected, then used to judge a run. Each
//! verdict is pass / warn / fail / skip with what was observed, what was expected and, on a miss,
//! the likely cause and the next command.

use super::markers::StageId;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The default expectations, from the user's guide.
pub const DEFAULT_YAML: &str = include_str!("expectations.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    // Required fields are options here, so a missing one is collected with the other problems
    // rather than stopping the parse.
    version: Option<u32>,
    reference_audio_s: Option<f64>,
    expectations: Option<Vec<RawExpectation>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Guide {
    Number(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectation {
    id: Option<String>,
    metric: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    guide: Option<Guide>,
    #[serde(default)]
    warn_below: Option<f64>,
    #[serde(default)]
    fail_below: Option<f64>,
    #[serde(default)]
    warn_above: Option<f64>,
    #[serde(default)]
    fail_above: Option<f64>,
    #[serde(default)]
    scale_with_audio: bool,
    #[serde(default)]
    min_audio_s: Option<f64>,
    #[serde(default)]
    hint_warn: Option<String>,
    #[serde(default)]
    hint_fail: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// What an expectation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    GpuUtilMean,
    GpuMemPeakGb,
    WallS,
    CpuTells,
    OutputVideo,
    /// The claimed device against the process tree's GPU memory (see `device`).
    DeviceConfirmed,
}

impl Metric {
    fn parse(name: &str) -> Option<Metric> {
        Some(match name {
            "gpu_util_mean" => Metric::GpuUtilMean,
            "gpu_mem_peak_gb" => Metric::GpuMemPeakGb,
            "wall_s" => Metric::WallS,
            "cpu_tells" => Metric::CpuTells,
            "output_video" => Metric::OutputVideo,
            "device_confirmed" => Metric::DeviceConfirmed,
            _ => return None,
        })
    }

    /// Whether the figure comes from GPU telemetry (skipped without it).
    pub fn needs_gpu(self) -> bool {
        matches!(self, Metric::GpuUtilMean | Metric::GpuMemPeakGb)
    }

    pub fn format(self, value: f64) -> String {
        match self {
            Metric::GpuUtilMean => format!("{value:.0}%"),
            Metric::GpuMemPeakGb => format!("{value:.1} GB"),
            Metric::WallS => format!("{value:.1} s"),
            Metric::CpuTells => format!("{value:.0}"),
            Metric::OutputVideo => (if value >= 1.0 { "present" } else { "missing" }).into(),
            Metric::DeviceConfirmed => format!("{value:.0} MiB"),
        }
    }
}

/// A validated expectation.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub id: String,
    pub metric: Metric,
    pub stage: Option<StageId>,
    pub guide: String,
    pub warn_below: Option<f64>,
    pub fail_below: Option<f64>,
    pub warn_above: Option<f64>,
    pub fail_above: Option<f64>,
    pub scale_with_audio: bool,
    pub min_audio_s: Option<f64>,
    pub hint_warn: Option<String>,
    pub hint_fail: Option<String>,
    pub note: Option<String>,
}

/// A set of expectations and the audio length their scaled bounds refer to.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub reference_audio_s: f64,
    pub list: Vec<Expectation>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExpectError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not valid expectations YAML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {} problem(s):\n  {}\nfix them; docs/trace-format.md lists the metrics and stages", .problems.len(), .problems.join("\n  "))]
    Invalid { path: String, problems: Vec<String> },
}

impl Expectations {
    /// The embedded defaults.
    pub fn builtin() -> Expectations {
        Expectations::parse(DEFAULT_YAML, "built-in expectations").expect("embedded YAML is valid")
    }

    pub fn load(path: &Path) -> Result<Expectations, ExpectError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExpectError::Read {
            path: shown.clone(),
            source,
        })?;
        Expectations::parse(&text, &shown)
    }

    pub fn parse(text: &str, path: &str) -> Result<Expectations, ExpectError> {
        let raw: RawFile = yaml_serde::from_str(text).map_err(|e| ExpectError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let mut problems = Vec::new();
        match raw.version {
            Some(1) => {}
            Some(v) => problems.push(format!("version {v} is not supported (use 1)")),
            None => problems.push("version is missing (use 1)".to_string()),
        }
        match raw.reference_audio_s {
            Some(s) if s > 0.0 => {}
            Some(_) => problems.push("reference_audio_s must be positive".to_string()),
            None => problems.push("reference_audio_s is missing".to_string()),
        }
        if raw.expectations.is_none() {
            problems.push("expectations is missing (a list)".to_string());
        }
        let mut list = Vec::new();
        for (i, e) in raw.expectations.unwrap_or_default().into_iter().enumerate() {
            let id = e.id.clone().unwrap_or_default();
            let at = format!("expectation {} ({id})", i + 1);
            if e.id.is_none() {
                problems.push(format!("{at}: id is missing"));
            }
            if e.guide.is_none() {
                problems.push(format!(
                    "{at}: guide is missing (the figure shown as expected)"
                ));
            }
            let metric = match &e.metric {
                Some(name) => Metric::parse(name),
                None => None,
            };
            match (&e.metric, metric) {
                (None, _) => problems.push(format!("{at}: metric is missing")),
                (Some(name), None) => problems.push(format!("{at}: unknown metric {name:?}")),
                _ => {}
            }
            let stage = e.stage.as_deref().map(StageId::from_key);
            if let Some(None) = stage {
                problems.push(format!(
                    "{at}: unknown stage {:?}",
                    e.stage.unwrap_or_default()
                ));
                continue;
            }
            if let (Some(m), Some(Some(_))) = (metric, stage) {
                if m != Metric::GpuUtilMean {
                    problems.push(format!("{at}: only gpu_util_mean is judged per stage"));
                }
            }
            // The device verdict compares evidence, not a figure against bounds.
            let bounded = metric != Some(Metric::DeviceConfirmed);
            if bounded
                && [e.warn_below, e.fail_below, e.warn_above, e.fail_above]
                    .iter()
                    .all(Option::is_none)
            {
                problems.push(format!(
                    "{at}: needs at least one of warn_below, fail_below, warn_above, fail_above"
                ));
            }
            let (Some(metric), Some(guide)) = (metric, e.guide) else {
                continue;
            };
            list.push(Expectation {
                id,
                metric,
                stage: stage.flatten(),
                guide: match guide {
                    Guide::Number(n) => format!("{n}"),
                    Guide::Text(t) => t,
                },
                warn_below: e.warn_below,
                fail_below: e.fail_below,
                warn_above: e.warn_above,
                fail_above: e.fail_above,
                scale_with_audio: e.scale_with_audio,
                min_audio_s: e.min_audio_s,
                hint_warn: e.hint_warn,
                hint_fail: e.hint_fail,
                note: e.note,
            });
        }
        if !problems.is_empty() {
            return Err(ExpectError::Invalid {
                path: path.to_string(),
                problems,
            });
        }
        Ok(Expectations {
            reference_audio_s: raw.reference_audio_s.unwrap_or_default(),
            list,
        })
    }
}

/// The outcome of one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// One verdict, as shown in the table and the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub id: String,
    pub status: Status,
    /// The observed figure with its unit; `None` when it could not be measured.
    pub observed: Option<String>,
    pub observed_value: Option<f64>,
    /// The guide's figure and the thresholds used (scaled to the audio where so).
    pub expected: String,
    /// Why it missed and what to run next; for a skip, why it was skipped.
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
#[path = "expect_tests.rs"]
mod tests;
