//! The generation runner: the child in its own process group, both pipes read as bytes arrive
//! and split on `\r` and `\n` (tqdm redraws with `\r`), the telemetry sampler alongside, and a
//! deadline. A timeout, Ctrl-C or a crash ends the whole group; what was seen until then is kept.

use super::record::{OutputLine, RunEnding, Sample, Stream};
use super::sampler::Sampler;
use super::telemetry::TelemetrySource;
use crate::process::{GroupChild, DEFAULT_GRACE};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the runner reports while the run goes on (for a live progress line).
pub enum Event<'a> {
    Line(&'a OutputLine),
    Sample(&'a Sample),
}

/// Messages from the reader and sampler threads.
pub(crate) enum Message {
    Line(OutputLine),
    Sample(Sample),
    Eof,
}

/// What a finished run gives back.
pub struct RunOutput {
    pub lines: Vec<OutputLine>,
    pub samples: Vec<Sample>,
    pub ending: RunEnding,
    pub wall_s: f64,
    pub child_pid: u32,
}

/// How to run: the deadline, the sampling interval, and the flag Ctrl-C sets.
pub struct RunLimits {
    pub timeout: Duration,
    pub interval: Duration,
    pub interrupted: Arc<AtomicBool>,
}

/// Run `cmd` to its end, the deadline, or an interrupt, sampling `sources` meanwhile.
pub fn run(
    mut cmd: Command,
    limits: &RunLimits,
    sources: Vec<Box<dyn TelemetrySource>>,
    observe: &mut dyn FnMut(Event),
) -> std::io::Result<RunOutput> {
    cmd.env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
    let sampler = Sampler::start(sources, child_pid, start, limits.interval, tx);

    let deadline = start + limits.timeout;
    let mut lines = Vec::new();
    let mut samples = Vec::new();
    let mut open_pipes = readers.len();
    let mut ending = None;
    let mut keep = |msg: Message, open: &mut usize| match msg {
        Message::Line(line) => {
            observe(Event::Line(&line));
            lines.push(line);
        }
        Message::Sample(sample) => {
            observe(Event::Sample(&sample));
            samples.push(sample);
        }
        Message::Eof => *open -= 1,
    };
    while ending.is_none() {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(msg) => keep(msg, &mut open_pipes),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
        if limits.interrupted.load(Ordering::SeqCst) {
            let needed_kill = child.terminate(DEFAULT_GRACE)?;
            ending = Some(RunEnding::Interrupted { needed_kill });
        } else if Instant::now() >= deadline {
            let needed_kill = child.terminate(DEFAULT_GRACE)?;
            ending = Some(RunEnding::TimedOut {
                after_s: limits.timeout.as_secs_f64(),
                needed_kill,
            });
        } else if let Some(status) = child.wait_until(Instant::now())? {
            // The leader is gone; grandchildren holding the pipes open must not keep us waiting.
            child.kill_leftovers();
            ending = Some(ending_of(status));
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    sampler.stop();
    // Drain what the pipes still hold; the group is dead, so they close promptly.
    let drain_until = Instant::now() + Duration::from_secs(2);
    while open_pipes > 0 {
        let left = drain_until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(msg) => keep(msg, &mut open_pipes),
            Err(_) => break,
        }
    }
    while let Ok(msg) = rx.try_recv() {
        keep(msg, &mut open_pipes);
    }
    drop(child);
    // A process that left the group (setsid) may still hold a pipe: then its reader is left
    // detached rather than waited for, so sadfix never hangs on it.
    if open_pipes == 0 {
        for reader in readers {
            let _ = reader.join();
        }
    }
    samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(RunOutput {
        lines,
        samples,
        ending: ending.expect("loop ends with an ending"),
        wall_s,
        child_pid,
    })
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

/// Splits a byte stream into lines at `\n` and `\r`. A tqdm redraw ends with no newline (the
/// next one starts with `\r`), so a complete-looking bar at the end of a read is let out at once
/// rather than one redraw late.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    /// The pending text was already let out as a complete bar.
    released: bool,
}

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                self.flush_into(&mut out);
            } else {
                if self.released {
                    self.pending.clear();
                    self.released = false;
                }
                self.pending.push(b);
            }
        }
        let text = String::from_utf8_lossy(&self.pending);
        let trimmed = text.trim_end();
        if !self.released && trimmed.contains("%|") && trimmed.ends_with(']') {
            out.push(trimmed.to_string());
            self.released = true;
        }
        out
    }

    /// What is left at the end of the stream.
    pub fn rest(&mut self) -> Option<String> {
        let mut out = Vec::new();
        self.flush_into(&mut out);
        out.pop()
    }

    fn flush_into(&mut self, out: &mut Vec<String>) {
        if !self.released {
            let text = String::from_utf8_lossy(&self.pending);
            let text = text.trim_end();
            if !text.trim().is_empty() {
                out.push(text.to_string());
            }
        }
        self.pending.clear();
        self.released = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_s: u64) -> RunLimits {
        RunLimits {
            timeout: Duration::from_secs(timeout_s),
            interval: Duration::from_millis(100),
            interrupted: Arc::new(AtomicBool::new(false)),
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

    #[test]
    fn splits_on_carriage_returns_and_lets_a_finished_bar_out_at_once() {
        let mut s = LineSplitter::default();
        assert_eq!(
            s.push(b"using safetensor as default\nmel::  0%|  | 0/5 [00:00<?, ?it/s]"),
            vec![
                "using safetensor as default",
                "mel::  0%|  | 0/5 [00:00<?, ?it/s]"
            ]
        );
        // The next redraw starts with \r: the bar above is not repeated.
        assert_eq!(
            s.push(b"\rmel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]\n"),
            vec!["mel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]"]
        );
        assert_eq!(s.push(b"half a li"), Vec::<String>::new());
        assert_eq!(s.push(b"ne\r\n"), vec!["half a line"]);
        assert_eq!(s.push(b"no newline at the end"), Vec::<String>::new());
        assert_eq!(s.rest().as_deref(), Some("no newline at the end"));
    }
}
