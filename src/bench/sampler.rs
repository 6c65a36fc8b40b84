//! The sampler thread: reads every telemetry source once per interval, on sadfix's own clock,
//! and sends each sample to the runner. It sleeps on a channel so that stopping is immediate.

use super::message::Message;
use super::record::Sample;
use super::telemetry::{TelemetrySource, Tick};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Sampler {
    stop: Sender<()>,
    handle: JoinHandle<()>,
}

impl Sampler {
    /// Start sampling the tree of `root_pid` every `interval` from now.
    pub(crate) fn start(
        mut sources: Vec<Box<dyn TelemetrySource>>,
        root_pid: u32,
        start: Instant,
        interval: Duration,
        out: Sender<Message>,
    ) -> Sampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let mut next = Instant::now();
            loop {
                let t = start.elapsed().as_secs_f64();
                let mut tick = Tick {
                    t,
                    root_pid,
                    tree: Vec::new(),
                };
                let mut sample = Sample {
                    t,
                    ..Sample::default()
                };
                for source in sources.iter_mut() {
                    source.read(&mut tick, &mut sample);
                }
                if out.send(Message::Sample(sample)).is_err() {
                    return;
                }
                // Fixed-rate ticks: a slow read does not shift every later sample.
                next += interval;
                let now = Instant::now();
                if next < now {
                    next = now;
                }
                match stopped.recv_timeout(next - now) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => return,
                }
            }
        });
        Sampler { stop, handle }
    }

    /// Stop and wait for the thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.handle.join();
    }
}
