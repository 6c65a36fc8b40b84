//! Whether sadfix has been interrupted, and by which signal: the one fact that both the child
//! processes (`process`: start nothing new, end a bounded wait) and the signal watch
//! (`interrupt`) read, kept apart so that neither of those two imports the other.

use std::sync::atomic::{AtomicI32, Ordering};

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
