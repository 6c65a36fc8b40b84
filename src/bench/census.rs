//! Who belongs to a run: the process tree of its root, and every process that carries the
//! run's marker (`SADFIX_RUN=<id>`) in `/proc/PID/environ`. The marker is inherited by every
//! child a host starts, so it survives `setsid`, `start_new_session=True` and re-parenting,
//! which a process-group kill and a parent walk both miss. Also the SadTalker child seen among
//! them (`inference.py` in `/proc/PID/cmdline`), for when its output never reaches sadfix.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The environment variable that marks the processes of a run.
pub const RUN_VAR: &str = "SADFIX_RUN";

/// A marker value no other run of sadfix uses.
pub fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:x}", std::process::id())
}

/// Whether the environment of `pid` carries `SADFIX_RUN=<id>`.
pub fn carries(pid: u32, id: &str) -> bool {
    crate::mark::carries(pid, &format!("{RUN_VAR}={id}"))
}

/// Every live process carrying the marker, from a fresh scan of `/proc`.
pub fn marked(id: &str) -> Vec<u32> {
    crate::mark::marked_by(&format!("{RUN_VAR}={id}"))
}

/// The SadTalker process of a run as `/proc` showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SadTalkerChild {
    pub pid: u32,
    pub argv: Vec<String>,
    /// Seconds after the run started when it was first and last seen alive.
    pub first_seen_s: f64,
    pub last_seen_s: f64,
    /// `--batch_size` on its command line; SadTalker's default (2) when absent.
    pub batch_size: u32,
    #[serde(default)]
    pub size: Option<u32>,
    #[serde(default)]
    pub preprocess: Option<String>,
    #[serde(default)]
    pub enhancer: Option<String>,
    #[serde(default)]
    pub result_dir: Option<String>,
    /// `--driven_audio`, resolved against its working directory.
    #[serde(default)]
    pub audio: Option<String>,
    /// Where its stdout went (`/proc/PID/fd/1`): a pipe, a file, a terminal.
    #[serde(default)]
    pub stdout: Option<String>,
    /// Its stdout was the same as the run's root's (the output reached sadfix unchanged).
    #[serde(default)]
    pub stdout_shared_with_root: bool,
}

impl SadTalkerChild {
    /// The child's stdout is a regular file (which `--log` can follow).
    pub fn writes_to_file(&self) -> Option<&str> {
        self.stdout.as_deref().filter(|s| s.starts_with('/'))
    }
}

/// The SadTalker child from a command line, if it is one.
pub fn sadtalker_child(pid: u32, argv: &[String], t: f64) -> Option<SadTalkerChild> {
    let runs_inference = argv.iter().take(3).any(|a| {
        Path::new(a)
            .file_name()
            .is_some_and(|n| n == "inference.py")
    });
    if !runs_inference {
        return None;
    }
    let flag = |name: &str| -> Option<String> {
        let eq = format!("{name}=");
        argv.iter().enumerate().find_map(|(i, a)| {
            if a == name {
                argv.get(i + 1).cloned()
            } else {
                a.strip_prefix(&eq).map(str::to_string)
            }
        })
    };
    Some(SadTalkerChild {
        pid,
        argv: argv.to_vec(),
        first_seen_s: t,
        last_seen_s: t,
        batch_size: flag("--batch_size")
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
        size: flag("--size").and_then(|v| v.parse().ok()),
        preprocess: flag("--preprocess"),
        enhancer: flag("--enhancer"),
        result_dir: flag("--result_dir"),
        audio: flag("--driven_audio"),
        stdout: None,
        stdout_shared_with_root: false,
    })
}

/// The command line of `pid`, empty when it cannot be read.
pub fn cmdline_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The environment of `pid` (`VAR=value` pairs), `None` when it cannot be read (another
/// user's process, or one already gone).
pub fn environ_of(pid: u32) -> Option<Vec<(String, String)>> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter_map(|kv| {
                let text = String::from_utf8_lossy(kv);
                let (k, v) = text.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect(),
    )
}

/// Where the stdout of `pid` goes: a file's path, `pipe:[..]`, `socket:[..]`, a terminal.
pub fn stdout_of(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/fd/1"))
        .ok()
        .map(|p| p.display().to_string())
}

/// What the sampler learns about a run's processes as it goes.
#[derive(Debug, Default)]
pub struct Census {
    /// The run's marker; `None` when attached to a process sadfix did not start.
    id: Option<String>,
    /// Pids already looked at, and whether they carry the marker.
    known: HashMap<u32, bool>,
    /// Pids whose command line was already read.
    named: HashSet<u32>,
    pub sadtalker: Option<SadTalkerChild>,
}

impl Census {
    pub fn new(id: Option<String>) -> Census {
        Census {
            id,
            ..Census::default()
        }
    }

    /// Of the live `pids`, those carrying the marker. Each pid's environment is read once.
    pub fn marked_among(&mut self, pids: &[u32]) -> Vec<u32> {
        let Some(id) = self.id.clone() else {
            return Vec::new();
        };
        let own = std::process::id();
        self.known.retain(|pid, _| pids.contains(pid));
        pids.iter()
            .copied()
            .filter(|&pid| {
                pid != own && *self.known.entry(pid).or_insert_with(|| carries(pid, &id))
            })
            .collect()
    }

    /// Look at the run's members at `t`: the SadTalker child among them, and how long it lived.
    pub fn observe(&mut self, t: f64, root: u32, members: &[u32]) {
        if let Some(child) = self.sadtalker.as_mut() {
            if members.contains(&child.pid) {
                child.last_seen_s = t;
            }
            return;
        }
        for &pid in members {
            if !self.named.insert(pid) {
                continue;
            }
            if let Some(mut child) = sadtalker_child(pid, &cmdline_of(pid), t) {
                child.stdout = stdout_of(pid);
                if let (Some(audio), Ok(cwd)) = (
                    child.audio.take(),
                    std::fs::read_link(format!("/proc/{pid}/cwd")),
                ) {
                    child.audio = Some(cwd.join(audio).display().to_string());
                }
                child.stdout_shared_with_root =
                    pid == root || (child.stdout.is_some() && child.stdout == stdout_of(root));
                self.sadtalker = Some(child);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_sadtalker_child_is_read_from_its_command_line() {
        let child = sadtalker_child(
            7,
            &argv("python3 external/SadTalker/inference.py --driven_audio a.wav --size 512 --batch_size=4 --result_dir out"),
            1.5,
        )
        .unwrap();
        assert_eq!(
            (child.batch_size, child.size, child.result_dir.as_deref()),
            (4, Some(512), Some("out"))
        );
        // SadTalker's own default when the host passes none (the guide's host passes none).
        let child = sadtalker_child(7, &argv("python inference.py --driven_audio a.wav"), 0.0);
        assert_eq!(child.unwrap().batch_size, 2);
        assert!(sadtalker_child(7, &argv("python3 app.py --out inference.py"), 0.0).is_none());
    }

    #[test]
    fn a_marked_process_is_found_even_in_a_session_of_its_own() {
        let id = new_run_id();
        let mut cmd = std::process::Command::new("setsid");
        cmd.args(["sleep", "5"]).env(RUN_VAR, &id);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let found = marked(&id);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
        assert!(marked("no-such-run").is_empty());
    }
}
