//! `--metrics FILE` end to end: what doctor and bench write is parsed as the Prometheus text
//! format and checked against the same run's `--json` (names, units, values, escaping, the
//! replay labels), and the file is replaced whole with no temporary file left beside it.

mod util;

use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use util::fake_torch::{self, python};
use util::prom::{parse, Exposition};
use util::{copy_fixture, fixtures, sadfix};

/// What every file must hold: sadfix_ names in base units, gauges only, no series twice, no
/// path or PID in a label, and the common series.
fn check_conventions(exp: &Exposition, command: &str, paths: &[&Path]) {
    let mut series = HashSet::new();
    for s in &exp.samples {
        assert!(s.name.starts_with("sadfix_"), "{}", s.name);
        assert!(
            s.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            s.name
        );
        for unit in ["_ms", "_milliseconds", "_mb", "_mib", "_percent", "_minute"] {
            assert!(!s.name.contains(unit), "not a base unit: {}", s.name);
        }
        assert_eq!(exp.kind[&s.name], "gauge");
        assert!(
            series.insert(format!("{}{:?}", s.name, s.labels)),
            "twice: {s:?}"
        );
        for (k, v) in &s.labels {
            assert!(!["path", "pid", "file"].contains(&k.as_str()), "{k}");
            for p in paths {
                assert!(!v.contains(&*p.to_string_lossy()), "a path in {k}={v}");
            }
        }
        if s.name.ends_with("_info") {
            assert_eq!(s.value, 1.0, "{s:?}");
        }
    }
    assert_eq!(exp.value("sadfix_info", &[("command", command)]), 1.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let at = exp.value("sadfix_last_run_timestamp_seconds", &[("command", command)]);
    assert!(now - at >= 0.0 && now - at < 600.0, "{at} vs {now}");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The documented scale (docs/fleet.md) of the check and verdict status series.
const SCALE: [(&str, f64); 7] = [
    ("ok", 0.0),
    ("pass", 0.0),
    ("warn", 1.0),
    ("fail", 2.0),
    ("timeout", 3.0),
    ("skip", -1.0),
    ("interrupted", -2.0),
];

fn status_scale(status: &str) -> f64 {
    SCALE
        .iter()
        .find(|(s, _)| *s == status)
        .expect("a known status")
        .1
}

/// Run `cmd` with `--json` and `--metrics` files in `dir`, expecting exit `code`; the JSON and
/// the parsed metrics, checked against the conventions, with no temporary file left in `dir`.
fn json_and_metrics(
    mut cmd: assert_cmd::Command,
    dir: &Path,
    command: &str,
    code: i32,
) -> (Value, Exposition) {
    let (json, prom) = (
        dir.join(format!("{command}.json")),
        dir.join(format!("{command}.prom")),
    );
    cmd.arg("--json").arg(&json).arg("--metrics").arg(&prom);
    cmd.assert().code(code);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let exp = parse(&std::fs::read_to_string(&prom).unwrap());
    check_conventions(&exp, command, &[dir, &fixtures()]);
    let left: Vec<String> = files_in(dir)
        .into_iter()
        .filter(|f| f.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    (json, exp)
}

#[test]
fn doctor_metrics_equal_its_json_and_name_the_replayed_gpu() {
    let (tmp, root) = copy_fixture("doctor/healthy");
    let install = root.join("SadTalker");
    let out = tmp.path().join("textfiles");
    std::fs::create_dir(&out).unwrap();
    let prom = out.join("sadfix-doctor.prom");
    // A GPU name with every character the format escapes.
    let snapshot = tmp.path().join("gpu.json");
    let name = "NVIDIA \"Fake\" \\ GPU\nsecond line";
    let mut gpu: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("doctor/gpu/rtx3090-driver-550.json")).unwrap(),
    )
    .unwrap();
    gpu["gpus"][0]["name"] = name.into();
    std::fs::write(&snapshot, gpu.to_string()).unwrap();
    // An old file is replaced whole.
    std::fs::write(&prom, "stale\n").unwrap();

    let mut cmd = sadfix(&install);
    cmd.env_clear()
        .envs(fake_torch::env("cuda", "packages-pinned"))
        .env("SADFIX_GPU_REPLAY", &snapshot)
        .arg("doctor")
        .arg("--python")
        .arg(python())
        .arg("--json")
        .arg("--metrics")
        .arg(&prom);
    let stdout = cmd.assert().code(0).get_output().stdout.clone();
    let json: Value = serde_json::from_slice(&stdout).unwrap();
    let text = std::fs::read_to_string(&prom).unwrap();
    let exp = parse(&text);
    check_conventions(&exp, "doctor", &[&install, tmp.path()]);
    assert_eq!(
        files_in(&out),
        ["sadfix-doctor.prom"],
        "a temporary file was left"
    );

    let checks = json["checks"].as_array().unwrap();
    assert_eq!(
        exp.find("sadfix_doctor_check_status", &[]).len(),
        checks.len()
    );
    for check in checks {
        let (id, status) = (
            check["id"].as_str().unwrap(),
            check["status"].as_str().unwrap(),
        );
        let found = exp.find("sadfix_doctor_check_status", &[("check", id)]);
        assert_eq!(found.len(), 1, "{id}");
        assert_eq!(found[0].value, status_scale(status), "{id} is {status}");
        assert_eq!(found[0].labels["area"], check["area"].as_str().unwrap());
        let severity = &found[0].labels["severity"];
        assert_eq!(
            severity == "critical",
            status == "fail" || status == "timeout"
        );
    }
    let failing = checks.iter().filter(|c| c["status"] == "fail").count();
    assert_eq!(
        exp.value("sadfix_doctor_checks", &[("status", "fail")]),
        failing as f64
    );
    assert_eq!(
        exp.value("sadfix_doctor_duration_seconds", &[]),
        json["elapsed_ms"].as_f64().unwrap() / 1000.0
    );

    let platform = &json["platform"];
    let torch = exp.find("sadfix_torch_build_info", &[]);
    assert_eq!(torch.len(), 1);
    assert_eq!(
        torch[0].labels["version"],
        platform["torch"]["version"].as_str().unwrap()
    );
    assert_eq!(
        torch[0].labels["cuda"],
        platform["torch"]["cuda"].as_str().unwrap()
    );
    assert_eq!(torch[0].labels["read_from"], "import");
    assert_eq!(exp.value("sadfix_cuda_available", &[]), 1.0);
    assert_eq!(platform["cuda_available"], true);
    let driver = exp.find("sadfix_gpu_driver_info", &[("source", "replay")]);
    assert_eq!(driver.len(), 1, "the replayed snapshot is labelled");
    assert_eq!(driver[0].labels["version"], "550.54.14");
    assert_eq!(driver[0].labels["cuda"], "12.4");
    assert_eq!(
        exp.find("sadfix_gpu_info", &[("gpu", "0")])[0].labels["name"],
        name,
        "the name reads back through the escapes"
    );
    assert!(
        text.contains(r#"name="NVIDIA \"Fake\" \\ GPU\nsecond line""#),
        "{text}"
    );
    assert_eq!(
        exp.value("sadfix_gpu_memory_total_bytes", &[("gpu", "0")]),
        platform["gpus"][0]["memory_total_bytes"].as_f64().unwrap()
    );
    assert_eq!(exp.value("sadfix_nvidia_gpu_present", &[]), 1.0);
    assert_eq!(platform["nvidia_gpu_seen"], true);
    assert_eq!(
        exp.value(
            "sadfix_doctor_gpu_telemetry_info",
            &[("source", "replay"), ("failure", "none")]
        ),
        1.0
    );
}

#[test]
fn bench_metrics_equal_its_json_and_label_a_synthetic_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = sadfix(tmp.path());
    cmd.args(["bench", "--replay"])
        .arg(fixtures().join("traces/gpu-synthetic"));
    let (json, exp) = json_and_metrics(cmd, tmp.path(), "bench", 0);
    assert_eq!(files_in(tmp.path()), ["bench.json", "bench.prom"]);

    let run = exp.find("sadfix_bench_run_info", &[]);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].labels["source"], "replay_synthetic");
    assert_eq!(run[0].labels["gpu_telemetry"], "replay");
    let device = exp.find("sadfix_bench_device_info", &[]);
    assert_eq!(
        device[0].labels["device"],
        json["device"]["device"].as_str().unwrap()
    );
    assert_eq!(device[0].labels["source"], "replay_synthetic");
    let confirmed = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == "device.confirmed" && v["status"] == "pass");
    assert_eq!(device[0].labels["confirmed"], confirmed.to_string());
    assert_eq!(
        exp.value("sadfix_bench_wall_seconds", &[]),
        json["wall_s"].as_f64().unwrap()
    );
    assert_eq!(
        exp.value("sadfix_bench_audio_seconds", &[]),
        json["audio_s"].as_f64().unwrap()
    );
    let stages = json["stages"].as_array().unwrap();
    assert_eq!(
        exp.find("sadfix_bench_stage_seconds", &[]).len(),
        stages.len()
    );
    for stage in stages {
        let key = [("stage", stage["name"].as_str().unwrap())];
        assert_eq!(
            exp.value("sadfix_bench_stage_seconds", &key),
            stage["duration_s"].as_f64().unwrap()
        );
        assert_eq!(
            exp.value("sadfix_bench_stage_gpu_utilization_ratio", &key),
            stage["gpu_util_mean"].as_f64().unwrap() / 100.0
        );
        assert_eq!(
            exp.value("sadfix_bench_stage_gpu_memory_peak_bytes", &key),
            stage["gpu_mem_peak_mb"].as_f64().unwrap() * 1048576.0
        );
    }
    for verdict in json["verdicts"].as_array().unwrap() {
        let id = verdict["id"].as_str().unwrap();
        assert_eq!(
            exp.value("sadfix_bench_verdict_status", &[("verdict", id)]),
            status_scale(verdict["status"].as_str().unwrap()),
            "{id}"
        );
    }
}

