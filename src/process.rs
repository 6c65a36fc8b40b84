//! Child processes that cannot hang sadfix: each runs in its own process group with a deadline;
//! past it the group gets SIGTERM, then SIGKILL after a grace period, and is always reaped.
//!
//! CUDA initialisation under WSL can hang inside the driver and ignore SIGTERM, so every child
//! sadfix starts (probes, generations, `py_compile`) goes through here.

use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// How long a child gets between SIGTERM and SIGKILL by default.
pub const DEFAULT_GRACE: Duration = Duration::from_millis(400);

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Exited by itself with this code.
    Exited(i32),
    /// Killed by a signal sadfix did not send.
    Signaled(i32),
    /// Ran past its deadline; `needed_kill` says it ignored SIGTERM and took SIGKILL.
    TimedOut { needed_kill: bool },
    /// Ended by sadfix because sadfix itself was interrupted (Ctrl-C or SIGTERM, see
    /// `interrupt`); `needed_kill` as for `TimedOut`.
    Interrupted { needed_kill: bool },
}

impl Ending {
    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signaled(sig),
            (None, None) => Ending::Exited(-1),
        }
    }
}

/// The process groups of the children alive now. A group of its own keeps a child out of the
/// terminal's Ctrl-C, so sadfix must end them itself when it is interrupted.
static LIVE_GROUPS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

fn live_groups() -> std::sync::MutexGuard<'static, Vec<libc::pid_t>> {
    LIVE_GROUPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGKILL every process group sadfix started that is still alive, and every process that
/// carries the marker of a live run.
pub fn kill_live_groups() {
    for &pgid in live_groups().iter() {
        // SAFETY: killpg only sends a signal; a group already gone gives ESRCH, ignored.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
    crate::mark::kill_marked();
}

/// A child in its own process group. Dropping it kills the whole group and reaps the child, so
/// an early return or a panic never leaves a process behind.
pub struct GroupChild {
    child: Child,
    pgid: libc::pid_t,
    status: Option<ExitStatus>,
}

impl GroupChild {
    /// Spawn `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> io::Result<Self> {
        // Once sadfix is interrupted nothing new starts: a loop of runs (trials) ends with it.
        if let Some(signal) = crate::interrupted::received() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                format!("sadfix was interrupted (signal {signal}); nothing new is started"),
            ));
        }
        cmd.process_group(0);
        // Registered before it can be signalled, so an interrupt never misses it.
        let mut live = live_groups();
        let child = cmd.spawn()?;
        let pgid = child.id() as libc::pid_t;
        live.push(pgid);
        drop(live);
        Ok(GroupChild {
            child,
            pgid,
            status: None,
        })
    }

    /// The leader's process id (also the group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Wait for the leader until `deadline`; `None` when it is still running then.
    pub fn wait_until(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let status = if left.is_zero() {
            self.child.try_wait()?
        } else {
            self.child.wait_timeout(left)?
        };
        self.status = status;
        Ok(status)
    }

    /// End the whole group: SIGTERM, up to `grace` to exit, then SIGKILL; always reaps the
    /// leader. Returns whether SIGKILL was needed.
    pub fn terminate(&mut self, grace: Duration) -> io::Result<bool> {
        if self.status.is_some() {
            self.signal_group(libc::SIGKILL);
            return Ok(false);
        }
        self.signal_group(libc::SIGTERM);
        if let Some(status) = self.child.wait_timeout(grace)? {
            self.status = Some(status);
            // Members that ignored SIGTERM while the leader obeyed still go.
            self.signal_group(libc::SIGKILL);
            return Ok(false);
        }
        self.signal_group(libc::SIGKILL);
        self.status = Some(self.child.wait()?);
        Ok(true)
    }

    /// Kill what is left of the group once the leader has exited (grandchildren that kept a
    /// pipe open would otherwise keep the readers waiting).
    pub fn kill_leftovers(&self) {
        self.signal_group(libc::SIGKILL);
    }

    fn signal_group(&self, signal: libc::c_int) {
        // SAFETY: killpg only sends a signal; ESRCH (group already gone) is expected and ignored.
        unsafe {
            libc::killpg(self.pgid, signal);
        }
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
        if self.status.is_none() {
            let _ = self.child.wait();
        }
        live_groups().retain(|&g| g != self.pgid);
    }
}

/// What a bounded child left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    pub fn timed_out(&self) -> bool {
        matches!(self.ending, Ending::TimedOut { .. })
    }

    /// The last `n` non-empty lines of stderr, for evidence in a report.
    pub fn stderr_tail(&self, n: usize) -> String {
        tail_lines(&String::from_utf8_lossy(&self.stderr), n)
    }
}

/// Lower the calling thread's scheduling priority (nice +10, Linux sets it per thread): work
/// that runs beside a probe that matters more, such as doctor's checks beside the torch import,
/// then yields the CPU to it on a busy machine. Threads and children started from this thread
/// inherit it. Best effort: a failure leaves the priority as it was.
pub fn yield_cpu_to_others() {
    // SAFETY: gettid and setpriority take and return plain integers.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// The last `n` non-empty lines of `text`, joined with newlines.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// How often a bounded child's wait looks for an interrupt of sadfix.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Run `cmd` to completion, to `timeout`, or to an interrupt of sadfix (the group is then ended
/// the same way as at the deadline), capturing both pipes; stdin is closed.
pub fn run_bounded(mut cmd: Command, timeout: Duration, grace: Duration) -> io::Result<Finished> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = GroupChild::spawn(cmd)?;
    let out = child.take_stdout().map(read_to_end_thread);
    let err = child.take_stderr().map(read_to_end_thread);
    let deadline = start + timeout;
    let ending = loop {
        let slice = (Instant::now() + INTERRUPT_POLL).min(deadline);
        if let Some(status) = child.wait_until(slice)? {
            child.kill_leftovers();
            break Ending::from_status(status);
        }
        if crate::interrupted::received().is_some() {
            break Ending::Interrupted {
                needed_kill: child.terminate(grace)?,
            };
        }
        if Instant::now() >= deadline {
            break Ending::TimedOut {
                needed_kill: child.terminate(grace)?,
            };
        }
    };
    let elapsed = start.elapsed();
    Ok(Finished {
        ending,
        stdout: join_reader(out),
        stderr: join_reader(err),
        elapsed,
    })
}

fn read_to_end_thread<R: Read + Send + 'static>(mut pipe: R) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn join_reader(handle: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[test]
    fn captures_output_and_exit_code() {
        let done = run_bounded(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
            DEFAULT_GRACE,
        )
        .unwrap();
        assert_eq!(done.ending, Ending::Exited(3));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr_tail(5), "err");
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed_at_the_deadline() {
        let started = Instant::now();
        let done = run_bounded(
            sh("trap '' TERM; sleep 30 & wait; sleep 30"),
            Duration::from_millis(300),
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(done.ending, Ending::TimedOut { needed_kill: true });
        // The grandchild `sleep` held the pipes; killing the group is what lets this return.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn tail_lines_skips_blank_lines() {
        assert_eq!(tail_lines("a\n\nb\nc\n\n", 2), "b\nc");
    }
}
