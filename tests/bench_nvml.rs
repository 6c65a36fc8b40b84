//! `sadfix bench` on the simulated install with the stub `libnvidia-ml.so.1` (a test double
//! built from fixtures/nvml-stub) on the loader path: the real NVML sampler through
//! nvml-wrapper, its error mapping (NOT_SUPPORTED as under WSL, an entry point an old driver
//! lacks, a failed init), and the GPU columns labelled as the stub's.

mod nvml_stub;
mod util;

use nvml_stub::Variant;
use serde_json::Value;
use util::{copy_fixture, sadfix};

struct Run {
    report: Value,
    samples: Vec<Value>,
    stdout: String,
}

fn bench(variant: Variant, env: &[(&str, &str)]) -> Run {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("report.json");
    let record = tmp.path().join("trace");
    let mut cmd = sadfix(&install);
    cmd.env("SADTALKER_SIM_SPEED", "20")
        .env_remove("SADTALKER_SIM_FAIL")
        .env_remove("SADTALKER_SIM_CHILD")
        .args(["bench", "--json"])
        .arg(&json)
        .arg("--record")
        .arg(&record);
    for (k, v) in nvml_stub::env(variant) {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "bench exited {:?}: {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let samples = std::fs::read_to_string(record.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        report,
        samples,
        stdout,
    }
}

fn stage<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

/// Every sample's value of `field`, where present.
fn field(samples: &[Value], name: &str) -> Vec<f64> {
    samples.iter().filter_map(|s| s[name].as_f64()).collect()
}

#[test]
fn the_gpu_columns_come_from_the_stub_through_nvml_and_say_so() {
    let run = bench(
        Variant::Current,
        &[
            ("NVML_STUB_UTIL", "81"),
            ("NVML_STUB_MEMORY_MIB", "8192:2048"),
            ("NVML_STUB_PROCESSES", "children:1500"),
            ("NVML_STUB_ENCODER", "not_supported"),
        ],
    );
    let telemetry = &run.report["telemetry"];
    assert_eq!(telemetry["gpu"], "nvml");
    assert_eq!(telemetry["device"], "sadfix NVML stub GPU (test double)");
    assert!(
        run.stdout.contains(
            "GPU telemetry: NVML (GPU 0: sadfix NVML stub GPU (test double); \
             NVML lists the run's processes on GPU 0)"
        ),
        "{}",
        run.stdout
    );
    let renderer = stage(&run.report, "face_renderer");
    assert_eq!(renderer["gpu_util_mean"], 81.0);
    assert_eq!(renderer["gpu_mem_peak_mb"], 2048.0);
    assert!(run.samples.len() >= 3, "{} samples", run.samples.len());
    // The generation is sadfix's child: the stub lists it as a compute process.
    assert!(field(&run.samples, "proc_gpu_mem_mb").contains(&1500.0));
    assert!(field(&run.samples, "power_w").iter().all(|w| *w == 120.0));
    assert!(
        field(&run.samples, "enc_util").is_empty(),
        "not supported: absent, not 0"
    );
}

#[test]
fn utilisation_not_supported_as_under_wsl_leaves_the_columns_empty_not_zero() {
    let run = bench(
        Variant::Current,
        &[
            ("NVML_STUB_UTIL", "not_supported"),
            ("NVML_STUB_PROCESSES", "not_supported"),
        ],
    );
    assert_eq!(run.report["telemetry"]["gpu"], "nvml");
    assert!(field(&run.samples, "gpu_util").is_empty());
    assert!(field(&run.samples, "proc_gpu_mem_mb").is_empty());
    assert_eq!(field(&run.samples, "gpu_mem_mb").first(), Some(&512.0));
    let renderer = stage(&run.report, "face_renderer");
    assert!(renderer["gpu_util_mean"].is_null(), "{renderer}");
    assert_eq!(renderer["gpu_mem_peak_mb"], 512.0);
}

#[test]
fn a_driver_without_the_v3_process_list_still_samples_the_rest() {
    let run = bench(
        Variant::R470,
        &[("NVML_STUB_DRIVER", "470.256.02"), ("NVML_STUB_UTIL", "12")],
    );
    assert_eq!(run.report["telemetry"]["gpu"], "nvml");
    assert!(field(&run.samples, "proc_gpu_mem_mb").is_empty());
    assert_eq!(stage(&run.report, "face_renderer")["gpu_util_mean"], 12.0);
}

