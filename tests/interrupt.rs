//! Ctrl-C and SIGTERM during `sadfix bench` and `sadfix doctor`: the run's processes end, the
//! report of what was found so far is printed, and sadfix dies of the signal, so a calling shell
//! loop stops (issue 11).

mod bench_json;
mod util;

use bench_json::{group_is_gone, Report};
use sadfix::doctor::check::{DoctorReport, Status};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::copy_fixture;
use util::fake_torch::{self, group_of, is_zombie, processes_marked, python};

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

/// What a shell loop that was stopped left: its stdout and its stderr.
struct LoopEnd {
    stdout: String,
    stderr: String,
}

/// Run `for f in 1 2 3; do BODY; echo "next after $f"; done` in bash with `env` added, call
/// `ready` (given the shell's pid and stderr file) until the first run is under way, then press
/// Ctrl-C: a terminal's Ctrl-C goes to the whole foreground process group (the shell and
/// sadfix), which is what killpg does here.
fn ctrl_c_to_a_loop(
    dir: &Path,
    body: &str,
    env: &[(&str, String)],
    ready: impl Fn(u32, &Path),
) -> LoopEnd {
    let out = dir.join("loop.out");
    let err = dir.join("loop.err");
    let script = format!("for f in 1 2 3; do {body}; echo \"next after $f\"; done");
    let mut shell = Command::new("bash")
        .args(["-c", &script])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    ready(shell.id(), &err);
    // SAFETY: killpg only sends a signal to the shell's own new process group.
    unsafe {
        libc::killpg(shell.id() as libc::pid_t, libc::SIGINT);
    }
    let status = shell.wait().unwrap();
    let end = LoopEnd {
        stdout: std::fs::read_to_string(&out).unwrap(),
        stderr: std::fs::read_to_string(&err).unwrap(),
    };
    assert!(
        !end.stdout.contains("next after"),
        "the loop went on:\n{}\n{}",
        end.stdout,
        end.stderr
    );
    assert!(
        status.signal() == Some(libc::SIGINT) || status.code() == Some(130),
        "shell ended with {status:?}\n{}",
        end.stderr
    );
    end
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_bench() {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("report.json");
    let body = format!(
        "{bin} --root {root} bench --json {json}",
        bin = bin().display(),
        root = install.display(),
        json = json.display()
    );
    let env = [
        ("SADTALKER_SIM_SPEED", "1".to_string()),
        ("NO_COLOR", "1".to_string()),
    ];
    let end = ctrl_c_to_a_loop(tmp.path(), &body, &env, |_, err| {
        wait_for(err, "running");
        std::thread::sleep(Duration::from_millis(1500));
    });
    // What was measured so far was printed, and the generation is gone.
    assert!(end.stdout.contains("sadfix bench"), "{}", end.stdout);
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
    assert_eq!(report.run.ending.kind, "interrupted");
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}

/// A `sadfix doctor` run with the fake torch hanging in `cuda.is_available()` (it ignores
/// SIGTERM and has a child doing the same), every process of it carrying `marker`.
fn hanging_doctor_env(marker: &str) -> Vec<(&'static str, String)> {
    let mut env = fake_torch::env("hang", "packages-pinned");
    env.push(("SADFIX_TEST_PROBE_MARK", marker.to_string()));
    env
}

/// Wait (at most 20 s) until the CUDA probe hangs with the other probes done: one process
/// group other than `outside`'s is marked, with two members (the probe and the hang's child);
/// returns that group.
fn wait_for_the_hang(marker: &str, outside: u32) -> u32 {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let mut groups: Vec<u32> = processes_marked(marker)
            .iter()
            .filter(|pid| !is_zombie(pid))
            .filter_map(|pid| group_of(pid))
            .filter(|&g| g != outside)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        if let [group] = groups[..] {
            if processes_marked(marker)
                .iter()
                .filter(|pid| group_of(pid) == Some(group))
                .count()
                >= 2
            {
                return group;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the CUDA probe never started hanging");
}

/// The marked processes still running (a killed one not yet reaped is not running).
fn running(marker: &str) -> Vec<String> {
    std::thread::sleep(Duration::from_millis(300));
    let mut left = processes_marked(marker);
    left.retain(|pid| !is_zombie(pid));
    left
}

#[test]
fn ctrl_c_during_a_hanging_cuda_probe_reports_what_was_found_and_dies_of_sigint() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let marker = format!("ctrl-c-json-{}", std::process::id());
    let sadfix = Command::new(bin())
        .current_dir(root.join("SadTalker"))
        .env_clear()
        .envs(hanging_doctor_env(&marker))
        .args(["doctor", "--json", "--timeout", "60", "--python"])
        .arg(python())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let own_group = group_of(&sadfix.id().to_string()).unwrap();
    let probe_group = wait_for_the_hang(&marker, own_group);
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(sadfix.id() as libc::pid_t, libc::SIGINT);
    }
    let output = sadfix.wait_with_output().unwrap();
    // Dies of the SIGINT itself (a shell sees 130), so a calling loop stops.
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGINT),
        "dies of the signal"
    );
    assert!(group_is_gone(probe_group), "the CUDA probe's group is left");
    let left = running(&marker);
    assert!(left.is_empty(), "left behind: {left:?}");
    // The report was printed: what rests on the CUDA probe is interrupted, not failed; what
    // does not is judged as usual.
    let report: DoctorReport = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stdout));
    });
    let status = |id: &str| report.check(id).unwrap_or_else(|| panic!("no {id}")).status;
    for id in ["cuda.available", "code.device_selection"] {
        assert_eq!(status(id), Status::Interrupted, "{id}");
    }
    let cuda = report.check("cuda.available").unwrap();
    assert!(cuda.summary.contains("Ctrl-C (SIGINT)"), "{}", cuda.summary);
    for id in [
        "python.interpreter",
        "packages.numpy",
        "ffmpeg",
        "weights.checkpoints",
    ] {
        assert_eq!(status(id), Status::Ok, "{id}");
    }
    assert!(!report.checks.iter().any(|c| c.status.is_failure()));
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_doctor() {
    let (tmp, root) = copy_fixture("doctor/healthy");
    let marker = format!("ctrl-c-loop-{}", std::process::id());
    let install = root.join("SadTalker");
    let body = format!(
        "{bin} --root {root} doctor --timeout 60 --python {python}",
        bin = bin().display(),
        root = install.display(),
        python = python().display()
    );
    let env = hanging_doctor_env(&marker);
    let probe_group = std::cell::Cell::new(0);
    let end = ctrl_c_to_a_loop(tmp.path(), &body, &env, |shell, _| {
        probe_group.set(wait_for_the_hang(&marker, shell));
    });
    assert!(
        group_is_gone(probe_group.get()),
        "the CUDA probe's group is left"
    );
    let left = running(&marker);
    assert!(left.is_empty(), "left behind: {left:?}");
    // The table was printed, the unfinished checks marked as such.
    let interrupted = end
        .stdout
        .lines()
        .find(|l| l.contains("cuda.available"))
        .unwrap_or_else(|| panic!("no table:\n{}\n{}", end.stdout, end.stderr));
    assert!(interrupted.contains("INTERRUPTED"), "{interrupted}");
    assert!(
        end.stdout.contains("sadfix was interrupted"),
        "{}",
        end.stdout
    );
}
