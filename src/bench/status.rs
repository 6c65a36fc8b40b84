//! Did the generation itself work, and if not, why: the ending, the failure tell the output
//! showed, where a timed-out run stopped, and the last lines of stderr.

use super::markers::{FailureKind, StageId};
use super::record::{RunEnding, RunRecord, Stream};
use super::stages::Timeline;
use super::tqdm::parse_bar;
use serde::Serialize;

/// Did the generation itself work, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStatus {
    pub failed: bool,
    pub ending: RunEnding,
    pub child_pid: Option<u32>,
    pub cause: Option<String>,
    pub next: Option<String>,
    pub failure_kind: Option<FailureKind>,
    /// The output line the failure tell was read from.
    pub evidence: Option<String>,
    /// The last lines of stderr (a bar's redraws count once).
    pub stderr_tail: Vec<String>,
}

pub fn run_status(record: &RunRecord, timeline: &Timeline) -> RunStatus {
    let ending = record.meta.ending;
    let tell = timeline.failures.first();
    let (cause, next) = match (tell, ending) {
        (Some(t), _) => (Some(t.cause.clone()), Some(t.next.clone())),
        (
            None,
            RunEnding::Exited { code: 0 } | RunEnding::Detached { .. } | RunEnding::ProcessGone,
        ) => (None, None),
        (
            None,
            RunEnding::TimedOut {
                after_s,
                needed_kill,
            },
        ) => timed_out(timeline, after_s, needed_kill),
        (None, RunEnding::Interrupted { .. }) => (Some("interrupted with Ctrl-C".into()), None),
        (None, RunEnding::Signaled { signal }) => (
            Some(format!(
                "inference.py was killed by signal {signal}{}",
                if signal == 9 {
                    " (often the kernel's out-of-memory killer)"
                } else {
                    ""
                }
            )),
            Some("see the last lines of stderr; run sadfix doctor".into()),
        ),
        (None, RunEnding::Exited { code }) => (
            Some(format!("inference.py exited with code {code}")),
            Some("see the last lines of stderr; run sadfix doctor".into()),
        ),
    };
    RunStatus {
        failed: !ending.succeeded() || tell.is_some(),
        ending,
        child_pid: record.meta.child_pid,
        cause,
        next,
        failure_kind: tell.map(|t| t.kind),
        evidence: tell.map(|t| t.line.clone()),
        stderr_tail: stderr_tail(record, 8),
    }
}

/// Where a run that timed out stopped: before any stage marker (loading, where a CUDA check
/// hangs under WSL) or inside a stage, which a CUDA-initialisation hint would misdirect.
fn timed_out(
    timeline: &Timeline,
    after_s: f64,
    needed_kill: bool,
) -> (Option<String>, Option<String>) {
    let mut cause = format!("the generation ran past --timeout ({after_s:.0} s)");
    if needed_kill {
        cause.push_str(" and ignored SIGTERM");
    }
    let stopped_in = timeline.stages.last().filter(|s| s.id != StageId::Load);
    let next = match stopped_in {
        None => "it never got past loading: a CUDA check that hangs is common under WSL; run sadfix doctor, or raise --timeout".to_string(),
        Some(stage) => {
            cause.push_str(&format!(", in {}", stage.id.label()));
            if let (Some(done), Some(total)) = (stage.done, stage.total) {
                cause.push_str(&format!(" at {done}/{total}"));
            }
            format!(
                "if {} was only slow, raise --timeout; if it was stuck, see the last lines of stderr and run sadfix doctor",
                stage.id.label()
            )
        }
    };
    (Some(cause), Some(next))
}

/// The last `n` stderr lines, each bar's redraws kept once (its last drawing).
fn stderr_tail(record: &RunRecord, n: usize) -> Vec<String> {
    let mut tail: Vec<String> = Vec::new();
    for line in record.lines.iter().filter(|l| l.stream == Stream::Stderr) {
        let desc = parse_bar(&line.text).map(|b| b.desc);
        let same_bar = desc.is_some()
            && tail
                .last()
                .is_some_and(|prev| parse_bar(prev).map(|b| b.desc) == desc);
        if same_bar {
            tail.pop();
        }
        tail.push(line.text.clone());
    }
    let skip = tail.len().saturating_sub(n);
    tail.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stages::StageSpan;

    fn span(id: StageId, done: Option<u64>, total: Option<u64>) -> StageSpan {
        StageSpan {
            id,
            start_s: 0.0,
            end_s: 1.0,
            done,
            total,
            rate: None,
        }
    }

    #[test]
    fn a_timeout_says_where_the_run_stopped() {
        let mut timeline = Timeline::default();
        timeline.stages.push(span(StageId::Load, None, None));
        let (cause, next) = timed_out(&timeline, 3.0, true);
        assert_eq!(
            cause.as_deref(),
            Some("the generation ran past --timeout (3 s) and ignored SIGTERM")
        );
        assert!(next.unwrap().contains("never got past loading"));

        timeline
            .stages
            .push(span(StageId::FaceRenderer, Some(11), Some(25)));
        let (cause, next) = timed_out(&timeline, 3.0, false);
        assert_eq!(
            cause.as_deref(),
            Some("the generation ran past --timeout (3 s), in Face Renderer at 11/25")
        );
        assert!(!next.unwrap().contains("WSL"));
    }
}
