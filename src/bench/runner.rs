//! The generation runner: the child in its own process group, both pipes read as bytes arrive
//! and split on `\r` and `\n` (tqdm redraws with `\r`), the telemetry sampler alongside, the
//! logs the host writes followed, and a deadline. A timeout, Ctrl-C or a crash ends the whole
//! group, and every process carrying the run's marker (one that left the group with `setsid`);
//! what was seen until then is kept. `attach` watches a process sadfix did not start the same
//! way, and never signals it.

use super::intake::{Followers, Taken};
use super::record::{OutputLine, RunEnding, Sample, Stream};
use super::telemetry::TelemetrySource;
use crate::mark::Mark;
use crate::process::{GroupChild, DEFAULT_GRACE};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

pub use super::lines::LineSplitter;

// Kept reachable here: the runner's loop is what these are for.
pub use super::message::Event;
pub(crate) use super::message::Message;

/// What a finished run gives back.
pub struct RunOutput {
    pub lines: Vec<OutputLine>,
    pub samples: Vec<Sample>,
    pub ending: RunEnding,
    pub wall_s: f64,
    pub child_pid: u32,
    /// The log files that were followed.
    pub logs: Vec<String>,
}

/// How to run: the deadline and the sampling interval (Ctrl-C is `interrupted::received`).
pub struct RunLimits {
    pub timeout: Duration,
    pub interval: Duration,
}

/// What belongs to a run besides the child's own pipes.
#[derive(Debug, Clone, Default)]
pub struct Follow {
    /// The run's marker: `SADFIX_RUN=<id>` goes into the child's environment, and every
    /// process carrying it is ended with the run.
    pub run_id: Option<String>,
    /// Log files to follow (`*` and `?` in the file name).
    pub logs: Vec<String>,
}

/// Run `cmd` to its end, the deadline, or an interrupt, sampling `sources` meanwhile.
pub fn run(
    cmd: Command,
    limits: &RunLimits,
    sources: Vec<Box<dyn TelemetrySource>>,
    observe: &mut dyn FnMut(Event),
) -> std::io::Result<RunOutput> {
    run_followed(cmd, limits, &Follow::default(), sources, observe)
}

/// `run`, with the run's marker and its log files.
pub fn run_followed(
    mut cmd: Command,
    limits: &RunLimits,
    follow: &Follow,
    sources: Vec<Box<dyn TelemetrySource>>,
    observe: &mut dyn FnMut(Event),
) -> std::io::Result<RunOutput> {
    cmd.env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mark = follow.run_id.as_ref().map(|id| {
        cmd.env(super::census::RUN_VAR, id);
        Mark::register(super::census::RUN_VAR, id)
    });
    let mut child = GroupChild::spawn(cmd)?;
    let start = Instant::now();
    let child_pid = child.id();
    let (tx, rx) = mpsc::channel();
    let mut readers = Vec::new();
    if let Some(out) = child.take_stdout() {
        readers.push(spawn_reader(out, Stream::Stdout, start, tx.clone()));
    }
    if let Some(err) = child.take_stderr() {
        readers.push(spawn_reader(err, Stream::Stderr, start, tx.clone()));
    }
    let followers = Followers::start(&follow.logs, sources, child_pid, start, limits.interval, tx);
    let mut taken = Taken::new(readers.len(), observe);
    let deadline = start + limits.timeout;
    let mut ending = None;
    while ending.is_none() {
        taken.wait(&rx);
        let end_marked = |needed_kill: bool| {
            let marked_needed_kill = mark.as_ref().is_some_and(|m| m.end(DEFAULT_GRACE));
            needed_kill || marked_needed_kill
        };
        if crate::interrupted::received().is_some() {
            let needed_kill = child.terminate(DEFAULT_GRACE)?;
            ending = Some(RunEnding::Interrupted {
                needed_kill: end_marked(needed_kill),
            });
        } else if Instant::now() >= deadline {
            let needed_kill = child.terminate(DEFAULT_GRACE)?;
            ending = Some(RunEnding::TimedOut {
                after_s: limits.timeout.as_secs_f64(),
                needed_kill: end_marked(needed_kill),
            });
        } else if let Some(status) = child.wait_until(Instant::now())? {
            // The leader is gone; grandchildren holding the pipes open must not keep us waiting.
            child.kill_leftovers();
            end_marked(false);
            ending = Some(ending_of(status));
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    let logs = followers.stop();
    // Drain what the pipes still hold; the group is dead, so they close promptly.
    taken.drain(&rx, Duration::from_secs(2));
    drop(child);
    drop(mark);
    // A process that left the group (setsid) may still hold a pipe: then its reader is left
    // detached rather than waited for, so sadfix never hangs on it.
    if taken.open_pipes == 0 {
        for reader in readers {
            let _ = reader.join();
        }
    }
    Ok(output(taken, ending, wall_s, child_pid, logs))
}

/// Watch process `pid` (not sadfix's child) and its tree until it exits, `limits.timeout`
/// passes, or Ctrl-C: sample it and follow the logs. Sends no signal to anything.
pub fn attach(
    pid: u32,
    limits: &RunLimits,
    logs: &[String],
    sources: Vec<Box<dyn TelemetrySource>>,
    observe: &mut dyn FnMut(Event),
) -> std::io::Result<RunOutput> {
    if !alive(pid) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no process {pid}"),
        ));
    }
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let followers = Followers::start(logs, sources, pid, start, limits.interval, tx);
    let mut taken = Taken::new(0, observe);
    let deadline = start.checked_add(limits.timeout);
    let mut ending = None;
    while ending.is_none() {
        taken.wait(&rx);
        if crate::interrupted::received().is_some() {
            ending = Some(RunEnding::Interrupted { needed_kill: false });
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            ending = Some(RunEnding::Detached {
                after_s: limits.timeout.as_secs_f64(),
            });
        } else if !alive(pid) {
            ending = Some(RunEnding::ProcessGone);
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    let logs = followers.stop();
    taken.drain(&rx, Duration::ZERO);
    Ok(output(taken, ending, wall_s, pid, logs))
}

/// Whether `pid` is a live process (a zombie is not: it has exited).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses and may hold spaces.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

fn output(
    taken: Taken,
    ending: Option<RunEnding>,
    wall_s: f64,
    child_pid: u32,
    logs: Vec<String>,
) -> RunOutput {
    let (lines, samples) = taken.into_parts();
    RunOutput {
        lines,
        samples,
        ending: ending.expect("loop ends with an ending"),
        wall_s,
        child_pid,
        logs,
    }
}

fn ending_of(status: std::process::ExitStatus) -> RunEnding {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => RunEnding::Exited { code },
        (None, Some(signal)) => RunEnding::Signaled { signal },
        (None, None) => RunEnding::Exited { code: -1 },
    }
}

