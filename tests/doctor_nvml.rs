//! `sadfix doctor` against the stub `libnvidia-ml.so.1` (a test double built from
//! fixtures/nvml-stub) and the fake torch together: nvml-wrapper's real loading, calls and error
//! mapping, and one verdict per cause across the layers, each with its fix command.

mod nvml_stub;
mod util;

use nvml_stub::Variant;
use sadfix::doctor::check::{Check, DoctorReport, Status};
use util::{copy_fixture, fake_torch, sadfix};

/// A doctor run on the healthy fixture with the fake torch in `mode`, the stub NVML `variant`
/// first on the loader path, the scripted answers in `env`, and nothing else from this
/// process's environment. Returns the report, and the NVML entry points the stub saw called.
fn doctor(mode: &str, variant: Variant, env: &[(&str, &str)]) -> (DoctorReport, Vec<String>) {
    let (tmp, root) = copy_fixture("doctor/healthy");
    let log = tmp.path().join("nvml-calls");
    let mut cmd = sadfix(&root.join("SadTalker"));
    cmd.env_clear()
        .envs(fake_torch::env(mode, "packages-pinned"))
        .env("NVML_STUB_LOG", &log);
    for (k, v) in nvml_stub::env(variant) {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .arg("doctor")
        .arg("--python")
        .arg(fake_torch::python())
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "doctor exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: DoctorReport = serde_json::from_slice(&out.stdout).expect("a doctor report");
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (report, calls)
}

fn check<'a>(report: &'a DoctorReport, id: &str) -> &'a Check {
    report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id} in {report:?}"))
}

fn has(check: &Check, text: &str) -> bool {
    check.evidence.iter().any(|e| e.contains(text))
}

const OLD_DRIVER: [(&str, &str); 2] = [
    ("NVML_STUB_DRIVER", "470.256.02"),
    ("NVML_STUB_CUDA", "11040"),
];

#[test]
fn a_cuda_build_on_an_old_driver_names_the_wheel_for_that_driver() {
    let (report, calls) = doctor("newer-than-driver", Variant::R470, &OLD_DRIVER);
    assert_eq!(report.gpu_source, "nvml");
    assert!(calls.iter().any(|c| c == "nvmlInit_v2"), "{calls:?}");
    assert!(calls.iter().any(|c| c == "nvmlShutdown"), "{calls:?}");
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(
        cuda.summary.contains(
            "the driver supports CUDA 11.4 (from NVML), older than torch's CUDA 12.1 build"
        ) && cuda.summary.contains(">= 525.60.13"),
        "{}",
        cuda.summary
    );
    assert!(has(cuda, "torch.cuda.init(): RuntimeError: The NVIDIA driver on your system is too old (found version 11040)"), "{cuda:?}");
    assert!(
        has(cuda, "NVML (nvml): driver 470.256.02, CUDA 11.4, 1 GPU(s)"),
        "{cuda:?}"
    );
    let fix = cuda.fix.as_deref().unwrap();
    assert!(fix.ends_with("-m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu118"), "{fix}");
    // The old driver lacks the v3 process lists: nvml-wrapper's missing-symbol error, shown.
    let driver = check(&report, "gpu.driver");
    assert_eq!(driver.status, Status::Fail);
    assert!(
        has(driver, "nvmlDeviceGetComputeRunningProcesses_v3") && has(driver, "too old for it"),
        "{driver:?}"
    );
    assert!(
        has(driver, "sadfix NVML stub GPU (test double)"),
        "{driver:?}"
    );
}

#[test]
fn a_cpu_only_build_on_a_good_driver_gets_the_index_of_that_driver() {
    for (cuda, driver, tag) in [
        ("12080", "570.133.07", "cu128"),
        ("13000", "580.65.06", "cu130"),
        ("12040", "550.54.14", "cu124"),
    ] {
        let env = [("NVML_STUB_CUDA", cuda), ("NVML_STUB_DRIVER", driver)];
        let (report, _) = doctor("cpu-only", Variant::Current, &env);
        let build = check(&report, "torch.build");
        assert_eq!(build.status, Status::Fail, "{build:?}");
        assert!(
            build
                .summary
                .contains("while the driver sees sadfix NVML stub GPU (test double)"),
            "{}",
            build.summary
        );
        let want = format!("--index-url https://download.pytorch.org/whl/{tag}");
        assert!(build.fix.as_deref().unwrap().ends_with(&want), "{build:?}");
        let available = check(&report, "cuda.available");
        assert_eq!(available.status, Status::Fail);
        assert_eq!(available.fix, build.fix);
        assert!(has(
            available,
            "torch.cuda.init(): AssertionError: Torch not compiled with CUDA enabled"
        ));
    }
}

