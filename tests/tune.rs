//! `sadfix tune` on the simulated install for real: real child processes through bench's
//! runner, real out-of-memory tracebacks, the batch-size default really rewritten and reverted.

mod util;

use serde::Deserialize;
use std::path::{Path, PathBuf};
use util::{copy_fixture, fixtures, sadfix};

// Fast, but slow enough that the batch size, not the machine's load, decides the ranking.
const FAST: &str = "10";

/// The interpreter itself, not a version manager's shim, whose start-up varies with the load.
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The `--json` document, exactly the documented schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    schema_version: u32,
    device: Option<Device>,
    preflight: Preflight,
    trials: Vec<Trial>,
    recommendation: Option<Recommendation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Preflight {
    audio_s: f64,
    frames: u64,
    size: u32,
    gpu_free_mb: Option<f64>,
    gpu_total_mb: Option<f64>,
    per_batch: Vec<BatchFit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFit {
    batch_size: u32,
    predicted_peak_mb: Option<f64>,
    fits: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trial {
    batch_size: u32,
    parallel: u32,
    status: String,
    render_s_per_frame: Option<f64>,
    wall_s: Option<f64>,
    videos_per_min: Option<f64>,
    gpu_mem_peak_mb: Option<f64>,
    gpu_util_mean: Option<f64>,
    device: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    device: String,
    how: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recommendation {
    batch_size: u32,
    parallel: u32,
    speedup: Option<f64>,
    applied: bool,
}

struct Run {
    code: i32,
    doc: Option<Doc>,
    stdout: String,
    stderr: String,
}

/// Trials are timed: one tune at a time, so that the tests do not load each other's trials.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn tune(install: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let json = install.parent().unwrap().join("tune.json");
    let mut cmd = sadfix(install.parent().unwrap());
    cmd.env("SADTALKER_SIM_SPEED", FAST)
        .env("SADTALKER_SIM_VIDEO", "placeholder")
        .env_remove("SADTALKER_SIM_FAIL")
        .env_remove("SADTALKER_SIM_OOM_ABOVE")
        .env_remove("SADFIX_GPU_REPLAY")
        .arg("--root")
        .arg(install)
        .arg("tune")
        .arg("--json")
        .arg(&json)
        .args(["--python", &python()])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let doc = std::fs::read_to_string(&json)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("tune --json follows its schema"));
    Run {
        code: out.status.code().unwrap(),
        doc,
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Processes whose command line names `dir` (the copied install): none may outlive tune.
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(&needle) && text.contains("inference.py") {
            found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

fn five_minute_wav(dir: &Path) -> PathBuf {
    let path = dir.join("talk5min.wav");
    util::write_wav(&path, 300);
    path
}

#[test]
fn four_trials_mark_8_oom_recommend_4_and_apply_it_revertibly() {
    let (_tmp, install) = copy_fixture("sim-install");
    let original = std::fs::read(install.join("inference.py")).unwrap();
    let run = tune(
        &install,
        // Slower than the other tests: the ranking must hold on a loaded machine.
        &[
            ("SADTALKER_SIM_OOM_ABOVE", "4"),
            ("SADTALKER_SIM_SPEED", "4"),
        ],
        &["--batch-sizes", "1,2,4,8", "--parallel", "1", "--apply"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    assert_eq!(doc.schema_version, 1);
    let seen: Vec<(u32, &str)> = doc
        .trials
        .iter()
        .map(|t| (t.batch_size, t.status.as_str()))
        .collect();
    assert_eq!(seen, vec![(1, "ok"), (2, "ok"), (4, "ok"), (8, "oom")]);
    for t in doc.trials.iter().filter(|t| t.status == "ok") {
        assert!(t.wall_s.unwrap() > 0.0 && t.render_s_per_frame.unwrap() > 0.0);
    }
    // Bigger batches are faster per frame in the simulation; the trials must have measured it.
    let per_frame: Vec<f64> = doc.trials[..3]
        .iter()
        .map(|t| t.render_s_per_frame.unwrap())
        .collect();
    assert!(
        per_frame[0] > per_frame[1] && per_frame[1] > per_frame[2],
        "{per_frame:?}"
    );
    let rec = doc.recommendation.unwrap();
    assert_eq!((rec.batch_size, rec.parallel, rec.applied), (4, 1, true));
    let measured = doc.trials[2].videos_per_min.unwrap() / doc.trials[1].videos_per_min.unwrap();
    assert!((rec.speedup.unwrap() - measured).abs() < 1e-9 && measured > 1.0);
    assert!(
        run.stdout.contains("the videos per minute of batch 2 x 1"),
        "{}",
        run.stdout
    );
    if doc.trials[0].gpu_util_mean.is_none() {
        // No NVML here: the GPU figures are null, never zero, and the ranking says why.
        assert!(doc.trials.iter().all(|t| t.gpu_mem_peak_mb.is_none()));
        assert!(
            run.stdout.contains("ranked by time alone"),
            "{}",
            run.stdout
        );
    }
    assert!(
        processes_under(&install).is_empty(),
        "{:?}",
        processes_under(&install)
    );

    let patched = std::fs::read_to_string(install.join("inference.py")).unwrap();
    assert!(patched.contains(r#"parser.add_argument("--batch_size", type=int, default=4,"#));
    let revert = sadfix(&install)
        .args(["patch", "--revert"])
        .output()
        .unwrap();
    assert!(revert.status.success());
    assert_eq!(
        std::fs::read(install.join("inference.py")).unwrap(),
        original
    );
}

#[test]
fn dry_run_on_a_6_gib_gpu_says_five_minutes_will_not_fit_and_what_to_do() {
    let (tmp, install) = copy_fixture("sim-install");
    let audio = five_minute_wav(tmp.path());
    let replay = fixtures().join("tune/gpu-6gib.json");
    let run = tune(
        &install,
        &[("SADFIX_GPU_REPLAY", replay.to_str().unwrap())],
        &["--dry-run", "--audio", audio.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    assert_eq!((doc.preflight.frames, doc.preflight.size), (7500, 256));
    assert_eq!(doc.preflight.audio_s, 300.0);
    assert_eq!(doc.preflight.gpu_total_mb, Some(6144.0));
    assert_eq!(doc.preflight.gpu_free_mb, Some(6144.0 - 500.0));
    assert_eq!(doc.preflight.per_batch.len(), 5);
    for b in &doc.preflight.per_batch {
        assert_eq!(b.fits, Some(false), "batch {}", b.batch_size);
        // The stack alone: 2 x 7500 frames x 0.75 MiB.
        assert!(b.predicted_peak_mb.unwrap() >= 11_250.0);
    }
    assert!(doc.trials.is_empty() && doc.recommendation.is_none());
    let out = &run.stdout;
    assert!(out.contains("will NOT fit"), "{out}");
    assert!(out.contains("a replayed snapshot"), "{out}");
    assert!(out.contains("split at 1:15, 2:30, 3:45"), "{out}");
    assert!(out.contains("pid 2417"), "{out}");
    assert!(out.contains("sadfix patch --offload-frames"), "{out}");
    assert!(
        !tmp.path().join(".sadfix-tune").exists(),
        "a dry run runs nothing"
    );
}

#[test]
fn a_trial_that_crashes_stops_tune_with_benchs_diagnosis() {
    let (_tmp, install) = copy_fixture("sim-install");
    let run = tune(
        &install,
        &[("SADTALKER_SIM_FAIL", "crash")],
        &["--batch-sizes", "1,2"],
    );
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    assert_eq!(doc.trials.len(), 1);
    assert_eq!(doc.trials[0].status, "failed");
    assert!(doc.recommendation.is_none());
    assert!(run.stdout.contains("a trial FAILED"), "{}", run.stdout);
    assert!(
        run.stdout.contains("simulated crash in the face renderer"),
        "{}",
        run.stdout
    );
    assert!(processes_under(&install).is_empty());
}

#[test]
fn a_trial_that_exits_0_without_a_face_is_reported_as_failed_despite_the_code() {
    let (_tmp, install) = copy_fixture("sim-install");
    let run = tune(
        &install,
        &[("SADTALKER_SIM_FAIL", "noface")],
        &["--batch-sizes", "1,2"],
    );
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.doc.unwrap().trials[0].status, "failed");
    assert!(
        run.stdout
            .contains("a trial FAILED: exited with code 0, but its output shows it failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn parallel_runs_get_their_own_result_folders() {
    let (tmp, install) = copy_fixture("sim-install");
    let run = tune(&install, &[], &["--batch-sizes", "2", "--parallel", "1,2"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    let pair = doc
        .trials
        .iter()
        .find(|t| t.parallel == 2)
        .expect("a parallel trial");
    assert_eq!((pair.batch_size, pair.status.as_str()), (2, "ok"));
    assert!(pair.videos_per_min.unwrap() > 0.0);
    let work = std::fs::read_dir(tmp.path().join(".sadfix-tune"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for i in 1..=2 {
        let videos: Vec<_> = walk(&work.join(format!("batch2-x2-{i}")))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
            .collect();
        assert_eq!(videos.len(), 1, "run {i} wrote its own video");
    }
    assert!(processes_under(&install).is_empty());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn bad_input_is_a_usage_error_naming_what_to_pass() {
    let (tmp, install) = copy_fixture("sim-install");
    let mp3 = tmp.path().join("talk.mp3");
    std::fs::write(&mp3, b"ID3").unwrap();
    let run = tune(&install, &[], &["--audio", mp3.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("-ac 1 -ar 16000"), "{}", run.stderr);
    let gone = tmp.path().join("gone.wav");
    let run = tune(&install, &[], &["--audio", gone.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("{}: no such file", gone.display())),
        "{}",
        run.stderr
    );
    let run = tune(&install, &[], &["--size", "128"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("256 or 512"), "{}", run.stderr);
}

#[test]
fn doctor_with_audio_adds_the_memory_check() {
    let (tmp, install) = copy_fixture("sim-install");
    let audio = five_minute_wav(tmp.path());
    let replay = fixtures().join("tune/gpu-6gib.json");
    let out = sadfix(&install)
        .env("SADFIX_GPU_REPLAY", &replay)
        .args(["doctor", "--json", "--timeout", "10", "--audio"])
        .arg(&audio)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "preflight.memory")
        .expect("preflight.memory is there");
    assert_eq!(check["status"], "fail");
    assert!(check["fix"].as_str().unwrap().contains("clips of at most"));
}

#[test]
fn trials_on_the_cpu_are_said_to_be_a_cpu_tuning_not_a_gpu_one() {
    // SadTalker's `--cpu`, passed through to every trial: the generations run on the CPU.
    let (_tmp, install) = copy_fixture("sim-install");
    let run = tune(
        &install,
        &[],
        &["--batch-sizes", "2", "--parallel", "1", "--", "--cpu"],
    );
    let doc = run.doc.expect("a report");
    let device = doc.device.expect("the trials' device");
    assert_eq!(device.device, "cpu", "{}", run.stdout);
    assert!(!device.how.is_empty());
    assert!(doc
        .trials
        .iter()
        .filter(|t| t.status != "skipped")
        .all(|t| t.device.as_deref() == Some("cpu")));
    assert!(
        run.stdout.contains("device: the trials ran on the CPU"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no GPU tuning was done"),
        "{}",
        run.stdout
    );
    assert!(doc.recommendation.is_some(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("recommended ON THE CPU (not a GPU tuning)"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_installs_default_joins_the_trials_so_the_speedup_can_be_stated() {
    let (_tmp, install) = copy_fixture("sim-install");
    let run = tune(&install, &[], &["--batch-sizes", "4", "--parallel", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    let sizes: Vec<u32> = doc.trials.iter().map(|t| t.batch_size).collect();
    assert_eq!(sizes, vec![2, 4]);
    assert!(run
        .stderr
        .contains("batch 2 (the install's default) joins the trials"));
    let rec = doc.recommendation.unwrap();
    assert!(rec.speedup.is_some());
    assert!(!rec.applied);
    if rec.batch_size != 2 {
        let hint = format!("sadfix patch --batch-size {}", rec.batch_size);
        assert!(run.stdout.contains(&hint), "{}", run.stdout);
    }
}

#[test]
fn ctrl_c_during_a_trial_ends_its_generation_and_stops_tune() {
    let (tmp, install) = copy_fixture("sim-install");
    let bin = assert_cmd::cargo::cargo_bin("sadfix");
    let child = std::process::Command::new(bin)
        .current_dir(tmp.path())
        .env("SADTALKER_SIM_SPEED", "3")
        .env_remove("SADTALKER_SIM_FAIL")
        .env_remove("SADTALKER_SIM_OOM_ABOVE")
        .env_remove("SADFIX_GPU_REPLAY")
        .arg("--root")
        .arg(&install)
        .args(["tune", "--batch-sizes", "1,2", "--parallel", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first generation is running, then interrupt sadfix as a terminal would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while processes_under(&install).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !processes_under(&install).is_empty(),
        "the trial never started"
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: a plain kill(2) of the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The report of what was measured, then death by the signal itself, so a calling shell loop
    // stops (it sees 130).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGINT), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("interrupted"), "{stdout}\n{stderr}");
    assert!(
        processes_under(&install).is_empty(),
        "{:?}",
        processes_under(&install)
    );
}
