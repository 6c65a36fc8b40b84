//! `sadfix bench --replay` on the committed traces: the verdicts, hints and exit codes a user
//! sees, with nothing run.

mod bench_json;
mod util;

use bench_json::Report;
use std::path::Path;
use util::{fixtures, sadfix};

fn replay(trace: &str, extra: &[&str]) -> (i32, Report, String) {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("report.json");
    let out = sadfix(tmp.path())
        .arg("bench")
        .arg("--replay")
        .arg(fixtures().join("traces").join(trace))
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (out.status.code().unwrap(), Report::read(&json), stdout)
}

#[test]
fn the_synthetic_gpu_trace_passes_and_says_it_is_synthetic() {
    let (code, report, stdout) = replay("gpu-synthetic", &[]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.mode, "replay");
    assert_eq!(report.replay.as_ref().unwrap().origin, "synthetic");
    assert_eq!(report.telemetry.gpu, "replay");
    assert!(report
        .telemetry
        .reason
        .as_deref()
        .unwrap()
        .contains("synthetic"));
    assert!(stdout.contains("REPLAY of a SYNTHETIC trace"), "{stdout}");
    assert_eq!(report.stage_names(), bench_json::CLI_STAGES);
    assert_eq!(report.batch_size_inferred, Some(2));
    assert_eq!(report.audio_s, Some(11.0));
    let renderer = report.stage("face_renderer");
    assert_eq!((renderer.done, renderer.total), (Some(138), Some(138)));
    assert!(renderer.gpu_util_mean.unwrap() > 85.0);
    for id in [
        "gpu.face_renderer",
        "gpu.overall",
        "time.wall",
        "device.cpu_tells",
    ] {
        assert_eq!(report.verdict(id).status, "pass", "{id}");
    }
    assert_eq!(report.verdict("gpu.face_enhancer").status, "skip");
}

#[test]
fn the_cpu_fallback_trace_fails_with_the_cpu_hint() {
    let (code, report, stdout) = replay("cpu-fallback", &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!report.run.failed);
    assert_eq!(report.telemetry.gpu, "unavailable");
    assert!(
        report.simulated,
        "the trace was recorded from the simulated install"
    );
    let device = report.verdict("device.cpu_tells");
    assert_eq!(device.status, "fail");
    assert!(device.observed.as_deref().unwrap().contains("s/it"));
    assert!(device
        .hint
        .as_deref()
        .unwrap()
        .ends_with("the run used the CPU; run sadfix doctor"));
    let wall = report.verdict("time.wall");
    assert_eq!(wall.status, "fail");
    assert!(wall.hint.as_deref().unwrap().contains("CPU speed"));
    // No GPU telemetry in the recording: GPU figures are missing, not zero, and not judged.
    assert!(report.stages.iter().all(|s| s.gpu_util_mean.is_none()));
    assert_eq!(report.verdict("gpu.face_renderer").status, "skip");
    assert!(stdout.contains("REPLAY of a recorded trace"), "{stdout}");
    // The video path is the recording machine's, and says so.
    assert!(
        stdout.contains("\nvideo (as recorded): /tmp/SadTalker/"),
        "{stdout}"
    );
}

#[test]
fn the_cpu_fallback_trace_names_only_paths_of_the_install_it_was_recorded_from() {
    // The report shows the trace's video path: it must read as the recorded install's, not as
    // some other scratch directory of the recording machine.
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("traces/cpu-fallback/meta.json")).unwrap(),
    )
    .unwrap();
    let install = meta["install"].as_str().unwrap();
    let mut paths: Vec<&str> = meta["command"].as_array().unwrap()[1..]
        .iter()
        .filter_map(|a| a.as_str())
        .filter(|a| a.starts_with('/'))
        .collect();
    paths.push(meta["audio"].as_str().unwrap());
    paths.push(meta["output_video"]["path"].as_str().unwrap());
    for path in paths {
        assert!(path.starts_with(&format!("{install}/")), "{path}");
    }
    assert!(meta["note"].as_str().unwrap().contains("Recorded for real"));
}

#[test]
fn require_gpu_turns_missing_gpu_telemetry_into_failures() {
    let (code, report, _) = replay("cpu-fallback", &["--require-gpu"]);
    assert_eq!(code, 1);
    let renderer = report.verdict("gpu.face_renderer");
    assert_eq!(renderer.status, "fail");
    assert!(renderer
        .hint
        .as_deref()
        .unwrap()
        .contains("GPU telemetry unavailable"));
}

#[test]
fn a_replay_is_deterministic_and_draws_a_labelled_timeline() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = fixtures().join("traces/gpu-synthetic");
    let run = |name: &str| {
        let json = tmp.path().join(format!("{name}.json"));
        let svg = tmp.path().join(format!("{name}.svg"));
        sadfix(tmp.path())
            .args(["bench", "--replay"])
            .arg(&trace)
            .arg("--json")
            .arg(&json)
            .arg("--svg")
            .arg(&svg)
            .assert()
            .success();
        (
            std::fs::read_to_string(json).unwrap(),
            std::fs::read_to_string(svg).unwrap(),
        )
    };
    let (json_a, svg_a) = run("a");
    let (json_b, _) = run("b");
    assert_eq!(json_a, json_b);
    assert!(svg_a.starts_with("<svg"));
    assert!(svg_a.contains("REPLAY of a SYNTHETIC trace"));
    assert!(svg_a.contains(">Face Renderer<"));
    assert!(svg_a.contains("time since start (s)"));
}

#[test]
fn an_expectations_file_replaces_the_guide() {
    let tmp = tempfile::tempdir().unwrap();
    let expect = tmp.path().join("strict.yaml");
    std::fs::write(
        &expect,
        "version: 1\nreference_audio_s: 11\nexpectations:\n  - id: renderer.strict\n    metric: gpu_util_mean\n    stage: face_renderer\n    guide: 99\n    fail_below: 98\n    hint_fail: \"{stage} at {observed}\"\n",
    )
    .unwrap();
    let (code, report, _) = replay("gpu-synthetic", &["--expect", expect.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(report.verdicts.len(), 1);
    assert_eq!(
        report.verdicts[0].hint.as_deref(),
        Some("Face Renderer at 91%")
    );
}

#[test]
fn replay_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = sadfix(tmp.path())
        .args(["bench", "--replay", "no-such-trace"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-trace"));
    let trace = fixtures().join("traces/gpu-synthetic");
    let mixed = sadfix(Path::new(tmp.path()))
        .args(["bench", "--batch-size", "4", "--replay"])
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(mixed.status.code(), Some(2));
}

#[test]
fn the_report_of_the_synthetic_trace_reads_as_expected() {
    // Run from the repository root so the trace path in the title is the same everywhere.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = sadfix(root)
        .args(["bench", "--replay", "fixtures/traces/gpu-synthetic"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}
