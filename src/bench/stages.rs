//! The stage parser: output lines in, a timeline of stages out. A stage runs from its first
//! marker to the next stage's, so silent stretches go to the stage that was running (audio2pose
//! after `audio2exp:`) or to the one a finished bar hands over to (video write after
//! `Face Renderer:: 100%`). Markers come from `markers`, nowhere else.

use super::markers::{self, FailureKind, StageId, CPU_TELLS, FAILURE_TELLS, SIMULATED};
use super::record::OutputLine;
use super::tqdm::{parse_bar, Rate};
use serde::Serialize;

/// One stage as seen in the output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSpan {
    pub id: StageId,
    pub start_s: f64,
    pub end_s: f64,
    /// Iterations of its bar, where it has one.
    pub done: Option<u64>,
    pub total: Option<u64>,
    pub rate: Option<Rate>,
}

/// A line that says something about the run: a CPU tell or a failure tell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tell {
    pub t: f64,
    /// What it means.
    pub what: String,
    /// The line it was read from.
    pub line: String,
}

/// A failure tell with its cause and the next step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureSeen {
    pub kind: FailureKind,
    pub cause: String,
    pub next: String,
    pub line: String,
    /// The line is a traceback's echo of the source that raised, not the error itself.
    #[serde(skip)]
    pub from_echo: bool,
}

/// What the parser made of a whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub stages: Vec<StageSpan>,
    pub cpu_tells: Vec<Tell>,
    pub failures: Vec<FailureSeen>,
    /// The last video the run named.
    pub output_video: Option<String>,
    /// The run came from the simulated install (a test double).
    pub simulated: bool,
}

impl Timeline {
    pub fn stage(&self, id: StageId) -> Option<&StageSpan> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// ceil(`mel:` total / `Face Renderer:` total), the batch size the renderer really used.
    pub fn batch_size_inferred(&self) -> Option<u32> {
        let frames = self.stage(StageId::Mel)?.total?;
        let batches = self.stage(StageId::FaceRenderer)?.total?;
        (batches > 0).then(|| frames.div_ceil(batches) as u32)
    }
}

/// Feeds on output lines in order; `finish` closes the last stage.
#[derive(Debug, Clone)]
pub struct StageParser {
    timeline: Timeline,
}

impl Default for StageParser {
    fn default() -> Self {
        Self::new()
    }
}

impl StageParser {
    /// A parser whose first stage, model loading, starts with the child.
    pub fn new() -> Self {
        let mut timeline = Timeline::default();
        timeline.stages.push(span(StageId::Load, 0.0));
        StageParser { timeline }
    }

    /// The stage running now.
    pub fn current(&self) -> Option<&StageSpan> {
        self.timeline.stages.last()
    }

    pub fn feed(&mut self, line: &OutputLine) {
        let cleaned = super::ansi::clean(&line.text);
        let (t, text) = (line.t, cleaned.as_ref());
        // A host may prefix SadTalker's lines (timestamps, logger names).
        if text.contains(SIMULATED) {
            self.timeline.simulated = true;
        }
        self.note_tells(t, text);
        if let Some(bar) = parse_bar(text) {
            if let Some((stage, after)) = markers::bar_stage(&bar.desc) {
                self.enter(stage, t);
                if let Some(elapsed) = bar.elapsed_s {
                    self.started_by(stage, t - elapsed);
                }
                if let Some(span) = self.timeline.stages.iter_mut().find(|s| s.id == stage) {
                    span.done = Some(bar.done);
                    span.total = Some(bar.total);
                    span.rate = bar.rate.or(span.rate);
                }
                if let Some(next) = after.filter(|_| bar.total > 0 && bar.done >= bar.total) {
                    self.enter(next, t);
                }
            }
            return;
        }
        if let Some(stage) = markers::line_stage(text) {
            self.enter(stage, t);
        }
        if let Some(path) = markers::video_path(text) {
            self.timeline.output_video = Some(path);
        }
    }

