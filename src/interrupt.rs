//! Ctrl-C and SIGTERM, the same way for every command: the first signal ends every child group
//! sadfix started and lets the command report what it measured so far; sadfix then dies of that
//! same signal (default disposition restored, re-raised), so a calling shell sees 128 + signo
//! and a `for f in *.wav; do sadfix bench ...; done` loop stops. A second signal ends at once.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The first interrupting signal received, 0 while none has come.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The signal that interrupted this run of sadfix, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Note that `signal` interrupted the run; returns whether it is the first one.
pub fn note(signal: i32) -> bool {
    RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

/// How a command's children learn of an interrupt: SIGINT and SIGTERM are watched while this
/// lives. The first one raises `flag` (the runner then ends its group and returns what it saw);
/// a second one kills every live group and re-raises at once.
pub struct Watch {
    flag: Arc<AtomicBool>,
    handle: signal_hook::iterator::Handle,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    pub fn start() -> io::Result<Watch> {
        Self::start_with(|_| {})
    }

    /// Like `start`, with `first` run on the first signal (after `flag` is raised). A command
    /// whose children have no other way to learn of the interrupt passes `kill_and_reraise`.
    pub fn start_with(first: impl Fn(i32) + Send + 'static) -> io::Result<Watch> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let handle = signals.handle();
        let flag = Arc::new(AtomicBool::new(false));
        let raised = flag.clone();
        let thread = std::thread::spawn(move || {
            for signal in signals.forever() {
                note(signal);
                if raised.swap(true, Ordering::SeqCst) {
                    // A generation that ignores SIGTERM must not outlive sadfix.
                    kill_and_reraise(signal);
                }
                first(signal);
            }
        });
        Ok(Watch {
            flag,
            handle,
            thread: Some(thread),
        })
    }

    /// Raised by the first signal.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// SIGKILL every live child group, then die of `signal`.
pub fn kill_and_reraise(signal: i32) -> ! {
    crate::process::kill_live_groups();
    reraise(signal)
}

/// End sadfix with `code`, or, when a signal interrupted it, by that signal. The process exit
/// point of the binary.
pub fn exit(code: i32) -> ! {
    match received() {
        Some(signal) => kill_and_reraise(signal),
        None => std::process::exit(code),
    }
}

fn reraise(signal: i32) -> ! {
    use std::io::Write;
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    // Restores SIG_DFL and raises: the process dies of the signal, as an untrapped one would.
    let _ = signal_hook::low_level::emulate_default_handler(signal);
    // Only reached if the signal could not kill us (it is blocked): the shell's convention.
    std::process::exit(128 + signal)
}
