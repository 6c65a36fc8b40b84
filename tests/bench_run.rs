//! `sadfix bench` running the simulated install for real: a child process, real sysinfo, real
//! output parsing. The simulated install is sped up (SADTALKER_SIM_SPEED) to keep this fast.

mod bench_json;
mod util;

use bench_json::{group_is_gone, Report};
use std::time::{Duration, Instant};
use util::{copy_fixture, sadfix};

const FAST: &str = "20";

/// Run bench on a fresh copy of the simulated install; returns the exit code, the report and
/// the text on stdout.
fn bench(env: &[(&str, &str)], extra: &[&str]) -> (i32, Report, String) {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("report.json");
    let mut cmd = sadfix(&install);
    cmd.env("SADTALKER_SIM_SPEED", FAST)
        .env_remove("SADTALKER_SIM_FAIL")
        .env_remove("SADTALKER_SIM_CHILD")
        .args(["bench", "--json"])
        .arg(&json)
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let code = out.status.code().unwrap();
    (code, Report::read(&json), stdout)
}

#[test]
fn a_run_of_the_simulated_install_gives_every_stage_and_the_right_counts() {
    let (code, report, stdout) = bench(&[("SADTALKER_SIM_CHILD", "1")], &["--batch-size", "4"]);
    let no_gpu = report.telemetry.gpu == "unavailable";
    // Without NVML nothing GPU-related can fail; with it, a simulated CPU run fails the GPU checks.
    assert_eq!(code, if no_gpu { 0 } else { 1 }, "{stdout}");
    assert_eq!(report.mode, "run");
    assert!(report.simulated);
    assert!(stdout.contains("SIMULATED install"), "{stdout}");
    assert_eq!(report.stage_names(), bench_json::CLI_STAGES);
    // 2 s of audio: N = 50 frames; batch size 4 gives ceil(50 / 4) = 13 renderer batches.
    assert_eq!(report.audio_s, Some(2.0));
    assert_eq!(report.stage("mel").total, Some(50));
    assert_eq!(report.stage("audio2coeff").total, Some(5));
    assert_eq!(report.stage("face_renderer").total, Some(13));
    assert_eq!(report.batch_size_inferred, Some(4));
    // Real sysinfo figures for the child's tree (the renderer works in a grandchild here too).
    let cpu = report.stage("face_renderer").cpu_mean.expect("CPU sampled");
    assert!(cpu > 10.0, "renderer CPU {cpu}%");
    if no_gpu {
        assert!(report
            .telemetry
            .reason
            .as_deref()
            .is_some_and(|r| !r.is_empty()));
        assert!(report
            .stages
            .iter()
            .all(|s| s.gpu_util_mean.is_none() && s.gpu_mem_peak_mb.is_none()));
        assert_eq!(report.verdict("gpu.face_renderer").status, "skip");
    }
    assert_eq!(report.verdict("device.cpu_tells").status, "pass");
    assert_eq!(report.verdict("output.video").status, "pass");
    let video = report.output_video.as_ref().unwrap();
    assert!(video.exists && video.path.ends_with(".mp4"));
    let stages = &report.stages;
    assert!(stages.windows(2).all(|w| w[0].end_s == w[1].start_s));
    assert!((stages.last().unwrap().end_s - report.wall_s).abs() < 1e-6);
}

#[test]
fn a_crash_mid_stage_is_a_failed_run_with_the_traceback() {
    let (code, report, stdout) = bench(&[("SADTALKER_SIM_FAIL", "crash")], &[]);
    assert_eq!(code, 5, "{stdout}");
    assert!(report.run.failed);
    assert_eq!(report.run.ending.kind, "exited");
    assert_eq!(report.run.ending.code, Some(1));
    assert!(report
        .run
        .stderr_tail
        .last()
        .unwrap()
        .contains("RuntimeError: simulated crash"));
    // What was seen before the crash is kept: the renderer got halfway.
    let renderer = report.stage("face_renderer");
    assert_eq!(renderer.total, Some(25));
    assert!(renderer.done.unwrap() < 25);
    assert!(stdout.contains("the run FAILED"));
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}

