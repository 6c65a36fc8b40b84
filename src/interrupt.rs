//! Ctrl-C and SIGTERM, the same way for every command: the first signal ends every child group
//! sadfix started and lets the command report what it measured so far; sadfix then dies of that
//! same signal (default disposition restored, re-raised), so a calling shell sees 128 + signo
//! and a `for f in *.wav; do sadfix bench ...; done` loop stops. A second signal ends at once.

use std::io;
use std::sync::Mutex;

pub use crate::interrupted::{note, received};

/// The signal watch. SIGINT and SIGTERM are watched from the first `Watch::start` to the end of
/// the process (not only while one run lasts: a command that runs several generations, or writes
/// a report after one, must not lose a Ctrl-C that comes in between). The first signal is noted
/// (`received`: a runner then ends its group and returns what it saw; `process` starts nothing
/// new); a second kills every live group and re-raises.
pub struct Watch;

static STARTED: Mutex<bool> = Mutex::new(false);

impl Watch {
    pub fn start() -> io::Result<()> {
        let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
        if *started {
            return Ok(());
        }
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if !note(signal) {
                    // A generation that ignores SIGTERM must not outlive sadfix.
                    kill_and_reraise(signal);
                }
            }
        });
        *started = true;
        Ok(())
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
