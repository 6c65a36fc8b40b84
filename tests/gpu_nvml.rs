//! What the driver really says, through the stub `libnvidia-ml.so.1` (a test double built from
//! fixtures/nvml-stub): memory from a driver without `nvmlDeviceGetMemoryInfo_v2` (R470 and
//! older), and which of several GPUs a run is on.

mod nvml_stub;
mod util;

use nvml_stub::Variant;
use serde_json::Value;
use util::{copy_fixture, sadfix};

/// `doctor --json --audio` on the simulated install with the stub `variant` and `env`.
fn doctor_with_audio(variant: Variant, env: &[(&str, &str)], seconds: u32) -> Value {
    let (tmp, install) = copy_fixture("sim-install");
    let audio = tmp.path().join("talk.wav");
    util::write_wav(&audio, seconds);
    let log = tmp.path().join("nvml-calls");
    let mut cmd = sadfix(&install);
    cmd.env_remove("SADFIX_GPU_REPLAY")
        .env("NVML_STUB_LOG", &log);
    for (k, v) in nvml_stub::env(variant) {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["doctor", "--json", "--timeout", "10", "--audio"])
        .arg(&audio)
        .output()
        .unwrap();
    let mut report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no doctor report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["nvml_calls"] = std::fs::read_to_string(&log).unwrap_or_default().into();
    report
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn evidence(check: &Value) -> String {
    check["evidence"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn an_r470_driver_without_memory_v2_gives_real_memory_figures_through_v1() {
    let report = doctor_with_audio(
        Variant::R470,
        &[
            ("NVML_STUB_DRIVER", "470.256.02"),
            ("NVML_STUB_CUDA", "11040"),
            ("NVML_STUB_MEMORY_MIB", "8192:1024"),
        ],
        10,
    );
    let calls = report["nvml_calls"].as_str().unwrap();
    assert!(calls.contains("nvmlDeviceGetMemoryInfo\n"), "{calls}");
    assert!(!calls.contains("nvmlDeviceGetMemoryInfo_v2"), "{calls}");
    let driver = evidence(check(&report, "gpu.driver"));
    assert!(driver.contains("1.0 of 8.0 GiB used"), "{driver}");
    let memory = check(&report, "preflight.memory");
    assert_eq!(memory["status"], "ok", "{memory}");
    let figures = evidence(memory);
    assert!(figures.contains("7168 MiB free"), "{figures}");
}

#[test]
fn a_driver_that_reports_no_memory_says_unknown_never_zero() {
    // An R470 driver (no v2) whose v1 memory query fails too: no figure at all.
    let report = doctor_with_audio(
        Variant::R470,
        &[("NVML_STUB_MEMORY_MIB", "not_supported")],
        10,
    );
    let driver = evidence(check(&report, "gpu.driver"));
    assert!(driver.contains("memory unknown"), "{driver}");
    assert!(!driver.contains("0.0 of 0.0 GiB"), "{driver}");
    let memory = check(&report, "preflight.memory");
    assert_eq!(memory["status"], "skip", "{memory}");
    let summary = memory["summary"].as_str().unwrap();
    assert!(summary.contains("free memory unknown"), "{summary}");
    assert!(!summary.contains("0 MiB free"), "{summary}");
}

/// `tune` on the simulated install with the stub and `env`; its stdout and `--json` document.
fn tune(env: &[(&str, &str)], args: &[&str]) -> (String, Value) {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("tune.json");
    let python = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    let mut cmd = sadfix(tmp.path());
    cmd.env("SADTALKER_SIM_SPEED", "10")
        .env("SADTALKER_SIM_VIDEO", "placeholder")
        .env_remove("SADTALKER_SIM_FAIL")
        .env_remove("SADTALKER_SIM_OOM_ABOVE")
        .env_remove("SADFIX_GPU_REPLAY")
        .env_remove("CUDA_VISIBLE_DEVICES")
        .env_remove("CUDA_DEVICE_ORDER")
        .arg("--root")
        .arg(&install)
        .arg("tune")
        .arg("--json")
        .arg(&json)
        .arg("--python")
        .arg(String::from_utf8_lossy(&python.stdout).trim())
        .args(args);
    for (k, v) in nvml_stub::env(Variant::Current) {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let doc = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|_| {
            panic!(
                "no tune report: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (stdout, doc)
}

#[test]
fn trials_whose_processes_hold_gpu_memory_are_said_to_run_on_the_gpu() {
    let (stdout, doc) = tune(
        &[("NVML_STUB_PROCESSES", "children:1500")],
        &["--batch-sizes", "2", "--parallel", "1"],
    );
    assert_eq!(doc["device"]["device"], "cuda", "{stdout}");
    assert_eq!(doc["trials"][0]["device"], "cuda");
    assert!(
        stdout.contains("device: the trials ran on the GPU (")
            && stdout.contains("the process tree held 1500 MiB of GPU memory"),
        "{stdout}"
    );
    assert!(!stdout.contains("not a GPU tuning"), "{stdout}");
}

#[test]
fn tune_s_preflight_reads_the_gpu_cuda_visible_devices_names() {
    let (stdout, doc) = tune(
        &[
            ("NVML_STUB_GPUS", "2"),
            ("NVML_STUB_NAME", "stub RTX 3060,stub RTX 4090"),
            (
                "CUDA_VISIBLE_DEVICES",
                "GPU-5adf1c00-0000-4000-8000-000000000001",
            ),
        ],
        &["--dry-run"],
    );
    assert!(
        stdout.contains("GPU 1: stub RTX 4090 (test double)"),
        "{stdout}"
    );
    assert!(stdout.contains("names GPU 1 by its UUID"), "{stdout}");
    assert!(doc["device"].is_null(), "no trial ran: {doc}");
}

#[test]
fn an_attached_process_s_own_cuda_visible_devices_names_the_gpu() {
    let tmp = tempfile::tempdir().unwrap();
    // The watched program was started with CUDA_VISIBLE_DEVICES=1; sadfix's own says 0.
    let mut watched = std::process::Command::new("sleep")
        .arg("30")
        .env("CUDA_VISIBLE_DEVICES", "1")
        .env("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        .spawn()
        .unwrap();
    let json = tmp.path().join("attach.json");
    let mut cmd = sadfix(tmp.path());
    cmd.env("CUDA_VISIBLE_DEVICES", "0")
        .env_remove("CUDA_DEVICE_ORDER")
        .env("NVML_STUB_GPUS", "2")
        .env("NVML_STUB_NAME", "stub RTX 3060,stub RTX 4090");
    for (k, v) in nvml_stub::env(Variant::Current) {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["bench", "--attach"])
        .arg(watched.id().to_string())
        .args(["--duration", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    watched.kill().unwrap();
    watched.wait().unwrap();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_else(|_| {
            panic!(
                "no report: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        }))
        .unwrap();
    let telemetry = &report["telemetry"];
    assert_eq!(telemetry["gpu_index"], 1, "{telemetry}");
    let why = telemetry["gpu_chosen_by"].as_str().unwrap();
    assert!(
        why.starts_with("CUDA_VISIBLE_DEVICES=1 with CUDA_DEVICE_ORDER=PCI_BUS_ID"),
        "{why}"
    );
}
