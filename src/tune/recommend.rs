//! The recommendation rule: the (batch size, parallel) pair with the most videos per minute
//! whose predicted peak for the full audio stays within the budget; within 5% of the best, the
//! one that needs less memory; said as a speed-up against the install's current default.

use super::trial::{Trial, TrialStatus};
use serde::Serialize;

/// Two throughputs this close count as equal, and the smaller memory wins.
pub const TIE_SHARE: f64 = 0.05;

/// Serialises to the `recommendation` object of `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub batch_size: u32,
    pub parallel: u32,
    /// Videos per minute against the install's default at one run; `None` when the default
    /// batch size was not measured.
    pub speedup: Option<f64>,
    pub applied: bool,
    #[serde(skip)]
    pub videos_per_min: f64,
    /// The default it is compared with (batch size, 1 at once).
    #[serde(skip)]
    pub default_batch_size: Option<u32>,
    /// No GPU telemetry: ranked by time alone.
    #[serde(skip)]
    pub by_time_alone: bool,
    /// Predicted peak for the full audio, all parallel runs together, MiB.
    #[serde(skip)]
    pub predicted_mb: Option<f64>,
}

/// What the rule needs besides the trials.
pub struct Rule<'a> {
    /// Predicted peak GPU memory for the full audio of `parallel` runs at a batch size, MiB
    /// (the priors or the trials' own figures); `None` without GPU facts.
    pub need_mb: &'a dyn Fn(u32, u32) -> Option<f64>,
    /// (100 - headroom)% of the free memory; `None` without GPU facts.
    pub budget_mb: Option<f64>,
    pub default_batch_size: Option<u32>,
    pub gpu_telemetry: bool,
}

/// Whether the full audio fits `parallel` runs at `batch_size` (yes, without GPU facts).
pub fn fits(rule: &Rule, batch_size: u32, parallel: u32) -> bool {
    match ((rule.need_mb)(batch_size, parallel), rule.budget_mb) {
        (Some(need), Some(budget)) => need <= budget,
        _ => true,
    }
}

pub fn recommend(trials: &[Trial], rule: &Rule) -> Option<Recommendation> {
    let candidates: Vec<(&Trial, f64)> = trials
        .iter()
        .filter(|t| t.status == TrialStatus::Ok && fits(rule, t.batch_size, t.parallel))
        .filter_map(|t| t.videos_per_min.map(|v| (t, v)))
        .collect();
    let best = candidates.iter().map(|(_, v)| *v).fold(f64::NAN, f64::max);
    if best.is_nan() {
        return None;
    }
    // Less memory: the prediction where there is one, else the model's order (batch x runs).
    let memory = |t: &Trial| {
        (rule.need_mb)(t.batch_size, t.parallel).unwrap_or((t.batch_size * t.parallel) as f64)
    };
    let (winner, vpm) = candidates
        .iter()
        .filter(|(_, v)| *v >= best * (1.0 - TIE_SHARE))
        .min_by(|(a, va), (b, vb)| memory(a).total_cmp(&memory(b)).then(vb.total_cmp(va)))
        .copied()?;
    let baseline = rule.default_batch_size.and_then(|bs| {
        trials
            .iter()
            .find(|t| t.batch_size == bs && t.parallel == 1 && t.status == TrialStatus::Ok)
            .and_then(|t| t.videos_per_min)
    });
    Some(Recommendation {
        batch_size: winner.batch_size,
        parallel: winner.parallel,
        speedup: baseline.filter(|b| *b > 0.0).map(|b| vpm / b),
        applied: false,
        videos_per_min: vpm,
        default_batch_size: rule.default_batch_size,
        by_time_alone: !rule.gpu_telemetry,
        predicted_mb: (rule.need_mb)(winner.batch_size, winner.parallel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(batch_size: u32, parallel: u32, vpm: f64) -> Trial {
        let mut t = Trial::blank(batch_size, parallel, TrialStatus::Ok);
        t.videos_per_min = Some(vpm);
        t
    }

    fn rule<'a>(need: &'a dyn Fn(u32, u32) -> Option<f64>, budget: Option<f64>) -> Rule<'a> {
        Rule {
            need_mb: need,
            budget_mb: budget,
            default_batch_size: Some(2),
            gpu_telemetry: true,
        }
    }

    #[test]
    fn the_fastest_that_fits_wins_with_its_speedup_against_the_default() {
        let trials = vec![
            ok(1, 1, 10.0),
            ok(2, 1, 12.0),
            ok(4, 1, 15.0),
            ok(8, 1, 16.0),
        ];
        let need = |bs: u32, p: u32| Some(1000.0 * (bs * p) as f64);
        let r = recommend(&trials, &rule(&need, Some(5000.0))).unwrap();
        // 8 does not fit the full audio; 4 is the fastest that does.
        assert_eq!((r.batch_size, r.parallel), (4, 1));
        assert_eq!(r.speedup, Some(15.0 / 12.0));
    }

    #[test]
    fn within_five_percent_the_smaller_memory_wins_and_oom_never_does() {
        let mut oom = ok(8, 1, 100.0);
        oom.status = TrialStatus::Oom;
        let trials = vec![ok(2, 1, 12.0), ok(4, 1, 12.4), oom];
        let need = |bs: u32, p: u32| Some(100.0 * (bs * p) as f64);
        let r = recommend(&trials, &rule(&need, Some(1e9))).unwrap();
        assert_eq!(r.batch_size, 2);
        assert_eq!(r.speedup, Some(1.0));
    }

    #[test]
    fn nothing_fits_gives_no_recommendation() {
        let trials = vec![ok(1, 1, 10.0)];
        let need = |_: u32, _: u32| Some(9000.0);
        assert!(recommend(&trials, &rule(&need, Some(5000.0))).is_none());
        // Without GPU facts everything measured is a candidate, ranked by time.
        let none = |_: u32, _: u32| None;
        let mut r = rule(&none, None);
        r.gpu_telemetry = false;
        let rec = recommend(&trials, &r).unwrap();
        assert!(rec.by_time_alone);
        assert_eq!(rec.speedup, None, "the default (2) was not measured");
    }
}