#[test]
fn a_recorded_cpu_fallback_says_cpu_and_no_gpu_figure_is_invented() {
    let tmp = tempfile::tempdir().unwrap();
    let prom = tmp.path().join("bench.prom");
    sadfix(tmp.path())
        .args(["bench", "--replay"])
        .arg(fixtures().join("traces/cpu-fallback"))
        .arg("--metrics")
        .arg(&prom)
        .assert()
        .code(1);
    let exp = parse(&std::fs::read_to_string(&prom).unwrap());
    let device = exp.find("sadfix_bench_device_info", &[]);
    assert_eq!(device[0].labels["device"], "cpu");
    assert_eq!(device[0].labels["source"], "replay_recorded");
    assert_eq!(device[0].labels["simulated"], "true");
    assert!(exp
        .find("sadfix_bench_stage_gpu_utilization_ratio", &[])
        .is_empty());
    assert!(exp
        .find("sadfix_bench_gpu_memory_peak_bytes", &[])
        .is_empty());
    assert_eq!(
        exp.value(
            "sadfix_bench_verdict_status",
            &[("verdict", "device.cpu_tells")]
        ),
        2.0
    );
}

#[test]
fn a_metrics_file_in_a_missing_folder_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["bench", "--replay", "x"],
        vec!["doctor"],
        vec!["tune", "--dry-run"],
    ] {
        let assert = sadfix(tmp.path())
            .args(&args)
            .args(["--metrics", "no/such/dir/sadfix.prom"])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            err.contains("--metrics no/such/dir/sadfix.prom: no directory"),
            "{args:?}: {err}"
        );
    }
    assert!(files_in(tmp.path()).is_empty());
}