#[test]
fn a_hang_that_ignores_sigterm_is_killed_at_the_deadline_and_leaves_nothing() {
    let started = Instant::now();
    let (code, report, stdout) = bench(&[("SADTALKER_SIM_FAIL", "hang")], &["--timeout", "5"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(code, 5, "{stdout}");
    assert_eq!(report.run.ending.kind, "timed_out");
    assert_eq!(report.run.ending.needed_kill, Some(true));
    assert!(report.run.cause.as_deref().unwrap().contains("--timeout"));
    assert_eq!(report.stage_names().last(), Some(&"face_renderer"));
    // It hung inside the renderer, not in CUDA initialisation: the report says where.
    assert!(report
        .run
        .cause
        .as_deref()
        .unwrap()
        .contains("in Face Renderer at"));
    // The simulated hang also started a grandchild that ignores SIGTERM: the whole group goes.
    let pgid = report.run.child_pid.unwrap();
    assert!(
        group_is_gone(pgid),
        "left behind: {:?}",
        bench_json::live_members(pgid)
    );
}

#[test]
fn no_face_is_a_failed_run_even_though_sadtalker_exits_0() {
    let (code, report, stdout) = bench(&[("SADTALKER_SIM_FAIL", "noface")], &[]);
    assert_eq!(code, 5);
    assert_eq!(report.run.ending.code, Some(0));
    assert!(
        stdout.contains("the run FAILED: exited with code 0, but its output shows it failed"),
        "{stdout}"
    );
    assert_eq!(report.run.failure_kind.as_deref(), Some("no_face"));
}

#[test]
fn out_of_memory_names_its_cause() {
    let (code, report, _) = bench(&[("SADTALKER_SIM_FAIL", "oom")], &[]);
    assert_eq!(code, 5);
    assert_eq!(report.run.failure_kind.as_deref(), Some("out_of_memory"));
    assert!(report
        .run
        .cause
        .as_deref()
        .unwrap()
        .contains("audio length"));
}

#[test]
fn ctrl_c_ends_the_generation_and_still_reports() {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("report.json");
    let bin = assert_cmd::cargo::cargo_bin("sadfix");
    let mut child = std::process::Command::new(bin)
        .current_dir(&install)
        .env("SADTALKER_SIM_SPEED", "1")
        .env_remove("SADTALKER_SIM_FAIL")
        .args(["bench", "--json"])
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until sadfix has planned the run (its result directory exists), then a little more.
    let results = install.join(".sadfix-bench");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !results.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: a signal to the sadfix process this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    // The report is written, then sadfix dies of the SIGINT itself, so a calling shell stops.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT));
    let report = Report::read(&json);
    assert_eq!(report.run.ending.kind, "interrupted");
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}

#[test]
fn a_recorded_run_replays_to_the_same_stages_and_verdicts() {
    let (tmp, install) = copy_fixture("sim-install");
    let trace = tmp.path().join("trace");
    let live_json = tmp.path().join("live.json");
    let replay_json = tmp.path().join("replay.json");
    sadfix(&install)
        .env("SADTALKER_SIM_SPEED", FAST)
        .env_remove("SADTALKER_SIM_FAIL")
        .args(["bench", "--record"])
        .arg(&trace)
        .arg("--json")
        .arg(&live_json)
        .output()
        .unwrap();
    sadfix(tmp.path())
        .args(["bench", "--replay"])
        .arg(&trace)
        .arg("--json")
        .arg(&replay_json)
        .output()
        .unwrap();
    let (live, replay) = (Report::read(&live_json), Report::read(&replay_json));
    assert_eq!(replay.mode, "replay");
    assert_eq!(replay.replay.as_ref().unwrap().origin, "recorded");
    assert_eq!(live.stage_names(), replay.stage_names());
    assert_eq!(live.wall_s, replay.wall_s);
    let statuses = |r: &Report| {
        r.verdicts
            .iter()
            .map(|v| v.status.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&live), statuses(&replay));
    let cpu = |r: &Report| r.stages.iter().map(|s| s.cpu_mean).collect::<Vec<_>>();
    assert_eq!(cpu(&live), cpu(&replay));
}

#[test]
fn no_install_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    // --root keeps the walk-up from finding an install elsewhere under the temp directory.
    let out = sadfix(tmp.path())
        .args(["bench", "--root"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SadTalker install found"));
}

#[test]
fn output_paths_that_cannot_be_written_are_refused_before_the_run() {
    let (tmp, install) = copy_fixture("sim-install");
    std::fs::write(tmp.path().join("a-file"), "x").unwrap();
    for (args, code) in [
        (vec!["--record", "../a-file/trace"], 4),
        (vec!["--json", "../no-such-dir/report.json"], 2),
        (vec!["--svg", "../no-such-dir/timeline.svg"], 2),
    ] {
        let out = sadfix(&install)
            .env("SADTALKER_SIM_SPEED", FAST)
            .arg("bench")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(args[1]), "{args:?}: {err}");
    }
    // Nothing was run: no result directory was made for a generation.
    assert!(!install.join(".sadfix-bench").exists());
}

#[test]
fn enhancer_full_preprocess_and_extra_arguments_reach_inference_and_their_stages_are_followed() {
    let (code, report, stdout) = bench(
        &[],
        &[
            "--batch-size",
            "3",
            "--enhancer",
            "gfpgan",
            "--preprocess",
            "full",
            "--",
            "--still",
        ],
    );
    assert!(
        code == 0 || report.telemetry.gpu != "unavailable",
        "{stdout}"
    );
    let cmd = report.command.join(" ");
    for passed in [
        "--batch_size 3",
        "--enhancer gfpgan",
        "--preprocess full",
        "--still",
    ] {
        assert!(cmd.contains(passed), "{passed} missing from {cmd}");
    }
    let names = report.stage_names();
    assert_eq!(
        names[names.len() - 3..],
        ["video_write", "seamless_clone", "face_enhancer"]
    );
    // Both run once per frame: 2 s of audio, 50 frames; the renderer ceil(50 / 3) = 17.
    assert_eq!(report.stage("seamless_clone").total, Some(50));
    assert_eq!(report.stage("face_enhancer").total, Some(50));
    assert_eq!(report.stage("face_renderer").total, Some(17));
    assert_eq!(report.batch_size_inferred, Some(3));
    // The final video is the enhanced one, named last.
    assert!(report.output_video.as_ref().is_some_and(|v| v.exists));
}

/// The children of `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].split(' ').nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(pid) {
            found.push(child);
        }
    }
    found
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_still_ends_a_group_that_ignores_sigterm() {
    let (_tmp, install) = copy_fixture("sim-install");
    let bin = assert_cmd::cargo::cargo_bin("sadfix");
    let mut child = std::process::Command::new(bin)
        .current_dir(&install)
        .env("SADTALKER_SIM_SPEED", FAST)
        .env("SADTALKER_SIM_FAIL", "hang")
        .args(["bench", "--timeout", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The generation's leader is sadfix's child, and the group is named after it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let leader = loop {
        if let Some(&pid) = children_of(child.id()).first() {
            break pid;
        }
        assert!(Instant::now() < deadline, "the generation never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let it reach the hang, which ignores SIGTERM (and has a grandchild that does too).
    std::thread::sleep(Duration::from_millis(2500));
    for _ in 0..2 {
        // SAFETY: signals to the sadfix process this test started.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "a shell sees 130");
    assert!(
        group_is_gone(leader),
        "left behind: {:?}",
        bench_json::live_members(leader)
    );
}
