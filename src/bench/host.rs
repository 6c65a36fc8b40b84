//! What the report says about a host's run (`--exec`, `--attach`, `--log`): the run's marker,
//! the logs followed, the SadTalker child seen in `/proc` (its batch size and size from its
//! command line, when it started and ended), and, when no stage could be seen, why.

use super::census::SadTalkerChild;
use super::record::{HostMeta, Sample};
use super::stages::Timeline;
use super::summary::Stats;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostReport {
    /// `exec` or `attach`; `None` for the install's own `inference.py` with `--log`.
    pub kind: Option<String>,
    pub run_id: Option<String>,
    pub logs: Vec<String>,
    pub logs_followed: Vec<String>,
    pub sadtalker: Option<SadTalkerChild>,
    /// Figures over the SadTalker child's lifetime.
    pub sadtalker_stats: Option<Stats>,
    /// Whether any stage marker reached sadfix.
    pub stages_seen: bool,
    /// Why no stage could be seen, and what to do.
    pub stages_note: Option<String>,
}

pub fn report(host: &HostMeta, timeline: &Timeline, samples: &[Sample]) -> HostReport {
    let first_marker = timeline.stages.get(1).map(|s| s.start_s);
    let reprinted = match (&host.sadtalker, first_marker) {
        // The first marker of a live run comes long before SadTalker ends; one that arrives
        // only after it was last seen alive was re-printed from captured output.
        (Some(child), Some(t)) => t >= child.last_seen_s,
        _ => false,
    };
    let stages_seen = first_marker.is_some() && !reprinted;
    let stages_note = match (stages_seen, reprinted) {
        (true, _) => None,
        (false, true) => Some(format!(
            "SadTalker's stage markers reached sadfix only after it ended (it was last seen at {:.1} s, the first marker came at {:.1} s): the host captured its output and printed it afterwards, so the stage times are not real; if the host writes a log while it runs, pass --log FILE",
            host.sadtalker.as_ref().map_or(0.0, |c| c.last_seen_s),
            first_marker.unwrap_or_default()
        )),
        (false, false) => Some(why_no_stages(host)),
    };
    HostReport {
        kind: host.kind.clone(),
        run_id: host.run_id.clone(),
        logs: host.logs.clone(),
        logs_followed: host.logs_followed.clone(),
        sadtalker: host.sadtalker.clone(),
        sadtalker_stats: host
            .sadtalker
            .as_ref()
            .map(|c| Stats::over(samples, c.first_seen_s, c.last_seen_s)),
        stages_seen,
        stages_note,
    }
}

fn why_no_stages(host: &HostMeta) -> String {
    let unmatched: Vec<&str> = host
        .logs
        .iter()
        .map(String::as_str)
        .filter(|p| {
            !host.logs_followed.iter().any(|f| {
                super::follow::expand(p)
                    .iter()
                    .any(|e| e.display().to_string() == *f)
            })
        })
        .collect();
    let mut why = match &host.sadtalker {
        Some(child) => match child.writes_to_file() {
            Some(file) if !host.logs_followed.iter().any(|f| f == file) => format!(
                "no stage markers reached sadfix: SadTalker (pid {}) wrote its output to {file}; follow it with --log {file}",
                child.pid
            ),
            Some(file) => format!(
                "no stage markers in {file}, where SadTalker (pid {}) wrote its output (TQDM_DISABLE=1 silences the bars)",
                child.pid
            ),
            None if !child.stdout_shared_with_root => format!(
                "no stage markers reached sadfix: the host captures SadTalker's output (pid {}'s stdout is {}, read by the host, which printed none of it); if the host writes it to a log, pass --log FILE",
                child.pid,
                child.stdout.as_deref().unwrap_or("unknown")
            ),
            None => format!(
                "SadTalker's output (pid {}) reached sadfix but held no stage markers (TQDM_DISABLE=1 silences the bars)",
                child.pid
            ),
        },
        None => {
            let mut why = "no stage markers reached sadfix and no SadTalker process (inference.py) was seen among the run's processes: a host that runs SadTalker inside its own process (webui, ComfyUI, an API server) prints the bars to its console".to_string();
            match host.root_stdout.as_deref() {
                Some(file) if file.starts_with('/') && !host.logs_followed.iter().any(|f| f == file) => {
                    why.push_str(&format!(", which goes to {file}; pass --log {file}"))
                }
                Some(other) if !other.starts_with('/') => why.push_str(&format!(
                    ", which is {other} here, which sadfix cannot read; make the server log to a file and pass --log FILE"
                )),
                _ => why.push_str("; pass --log with the file that console goes to"),
            }
            why
        }
    };
    if !unmatched.is_empty() {
        why.push_str(&format!("; no file matched --log {}", unmatched.join(", ")));
    }
    why
}