#[test]
fn tune_metrics_carry_the_recommendation_and_the_preflight_of_its_json() {
    let (tmp, install) = copy_fixture("sim-install");
    let mut cmd = sadfix(tmp.path());
    cmd.env("SADFIX_GPU_REPLAY", fixtures().join("tune/gpu-6gib.json"))
        .arg("--root")
        .arg(&install)
        .args(["tune", "--dry-run"]);
    let (json, exp) = json_and_metrics(cmd, tmp.path(), "tune", 0);
    let run = exp.find("sadfix_tune_run_info", &[]);
    assert_eq!(run[0].labels["gpu_source"], "replay");
    assert_eq!(run[0].labels["dry_run"], "true");
    for fit in json["preflight"]["per_batch"].as_array().unwrap() {
        let bs = fit["batch_size"].to_string();
        assert_eq!(
            exp.value("sadfix_tune_predicted_peak_bytes", &[("batch_size", &bs)]),
            fit["predicted_peak_mb"].as_f64().unwrap() * 1048576.0
        );
        let fits = if fit["fits"] == true { 1.0 } else { 0.0 };
        assert_eq!(exp.value("sadfix_tune_fits", &[("batch_size", &bs)]), fits);
    }
    assert!(exp
        .find("sadfix_tune_recommended_batch_size", &[])
        .is_empty());

    // Two real trials on the simulated install, without GPU telemetry here.
    let mut cmd = sadfix(tmp.path());
    cmd.env("SADTALKER_SIM_SPEED", "10")
        .env("SADTALKER_SIM_VIDEO", "placeholder")
        .arg("--root")
        .arg(&install)
        .args(["tune", "--python", &python().to_string_lossy()])
        .args(["--batch-sizes", "2,4", "--parallel", "1"]);
    let (json, exp) = json_and_metrics(cmd, tmp.path(), "tune", 0);
    assert_eq!(
        exp.find("sadfix_tune_run_info", &[])[0].labels["simulated"],
        "true"
    );
    let rec = &json["recommendation"];
    assert_eq!(
        exp.value("sadfix_tune_recommended_batch_size", &[]),
        rec["batch_size"].as_f64().unwrap()
    );
    assert_eq!(exp.value("sadfix_tune_recommended_parallel", &[]), 1.0);
    assert_eq!(
        exp.value("sadfix_tune_speedup_ratio", &[]),
        rec["speedup"].as_f64().unwrap()
    );
    for trial in json["trials"].as_array().unwrap() {
        let key = [
            ("batch_size", &*trial["batch_size"].to_string()),
            ("parallel", &*trial["parallel"].to_string()),
        ];
        assert_eq!(
            exp.value("sadfix_tune_trial_videos_per_second", &key),
            trial["videos_per_min"].as_f64().unwrap() / 60.0
        );
        assert_eq!(
            exp.value("sadfix_tune_trial_wall_seconds", &key),
            trial["wall_s"].as_f64().unwrap()
        );
    }
}
