//! Device confirmation with the stub `libnvidia-ml.so.1` (a test double, fixtures/nvml-stub):
//! the host app says "device: cuda", and the GPU memory NVML lists for the run's process tree
//! confirms it or contradicts it.

mod bench_json;
mod nvml_stub;
mod util;

use bench_json::Report;
use nvml_stub::Variant;
use util::{fixtures, sadfix};

/// `--exec` the passthrough host that claims cuda, with the stub listing `mib` MiB for each
/// child of sadfix (the host is one).
fn claimed_cuda(mib: &str) -> (Report, String) {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("report.json");
    let mut cmd = sadfix(tmp.path());
    for (k, v) in nvml_stub::env(Variant::Current) {
        cmd.env(k, v);
    }
    let out = cmd
        .env("SADTALKER_SIM_SPEED", "20")
        .env("NVML_STUB_PROCESSES", format!("children:{mib}"))
        .args(["bench", "--json"])
        .arg(&json)
        .args(["--exec", "--", "python3"])
        .arg(fixtures().join("host-app/host.py"))
        .args(["--style", "passthrough", "--say-device", "cuda"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (Report::read(&json), stdout)
}

#[test]
fn the_log_says_cuda_but_the_process_tree_held_no_gpu_memory() {
    let (report, stdout) = claimed_cuda("0");
    assert_eq!(report.telemetry.gpu, "nvml", "{stdout}");
    let v = report.verdict("device.confirmed");
    assert_eq!(v.status, "fail", "{stdout}");
    assert!(v
        .hint
        .as_deref()
        .unwrap()
        .starts_with("the log says cuda, but the process tree held no GPU memory"));
    assert_eq!(report.device.as_ref().unwrap().device, "cpu");
}

#[test]
fn gpu_memory_held_by_the_tree_confirms_the_claim() {
    let (report, stdout) = claimed_cuda("2900");
    let v = report.verdict("device.confirmed");
    assert_eq!(v.status, "pass", "{stdout}");
    let device = report.device.as_ref().unwrap();
    assert_eq!(device.device, "cuda");
    assert!(
        device.how.iter().any(|h| h.contains("2900 MiB")),
        "{:?}",
        device.how
    );
    assert!(
        stdout.contains("GPU attribution: GPU memory of the run's process tree"),
        "{stdout}"
    );
}
