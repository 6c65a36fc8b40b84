//! The Face Renderer's speed and its measured noise: seconds per frame from bench's stage, and
//! how much that figure scatters, from the times between the bar's redraws in the same run.

use crate::bench::markers::StageId;
use crate::bench::outcome::BenchReport;
use crate::bench::record::RunRecord;
use crate::bench::tqdm::parse_bar;
use serde::Serialize;

/// Below this many timed redraws the scatter is not measured; `allowance` then says so.
const MIN_INTERVALS: usize = 3;
/// The allowance when the scatter could not be measured, as a share of the slower figure.
pub const UNMEASURED_SHARE: f64 = 0.10;

/// The Face Renderer of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderTiming {
    pub seconds: f64,
    pub frames: u64,
    pub s_per_frame: f64,
    /// Two standard errors of `s_per_frame`, from the spread of the per-iteration times.
    pub noise_s_per_frame: Option<f64>,
    /// Timed redraws the noise rests on.
    pub intervals: usize,
    /// The bar's last line, as the run printed it.
    pub last_bar: Option<String>,
}

/// The Face Renderer's figures, when the run reached its end.
pub fn render_timing(
    record: &RunRecord,
    report: &BenchReport,
    frames: u64,
) -> Option<RenderTiming> {
    let stage = report
        .stages
        .iter()
        .find(|s| s.id == StageId::FaceRenderer && s.done.is_some() && s.done == s.total)?;
    let s_per_frame = stage.duration_s / frames.max(1) as f64;
    let mut redraws: Vec<(f64, u64)> = Vec::new();
    let mut last_bar = None;
    for line in &record.lines {
        let Some(bar) = parse_bar(&line.text).filter(|b| b.desc == "Face Renderer") else {
            continue;
        };
        last_bar = Some(line.text.trim().to_string());
        if redraws.last().is_none_or(|(_, done)| bar.done > *done) {
            redraws.push((line.t, bar.done));
        }
    }
    let per_iteration: Vec<f64> = redraws
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) / (w[1].1 - w[0].1) as f64)
        .collect();
    Some(RenderTiming {
        seconds: stage.duration_s,
        frames,
        s_per_frame,
        noise_s_per_frame: relative_error(&per_iteration).map(|r| 2.0 * r * s_per_frame),
        intervals: per_iteration.len(),
        last_bar,
    })
}

/// The standard error of the mean of `values`, relative to the mean.
fn relative_error(values: &[f64]) -> Option<f64> {
    if values.len() < MIN_INTERVALS {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return None;
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(var.sqrt() / n.sqrt() / mean)
}

/// How much slower `after` may be than `before` before it counts: both runs' noise added in
/// quadrature, or `UNMEASURED_SHARE` of the slower figure when either run's is unknown.
pub fn allowance(before: &RenderTiming, after: &RenderTiming) -> (f64, bool) {
    match (before.noise_s_per_frame, after.noise_s_per_frame) {
        (Some(b), Some(a)) => ((b * b + a * a).sqrt(), true),
        _ => (
            UNMEASURED_SHARE * before.s_per_frame.max(after.s_per_frame),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_shrinks_with_more_iterations_and_needs_three() {
        assert_eq!(relative_error(&[1.0, 1.0]), None);
        let few = relative_error(&[0.9, 1.1, 1.0, 1.0]).unwrap();
        let many = relative_error(&[0.9, 1.1, 1.0, 1.0].repeat(16)).unwrap();
        assert!(many < few / 3.0, "{many} {few}");
        assert_eq!(relative_error(&[2.0, 2.0, 2.0]), Some(0.0));
    }

    fn timing(s_per_frame: f64, noise: Option<f64>) -> RenderTiming {
        RenderTiming {
            seconds: s_per_frame * 50.0,
            frames: 50,
            s_per_frame,
            noise_s_per_frame: noise,
            intervals: 10,
            last_bar: None,
        }
    }

    #[test]
    fn the_allowance_adds_both_noises_or_falls_back_to_a_share() {
        let (band, measured) = allowance(&timing(1.0, Some(0.03)), &timing(1.0, Some(0.04)));
        assert!(measured && (band - 0.05).abs() < 1e-12);
        let (band, measured) = allowance(&timing(1.0, None), &timing(2.0, Some(0.1)));
        assert!(!measured && (band - 0.2).abs() < 1e-12);
    }
}