    /// Close the last stage at `end_s` and add the tells only the whole run shows.
    pub fn finish(mut self, end_s: f64) -> Timeline {
        if let Some(last) = self.timeline.stages.last_mut() {
            last.end_s = end_s.max(last.start_s);
        }
        let renderer = self.timeline.stage(StageId::FaceRenderer).cloned();
        if let Some(Rate::SPerIt(v)) = renderer.as_ref().and_then(|s| s.rate) {
            // On a GPU the renderer does several batches per second; seconds per batch is the CPU.
            self.timeline.cpu_tells.push(Tell {
                t: renderer.map_or(0.0, |s| s.end_s),
                what: format!("Face Renderer at {v:.2} s/it (seconds per batch)"),
                line: format!("Face Renderer:: ... {v:.2}s/it"),
            });
        }
        self.timeline
    }

    fn enter(&mut self, stage: StageId, t: f64) {
        let stages = &mut self.timeline.stages;
        let current = stages.last().map(|s| s.id);
        // Stages only move forward; a late redraw of an earlier bar does not reopen it.
        if current.is_some_and(|c| c >= stage) {
            return;
        }
        if let Some(last) = stages.last_mut() {
            last.end_s = t;
        }
        stages.push(span(stage, t));
    }

    /// A bar that has run `elapsed` seconds when its line arrives at `t` started at `t -
    /// elapsed` at the latest (tqdm prints whole seconds, and a line arrives at or after its
    /// printing). A host that reads lines holds the 0% drawing until the next redraw, so the
    /// stage's first line may come late: the earlier start wins, and the stage before ends there.
    fn started_by(&mut self, stage: StageId, latest_start: f64) {
        let stages = &mut self.timeline.stages;
        let Some(i) = stages.iter().position(|s| s.id == stage) else {
            return;
        };
        if latest_start >= stages[i].start_s {
            return;
        }
        let floor = if i > 0 { stages[i - 1].start_s } else { 0.0 };
        let start = latest_start.max(floor);
        stages[i].start_s = start;
        if i > 0 {
            stages[i - 1].end_s = start;
        }
    }

    fn note_tells(&mut self, t: f64, text: &str) {
        for (needle, what) in CPU_TELLS {
            let seen = self.timeline.cpu_tells.iter().any(|c| c.what == *what);
            if !seen && text.contains(needle) {
                self.timeline.cpu_tells.push(Tell {
                    t,
                    what: what.to_string(),
                    line: text.trim().to_string(),
                });
            }
        }
        // A traceback echoes the source line that raised (indented) before the exception's own
        // line: the exception line is the better evidence, so it replaces an echoed one.
        let echoed = text.starts_with(' ');
        for tell in FAILURE_TELLS {
            if !text.contains(tell.needle) {
                continue;
            }
            let earlier = self
                .timeline
                .failures
                .iter_mut()
                .find(|f| f.kind == tell.kind);
            if let Some(earlier) = earlier {
                if earlier.from_echo && !echoed {
                    earlier.line = text.trim().to_string();
                    earlier.from_echo = false;
                }
                continue;
            }
            self.timeline.failures.push(FailureSeen {
                kind: tell.kind,
                cause: tell.cause.to_string(),
                next: tell.next.to_string(),
                line: text.trim().to_string(),
                from_echo: echoed,
            });
        }
    }
}

fn span(id: StageId, start_s: f64) -> StageSpan {
    StageSpan {
        id,
        start_s,
        end_s: start_s,
        done: None,
        total: None,
        rate: None,
    }
}

/// Parse a whole run's lines.
pub fn parse(lines: &[OutputLine], end_s: f64) -> Timeline {
    let mut parser = StageParser::new();
    for line in lines {
        parser.feed(line);
    }
    parser.finish(end_s)
}

#[cfg(test)]
#[path = "stages_tests.rs"]
mod tests;
