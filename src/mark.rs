//! Processes found by a mark in their environment (`VAR=value`, read from `/proc/PID/environ`):
//! a host may start SadTalker with `setsid` or re-parent it, out of reach of a process-group
//! kill, but its children inherit the environment. The marks of the runs alive now are kept, so
//! that a second Ctrl-C also kills what carries them.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment markers (`VAR=value`) of the runs alive now: a process that left its
/// group (`setsid`) still carries its run's marker, and goes with it.
static LIVE_MARKS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn live_marks() -> std::sync::MutexGuard<'static, Vec<String>> {
    LIVE_MARKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGKILL every process carrying the mark of a live run.
pub fn kill_marked() {
    for mark in live_marks().iter() {
        signal_all(&marked_by(mark), libc::SIGKILL);
    }
}

/// Whether the environment of `pid` holds `mark` (`VAR=value`) exactly. A process of another
/// user (its environment unreadable) or one already gone does not.
pub fn carries(pid: u32, mark: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == mark.as_bytes()))
}

/// Every live process other than sadfix whose environment holds `mark`.
pub fn marked_by(mark: &str) -> Vec<u32> {
    let own = std::process::id();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own && carries(pid, mark))
        .collect()
}

fn signal_all(pids: &[u32], signal: libc::c_int) {
    for &pid in pids {
        // SAFETY: kill only sends a signal; ESRCH (already gone) is ignored.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }
}

/// A run's marker, registered while it lives so that a second Ctrl-C also kills what carries
/// it; `end` ends those processes (SIGTERM, `grace`, SIGKILL).
pub struct Mark {
    mark: String,
}

impl Mark {
    pub fn register(var: &str, value: &str) -> Mark {
        let mark = format!("{var}={value}");
        live_marks().push(mark.clone());
        Mark { mark }
    }

    /// End every process still carrying the mark; returns whether SIGKILL was needed.
    pub fn end(&self, grace: Duration) -> bool {
        let left = marked_by(&self.mark);
        if left.is_empty() {
            return false;
        }
        signal_all(&left, libc::SIGTERM);
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if marked_by(&self.mark).is_empty() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = marked_by(&self.mark);
        signal_all(&left, libc::SIGKILL);
        !left.is_empty()
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        live_marks().retain(|m| m != &self.mark);
    }
}