#[test]
fn a_cuda_build_in_a_container_without_the_gpu_says_to_start_it_with_one() {
    let env = [
        ("NVML_STUB_INIT", "driver_not_loaded"),
        ("container", "podman"),
    ];
    let (report, calls) = doctor("no-driver", Variant::Current, &env);
    assert_eq!(calls, ["nvmlInit_v2"], "a failed init is the only call");
    assert_eq!(report.gpu_source, "unavailable");
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(
        cuda.summary
            .starts_with("CUDA is unavailable: no NVIDIA driver in this container"),
        "{}",
        cuda.summary
    );
    assert!(has(
        cuda,
        "torch.cuda.init(): RuntimeError: Found no NVIDIA driver on your system"
    ));
    assert!(
        has(cuda, "NVML: the NVIDIA driver is not loaded"),
        "{cuda:?}"
    );
    assert!(has(cuda, "container=podman"), "{cuda:?}");
    // No image is known here: the host-side flag as a sentence, never a command with dots.
    let fix = cuda.fix.as_deref().unwrap();
    assert!(
        fix.contains("add `--gpus all` to the `docker run`"),
        "{fix}"
    );
    assert!(!fix.contains("..."), "{fix}");
}

#[test]
fn a_gpu_that_nvml_sees_but_cuda_visible_devices_hides_is_named_with_its_fix() {
    for (value, fix) in [
        ("", "unset CUDA_VISIBLE_DEVICES"),
        ("-1", "unset CUDA_VISIBLE_DEVICES"),
        ("1", "export CUDA_VISIBLE_DEVICES=0"),
    ] {
        let (report, _) = doctor("cuda", Variant::Current, &[("CUDA_VISIBLE_DEVICES", value)]);
        let cuda = check(&report, "cuda.available");
        assert_eq!(cuda.status, Status::Fail, "{value:?}: {cuda:?}");
        assert!(
            cuda.summary
                .contains(&format!("CUDA_VISIBLE_DEVICES={value:?} hides every GPU"))
                && cuda.summary.contains("NVML sees 1"),
            "{}",
            cuda.summary
        );
        assert!(has(
            cuda,
            "torch.cuda.init(): RuntimeError: No CUDA GPUs are available"
        ));
        assert_eq!(cuda.fix.as_deref(), Some(fix));
        assert_eq!(
            check(&report, "env.cuda_visible_devices").status,
            Status::Fail
        );
    }
}

#[test]
fn under_wsl_with_the_stub_first_and_no_driver_library_the_windows_driver_is_the_fix() {
    let env = [
        ("WSL_DISTRO_NAME", "Ubuntu"),
        ("NVML_STUB_UTIL", "not_supported"),
        ("NVML_STUB_PROCESSES", "not_supported"),
    ];
    let (report, _) = doctor("no-driver", Variant::Current, &env);
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(
        cuda.summary
            .contains("no NVIDIA driver reaches WSL (/usr/lib/wsl/lib)"),
        "{}",
        cuda.summary
    );
    // This machine has no /usr/lib/wsl/lib: exporting it cannot help, the Windows driver can.
    assert_eq!(
        cuda.fix.as_deref(),
        Some(sadfix::doctor::verdict::cause::WINDOWS_DRIVER_FIX)
    );
    let library = check(&report, "system.nvml_library");
    let stub = nvml_stub::dir(Variant::Current).join("libnvidia-ml.so.1");
    assert!(
        library.summary.contains(&stub.display().to_string()),
        "{library:?}"
    );
    // Utilisation and process lists answer NOT_SUPPORTED, as under WSL: said, never a zero.
    let driver = check(&report, "gpu.driver");
    assert!(has(driver, "busy"), "{driver:?}");
    assert!(has(driver, "? busy"), "{driver:?}");
    assert!(has(driver, "utilisation: not supported"), "{driver:?}");
    assert!(
        has(driver, "compute processes: not supported"),
        "{driver:?}"
    );
}

#[test]
fn error_804_drops_the_forward_compatibility_libraries_from_the_loader_path() {
    let stub = nvml_stub::dir(Variant::Current).display().to_string();
    let path = format!("/usr/local/cuda-12.4/compat:{stub}");
    let (report, _) = doctor("error-804", Variant::Current, &[("LD_LIBRARY_PATH", &path)]);
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(cuda.summary.contains("CUDA error 804"), "{}", cuda.summary);
    assert!(has(
        cuda,
        "Error 804: forward compatibility was attempted on non supported HW"
    ));
    assert_eq!(cuda.fix, Some(format!("export LD_LIBRARY_PATH={stub}")));
}