#[test]
fn a_driver_that_is_not_loaded_makes_gpu_telemetry_unavailable_with_the_reason() {
    let run = bench(Variant::Current, &[("NVML_STUB_INIT", "driver_not_loaded")]);
    let telemetry = &run.report["telemetry"];
    assert_eq!(telemetry["gpu"], "unavailable");
    assert_eq!(telemetry["reason"], "the NVIDIA driver is not loaded");
    assert!(field(&run.samples, "gpu_util").is_empty());
    assert!(run
        .stdout
        .contains("GPU telemetry unavailable: the NVIDIA driver is not loaded"));
}

/// Two stub GPUs of different models, the run's processes on `processes_gpu` (or none).
fn two_gpus(processes_gpu: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut all = vec![
        ("NVML_STUB_GPUS", "2"),
        ("NVML_STUB_NAME", "stub RTX 3060,stub RTX 4090"),
    ];
    match processes_gpu {
        Some(gpu) => {
            all.push(("NVML_STUB_PROCESSES", "children:1500"));
            all.push(("NVML_STUB_PROCESSES_GPU", gpu));
        }
        None => all.push(("NVML_STUB_PROCESSES", "none")),
    }
    all.extend_from_slice(env);
    bench(Variant::Current, &all)
}

#[test]
fn with_cuda_visible_devices_1_on_two_gpus_bench_follows_gpu_1() {
    let run = two_gpus(Some("1"), &[("CUDA_VISIBLE_DEVICES", "1")]);
    let telemetry = &run.report["telemetry"];
    assert_eq!(telemetry["gpu_index"], 1, "{telemetry}");
    assert_eq!(
        telemetry["gpu_uuid"],
        "GPU-5adf1c00-0000-4000-8000-000000000001"
    );
    assert_eq!(telemetry["device"], "stub RTX 4090 (test double)");
    assert_eq!(
        telemetry["gpu_chosen_by"],
        "NVML lists the run's processes on GPU 1"
    );
    // GPU 1's process list holds the run: its memory is the run's, and the device is confirmed.
    assert!(field(&run.samples, "proc_gpu_mem_mb").contains(&1500.0));
    assert_eq!(
        run.report["device"]["device"], "cuda",
        "{}",
        run.report["device"]
    );
    assert!(
        run.stdout.contains("GPU telemetry: NVML (GPU 1: stub RTX 4090 (test double); NVML lists the run's processes on GPU 1)"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_run_s_processes_decide_even_when_the_environment_points_elsewhere() {
    // A host that sets CUDA_VISIBLE_DEVICES for its own child: sadfix's says 0, the run is on 1.
    let run = two_gpus(Some("1"), &[("CUDA_VISIBLE_DEVICES", "0")]);
    assert_eq!(run.report["telemetry"]["gpu_index"], 1);
    assert!(field(&run.samples, "proc_gpu_mem_mb").contains(&1500.0));
}

#[test]
fn without_processes_an_index_is_mapped_and_a_guess_says_so() {
    let guess = two_gpus(None, &[("CUDA_VISIBLE_DEVICES", "1")]);
    let telemetry = &guess.report["telemetry"];
    assert_eq!(telemetry["gpu_index"], 1);
    let why = telemetry["gpu_chosen_by"].as_str().unwrap();
    assert!(why.contains("a guess"), "{why}");
    assert!(why.contains("CUDA_DEVICE_ORDER=PCI_BUS_ID"), "{why}");
    let pci = two_gpus(
        None,
        &[
            ("CUDA_VISIBLE_DEVICES", "1"),
            ("CUDA_DEVICE_ORDER", "PCI_BUS_ID"),
        ],
    );
    let why = pci.report["telemetry"]["gpu_chosen_by"].as_str().unwrap();
    assert!(!why.contains("guess"), "{why}");
    assert_eq!(pci.report["telemetry"]["gpu_index"], 1);
}

#[test]
fn a_uuid_or_a_mig_instance_in_cuda_visible_devices_names_its_gpu() {
    let by_uuid = two_gpus(
        None,
        &[(
            "CUDA_VISIBLE_DEVICES",
            "GPU-5adf1c00-0000-4000-8000-000000000001",
        )],
    );
    assert_eq!(by_uuid.report["telemetry"]["gpu_index"], 1);
    let by_mig = two_gpus(
        None,
        &[
            ("NVML_STUB_MIG_GPU", "1"),
            (
                "CUDA_VISIBLE_DEVICES",
                "MIG-5adf1c00-0000-4000-9000-000000000001",
            ),
        ],
    );
    let telemetry = &by_mig.report["telemetry"];
    assert_eq!(telemetry["gpu_index"], 1, "{telemetry}");
    assert!(telemetry["gpu_chosen_by"]
        .as_str()
        .unwrap()
        .contains("MIG instance on GPU 1"));
}
