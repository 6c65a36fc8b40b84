//! Ctrl-C and SIGTERM during `sadfix bench`: the run's processes end, the report of what was
//! measured is printed, and sadfix dies of the signal, so a calling shell loop stops (issue 11).

mod bench_json;
mod util;

use bench_json::{group_is_gone, Report};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::copy_fixture;

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("sadfix")
}

/// Wait until `path` holds `needle` (the generation reached a stage), at most 30 s.
fn wait_for(path: &std::path::Path, needle: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never showed {needle}", path.display());
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_bench() {
    let (tmp, install) = copy_fixture("sim-install");
    let out = tmp.path().join("loop.out");
    let err = tmp.path().join("loop.err");
    let json = tmp.path().join("report.json");
    // The loop of the issue: one bench per audio file. A terminal's Ctrl-C goes to the whole
    // foreground process group (the shell and sadfix), which is what killpg does here.
    let script = format!(
        "for f in 1 2 3; do {bin} --root {root} bench --json {json}; echo \"next after $f\"; done",
        bin = bin().display(),
        root = install.display(),
        json = json.display()
    );
    let mut shell = Command::new("bash")
        .args(["-c", &script])
        .env("SADTALKER_SIM_SPEED", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    wait_for(&err, "running");
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: killpg only sends a signal to the shell's own new process group.
    unsafe {
        libc::killpg(shell.id() as libc::pid_t, libc::SIGINT);
    }
    let status = shell.wait().unwrap();
    let stdout = std::fs::read_to_string(&out).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(
        !stdout.contains("next after"),
        "the loop went on:\n{stdout}\n{stderr}"
    );
    assert!(
        status.signal() == Some(libc::SIGINT) || status.code() == Some(130),
        "shell ended with {status:?}\n{stderr}"
    );
    // What was measured so far was printed, and the generation is gone.
    assert!(stdout.contains("sadfix bench"), "{stdout}");
    let report = Report::read(&json);
    assert_eq!(report.run.ending.kind, "interrupted");
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}

#[test]
fn sigterm_to_sadfix_reports_then_dies_of_sigterm() {
    let (tmp, install) = copy_fixture("sim-install");
    let err = tmp.path().join("bench.err");
    let json = tmp.path().join("report.json");
    let sadfix = Command::new(bin())
        .args(["--root"])
        .arg(&install)
        .args(["bench", "--json"])
        .arg(&json)
        .env("SADTALKER_SIM_SPEED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    wait_for(&err, "running");
    std::thread::sleep(Duration::from_millis(1000));
    // SAFETY: kill only sends a signal to the child this test started.
    unsafe {
        libc::kill(sadfix.id() as libc::pid_t, libc::SIGTERM);
    }
    let output = sadfix.wait_with_output().unwrap();
    assert_eq!(output.status.signal(), Some(libc::SIGTERM));
    assert!(String::from_utf8_lossy(&output.stdout).contains("interrupted"));
    let report = Report::read(&json);
    assert!(report.run.failed);
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}
