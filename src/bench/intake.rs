//! What the runner takes in while a run goes on: the sampler and the log follower it starts, and
//! the lines and samples their threads (and the pipe readers) send, kept in time order.

use super::follow::Follower;
use super::message::{Event, Message};
use super::record::{OutputLine, Sample};
use super::sampler::Sampler;
use super::telemetry::TelemetrySource;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

/// The sampler and the log follower of one run.
pub(crate) struct Followers {
    sampler: Sampler,
    logs: Option<Follower>,
}

impl Followers {
    pub(crate) fn start(
        logs: &[String],
        sources: Vec<Box<dyn TelemetrySource>>,
        root: u32,
        start: Instant,
        interval: Duration,
        tx: Sender<Message>,
    ) -> Followers {
        let logs = (!logs.is_empty()).then(|| Follower::start(logs.to_vec(), start, tx.clone()));
        Followers {
            sampler: Sampler::start(sources, root, start, interval, tx),
            logs,
        }
    }

    pub(crate) fn stop(self) -> Vec<String> {
        self.sampler.stop();
        self.logs.map(Follower::stop).unwrap_or_default()
    }
}

/// What the runner has taken from its threads so far.
pub(crate) struct Taken<'o> {
    lines: Vec<OutputLine>,
    samples: Vec<Sample>,
    pub(crate) open_pipes: usize,
    observe: &'o mut dyn FnMut(Event),
}

impl<'o> Taken<'o> {
    pub(crate) fn new(open_pipes: usize, observe: &'o mut dyn FnMut(Event)) -> Self {
        Taken {
            lines: Vec::new(),
            samples: Vec::new(),
            open_pipes,
            observe,
        }
    }

    fn keep(&mut self, msg: Message) {
        match msg {
            Message::Line(line) => {
                (self.observe)(Event::Line(&line));
                self.lines.push(line);
            }
            Message::Sample(sample) => {
                (self.observe)(Event::Sample(&sample));
                self.samples.push(sample);
            }
            Message::Eof => self.open_pipes -= 1,
        }
    }

    /// Take what comes within 50 ms.
    pub(crate) fn wait(&mut self, rx: &Receiver<Message>) {
        if let Ok(msg) = rx.recv_timeout(Duration::from_millis(50)) {
            self.keep(msg);
        }
    }

    /// Take what the pipes still hold, up to `within`, then whatever is queued.
    pub(crate) fn drain(&mut self, rx: &Receiver<Message>, within: Duration) {
        let until = Instant::now() + within;
        while self.open_pipes > 0 {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(msg) => self.keep(msg),
                Err(_) => break,
            }
        }
        while let Ok(msg) = rx.try_recv() {
            self.keep(msg);
        }
    }

    /// The lines and samples, each in time order (log lines and pipe lines come from
    /// different threads).
    pub(crate) fn into_parts(self) -> (Vec<OutputLine>, Vec<Sample>) {
        let (mut lines, mut samples) = (self.lines, self.samples);
        lines.sort_by(|a, b| a.t.total_cmp(&b.t));
        samples.sort_by(|a, b| a.t.total_cmp(&b.t));
        (lines, samples)
    }
}