fn spawn_reader<R: Read + Send + 'static>(
    mut pipe: R,
    stream: Stream,
    start: Instant,
    tx: Sender<Message>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut splitter = LineSplitter::default();
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let t = start.elapsed().as_secs_f64();
            for text in splitter.push(&buf[..n]) {
                let _ = tx.send(Message::Line(OutputLine { t, stream, text }));
            }
        }
        if let Some(text) = splitter.rest() {
            let t = start.elapsed().as_secs_f64();
            let _ = tx.send(Message::Line(OutputLine { t, stream, text }));
        }
        let _ = tx.send(Message::Eof);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_s: u64) -> RunLimits {
        RunLimits {
            timeout: Duration::from_secs(timeout_s),
            interval: Duration::from_millis(100),
        }
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[test]
    fn lines_come_with_times_and_streams_and_the_exit_code() {
        let mut seen = 0;
        let out = run(
            sh("echo one; printf 'bar 1\\rbar 2\\n' >&2; sleep 0.3; echo two; exit 3"),
            &limits(10),
            Vec::new(),
            &mut |_| seen += 1,
        )
        .unwrap();
        assert_eq!(out.ending, RunEnding::Exited { code: 3 });
        let texts: Vec<(&str, Stream)> = out
            .lines
            .iter()
            .map(|l| (l.text.as_str(), l.stream))
            .collect();
        assert!(
            texts.contains(&("bar 1", Stream::Stderr))
                && texts.contains(&("bar 2", Stream::Stderr))
        );
        let two = out.lines.iter().find(|l| l.text == "two").unwrap();
        let one = out.lines.iter().find(|l| l.text == "one").unwrap();
        assert!(two.t - one.t >= 0.25, "lines are timed as they arrive");
        assert!(seen >= 4);
    }

    #[test]
    fn a_process_that_left_the_group_holding_a_pipe_does_not_hang_the_runner() {
        let started = Instant::now();
        // The setsid'd sleep keeps stdout open past the leader and outside its process group.
        let out = run(
            sh("echo started; setsid sleep 4 & sleep 0.3; exit 0"),
            &limits(10),
            Vec::new(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(out.ending, RunEnding::Exited { code: 0 });
        assert_eq!(out.lines[0].text, "started");
        assert!(started.elapsed() < Duration::from_millis(3500));
    }
}
