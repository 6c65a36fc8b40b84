//! Running sadfix against the fake torch in fixtures/fake_torch with the machine's python3, and
//! finding the processes a run started by a marker in their environment.

use super::fixtures;
use std::path::PathBuf;
use std::process::Command;

/// The real interpreter behind `python3` (a pyenv shim needs PATH, which these tests replace).
pub fn python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// PATH with the stand-in ffmpeg and the basic tools only.
pub fn test_path() -> String {
    format!("{}:/usr/bin:/bin", fixtures().join("doctor/bin").display())
}

/// The whole environment of a run with the fake torch in `mode` and the `packages` metadata
/// set; the caller clears everything else.
pub fn env(mode: &str, packages: &str) -> Vec<(&'static str, String)> {
    let fake = fixtures().join("fake_torch");
    vec![
        ("NO_COLOR", "1".into()),
        ("PATH", test_path()),
        ("FAKE_TORCH_MODE", mode.into()),
        (
            "PYTHONPATH",
            format!("{}:{}", fake.display(), fake.join(packages).display()),
        ),
    ]
}

/// Processes whose environment holds `marker`.
pub fn processes_marked(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(marker) {
            found.push(entry.file_name().to_string_lossy().to_string());
        }
    }
    found
}

/// The process group of `pid`, from /proc (None once it is gone).
pub fn group_of(pid: &str) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state, ppid, pgrp.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(2)?.parse().ok()
}

/// Whether `pid` is a zombie (killed, not yet reaped): not left running.
pub fn is_zombie(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}
