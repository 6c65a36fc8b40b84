//! Figures per stage and for the whole run: duration, GPU utilisation mean and p95, GPU memory
//! peak, CPU mean. A figure with nothing to measure it is `None` (JSON null), never zero.

use super::markers::StageId;
use super::record::Sample;
use super::stages::StageSpan;
use serde::Serialize;

/// Figures over a stretch of samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Samples that fell in the stretch.
    pub samples: usize,
    pub gpu_util_mean: Option<f64>,
    pub gpu_util_p95: Option<f64>,
    pub gpu_mem_peak_mb: Option<f64>,
    /// The child's own GPU memory, where the driver reports it per process.
    pub proc_gpu_mem_peak_mb: Option<f64>,
    /// SM utilisation of the child's process tree, where the driver reports it per process.
    pub proc_gpu_util_mean: Option<f64>,
    pub enc_util_mean: Option<f64>,
    pub power_mean_w: Option<f64>,
    /// Percent of one core, for the child's whole process tree.
    pub cpu_mean: Option<f64>,
    pub rss_peak_mb: Option<f64>,
}

impl Stats {
    /// Figures over the samples taken from `start_s` to `end_s`.
    pub fn over(samples: &[Sample], start_s: f64, end_s: f64) -> Stats {
        let inside: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.t >= start_s && s.t <= end_s)
            .collect();
        let field = |f: fn(&Sample) -> Option<f64>| -> Vec<f64> {
            inside.iter().filter_map(|s| f(s)).collect()
        };
        let gpu = field(|s| s.gpu_util);
        Stats {
            samples: inside.len(),
            gpu_util_mean: mean(&gpu),
            gpu_util_p95: percentile(&gpu, 95.0),
            gpu_mem_peak_mb: max(&field(|s| s.gpu_mem_mb)),
            proc_gpu_mem_peak_mb: max(&field(|s| s.proc_gpu_mem_mb)),
            proc_gpu_util_mean: mean(&field(|s| s.proc_gpu_util)),
            enc_util_mean: mean(&field(|s| s.enc_util)),
            power_mean_w: mean(&field(|s| s.power_w)),
            cpu_mean: mean(&field(|s| s.cpu_pct)),
            rss_peak_mb: max(&field(|s| s.rss_mb)),
        }
    }
}

/// One row of the stage table (and of `stages` in the JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSummary {
    /// The stage key (`face_renderer`).
    pub name: &'static str,
    pub label: &'static str,
    pub start_s: f64,
    pub end_s: f64,
    pub duration_s: f64,
    /// Iterations of its bar: done of total.
    pub done: Option<u64>,
    pub total: Option<u64>,
    /// The last rate its bar showed (`4.49 it/s`, `1.26 s/it`).
    pub rate: Option<String>,
    pub gpu_util_mean: Option<f64>,
    pub gpu_util_p95: Option<f64>,
    pub gpu_mem_peak_mb: Option<f64>,
    pub cpu_mean: Option<f64>,
    pub samples: usize,
    #[serde(skip)]
    pub id: StageId,
}

/// Summarise every stage of the timeline.
pub fn stages(spans: &[StageSpan], samples: &[Sample]) -> Vec<StageSummary> {
    spans
        .iter()
        .map(|span| {
            let stats = Stats::over(samples, span.start_s, span.end_s);
            StageSummary {
                name: span.id.key(),
                label: span.id.label(),
                start_s: span.start_s,
                end_s: span.end_s,
                duration_s: span.end_s - span.start_s,
                done: span.done,
                total: span.total,
                rate: span.rate.map(|r| r.describe()),
                gpu_util_mean: stats.gpu_util_mean,
                gpu_util_p95: stats.gpu_util_p95,
                gpu_mem_peak_mb: stats.gpu_mem_peak_mb,
                cpu_mean: stats.cpu_mean,
                samples: stats.samples,
                id: span.id,
            }
        })
        .collect()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn max(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], pct: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, gpu: Option<f64>, cpu: f64) -> Sample {
        Sample {
            t,
            gpu_util: gpu,
            gpu_mem_mb: gpu.map(|_| 2048.0 + t),
            cpu_pct: Some(cpu),
            ..Sample::default()
        }
    }

    #[test]
    fn figures_cover_only_the_stretch_and_p95_is_nearest_rank() {
        let samples: Vec<Sample> = (0..=20)
            .map(|i| sample(i as f64, Some(i as f64 * 5.0), 10.0))
            .collect();
        let stats = Stats::over(&samples, 10.0, 20.0);
        assert_eq!(stats.samples, 11);
        assert_eq!(stats.gpu_util_mean, Some(75.0));
        assert_eq!(stats.gpu_util_p95, Some(100.0));
        assert_eq!(stats.gpu_mem_peak_mb, Some(2068.0));
        assert_eq!(stats.cpu_mean, Some(10.0));
    }

    #[test]
    fn without_gpu_samples_the_gpu_figures_are_absent_not_zero() {
        let samples = vec![sample(0.0, None, 50.0), sample(1.0, None, 70.0)];
        let stats = Stats::over(&samples, 0.0, 1.0);
        assert_eq!(stats.gpu_util_mean, None);
        assert_eq!(stats.gpu_util_p95, None);
        assert_eq!(stats.gpu_mem_peak_mb, None);
        assert_eq!(stats.cpu_mean, Some(60.0));
    }
}