#[test]
fn a_pascal_gpu_under_a_build_without_its_architecture_gets_the_cu126_build() {
    let env = [
        ("NVML_STUB_CUDA", "12080"),
        ("NVML_STUB_NAME", "NVIDIA GeForce GTX 1060"),
    ];
    let (report, _) = doctor("old-gpu", Variant::Current, &env);
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(
        cuda.summary
            .contains("(sm_61) is not supported by this torch build"),
        "{}",
        cuda.summary
    );
    assert!(has(cuda, "torch.cuda.get_arch_list(): sm_70 sm_75"));
    assert!(has(cuda, "no kernel image is available"));
    let fix = cuda.fix.as_deref().unwrap();
    assert!(
        fix.ends_with("-m pip install --force-reinstall 'torch<2.15' torchvision --index-url https://download.pytorch.org/whl/cu126"),
        "{fix}"
    );
}

#[test]
fn a_working_cuda_build_costs_no_extra_question_and_reads_the_stub_as_nvml() {
    let (report, calls) = doctor("cuda", Variant::Current, &[]);
    let cuda = check(&report, "cuda.available");
    assert_eq!(cuda.status, Status::Ok, "{cuda:?}");
    assert!(
        !has(cuda, "torch.cuda.init()"),
        "init() is asked only when CUDA fails"
    );
    let driver = check(&report, "gpu.driver");
    assert_eq!(driver.status, Status::Ok, "{driver:?}");
    assert_eq!(
        driver.summary,
        "driver 550.54.14 (supports CUDA 12.4), 1 GPU(s)"
    );
    assert!(has(driver, "GPU 0: sadfix NVML stub GPU (test double), 0.5 of 24.0 GiB used, 37% busy, 0 process(es)"), "{driver:?}");
    for call in [
        "nvmlSystemGetDriverVersion",
        "nvmlSystemGetCudaDriverVersion_v2",
        "nvmlDeviceGetCount_v2",
        "nvmlDeviceGetMemoryInfo_v2",
        "nvmlDeviceGetUtilizationRates",
        "nvmlDeviceGetComputeRunningProcesses_v3",
    ] {
        assert!(
            calls.iter().any(|c| c == call),
            "{call} not called: {calls:?}"
        );
    }
}

/// The stub installed as a driver package installs NVML: a versioned file and the `.so.1` link.
fn versioned_stub(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("libnvidia-ml.so.{version}");
    std::fs::copy(
        nvml_stub::dir(Variant::Current).join("libnvidia-ml.so.1"),
        dir.path().join(&file),
    )
    .unwrap();
    std::os::unix::fs::symlink(&file, dir.path().join("libnvidia-ml.so.1")).unwrap();
    dir
}

#[test]
fn a_driver_updated_without_a_reboot_is_a_cause_with_the_library_version_and_a_fix() {
    let lib = versioned_stub("550.90.07");
    let path = lib.path().display().to_string();
    let env = [
        ("NVML_STUB_INIT", "lib_rm_mismatch"),
        ("LD_LIBRARY_PATH", path.as_str()),
    ];
    let (report, _) = doctor("no-driver", Variant::Current, &env);
    let driver = check(&report, "gpu.driver");
    assert_eq!(driver.status, Status::Fail, "{driver:?}");
    assert!(
        driver.summary.contains("550.90.07") && driver.summary.contains("without a reboot"),
        "{driver:?}"
    );
    // A reboot: of this machine, or (this test may run in a container) of the host.
    assert!(
        driver.fix.as_deref().is_some_and(|f| f.contains("reboot")),
        "{driver:?}"
    );
    assert!(driver
        .evidence
        .iter()
        .any(|e| e.contains("NVML library (loader): 550.90.07")));
    let vendor = check(&report, "gpu.vendor");
    assert!(!vendor.summary.contains("no GPU found"), "{vendor:?}");
    let cuda = check(&report, "cuda.available");
    assert!(cuda.summary.contains("without a reboot"), "{cuda:?}");
}

#[test]
fn a_driver_whose_module_is_not_loaded_gets_modprobe() {
    let env = [("NVML_STUB_INIT", "driver_not_loaded")];
    let (report, _) = doctor("no-driver", Variant::Current, &env);
    let driver = check(&report, "gpu.driver");
    assert_eq!(driver.status, Status::Fail, "{driver:?}");
    assert!(
        driver
            .fix
            .as_deref()
            .is_some_and(|f| f.ends_with("modprobe nvidia") || f.contains("--gpus all")),
        "{driver:?}"
    );
    assert!(!check(&report, "gpu.vendor")
        .summary
        .contains("no GPU found"));
}
