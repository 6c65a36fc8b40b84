//! The causes of an unavailable CUDA that depend on the machine itself (bare Linux and its
//! distribution, a non-NVIDIA GPU, a driver that is not loaded), on constructed facts.

use super::tests::{gathered, working_cuda};
use super::torch;
use crate::doctor::check::Status;
use crate::doctor::probe::CudaProbe;
use crate::doctor::system::DrmGpu;
use crate::gpu::snapshot::GpuView;
use crate::gpu::{NvmlFailure, Unavailable};

fn no_driver_probe() -> CudaProbe {
    let mut probe = working_cuda("2.5.1+cu124", Some("12.4"));
    probe.is_available = Some(false);
    probe.devices.clear();
    probe.device_count = None;
    probe.tensor_op = None;
    probe.init_error = Some("RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx".into());
    probe.raw_device_count = Some(0);
    probe
}

fn nvml(failure: NvmlFailure, reason: &str) -> GpuView {
    GpuView::Unavailable(Unavailable {
        failure,
        reason: reason.into(),
    })
}

#[test]
fn no_driver_on_bare_linux_gets_the_distributions_install_command() {
    for (ids, fix) in [
        (
            vec!["ubuntu", "debian"],
            "sudo ubuntu-drivers install && sudo reboot",
        ),
        (
            vec!["debian"],
            "sudo apt-get install -y nvidia-driver && sudo reboot",
        ),
        (
            vec!["fedora"],
            "sudo dnf install -y akmod-nvidia && sudo reboot",
        ),
    ] {
        let mut g = gathered(
            no_driver_probe(),
            nvml(
                NvmlFailure::NoLibrary,
                "libnvidia-ml.so.1 could not be loaded",
            ),
        );
        g.system.os_ids = ids.iter().map(|s| s.to_string()).collect();
        let check = torch::check_available(&g);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.summary,
            "CUDA is unavailable: no NVIDIA driver on this machine, no /dev/nvidia*"
        );
        assert_eq!(check.fix.as_deref(), Some(fix));
        assert!(check.evidence[0]
            .starts_with("torch.cuda.init(): RuntimeError: Found no NVIDIA driver"));
        assert!(check.evidence.iter().any(|e| e == "/dev/nvidia*: none"));
    }
}

#[test]
fn a_loaded_library_without_its_kernel_module_is_a_modprobe() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::DriverNotLoaded,
            "the NVIDIA driver is not loaded",
        ),
    );
    g.system.os_ids = vec!["ubuntu".into()];
    let check = torch::check_available(&g);
    assert!(
        check.summary.contains("kernel module is not loaded"),
        "{}",
        check.summary
    );
    assert_eq!(check.fix.as_deref(), Some("sudo modprobe nvidia"));
}

#[test]
fn only_an_amd_gpu_is_named_as_the_cause() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::NoLibrary,
            "libnvidia-ml.so.1 could not be loaded",
        ),
    );
    g.system.drm_gpus = vec![DrmGpu {
        card: "card0".into(),
        vendor_id: "0x1002".into(),
    }];
    let check = torch::check_available(&g);
    assert_eq!(check.status, Status::Fail);
    assert!(
        check
            .summary
            .contains("the only GPU here is AMD (card0): CUDA needs an NVIDIA GPU"),
        "{}",
        check.summary
    );
}

#[test]
fn unknown_reasons_are_shown_as_torch_gave_them_with_what_was_checked() {
    let mut probe = no_driver_probe();
    probe.init_error = Some("RuntimeError: something nobody has seen before".into());
    let g = gathered(
        probe,
        nvml(NvmlFailure::Other, "NVML failed to initialise: Unknown"),
    );
    let check = torch::check_available(&g);
    assert_eq!(check.status, Status::Fail);
    assert!(
        check
            .summary
            .contains("no cause found; checked CUDA_VISIBLE_DEVICES"),
        "{}",
        check.summary
    );
    assert!(check
        .evidence
        .iter()
        .any(|e| e == "torch.cuda.init(): RuntimeError: something nobody has seen before"));
}

#[test]
fn a_cpu_only_build_with_an_nvidia_card_but_no_driver_installs_the_driver_first() {
    let mut g = gathered(
        working_cuda("2.5.1+cpu", None),
        nvml(
            NvmlFailure::NoLibrary,
            "libnvidia-ml.so.1 could not be loaded",
        ),
    );
    g.system.drm_gpus = vec![DrmGpu {
        card: "card1".into(),
        vendor_id: "0x10de".into(),
    }];
    g.system.os_ids = vec!["debian".into()];
    let build = torch::check_build(&g);
    assert_eq!(build.status, Status::Fail);
    let fix = build.fix.unwrap();
    assert!(
        fix.starts_with(
            "sudo apt-get install -y nvidia-driver && sudo reboot; then run `sadfix doctor` again"
        ),
        "{fix}"
    );
    assert!(!fix.contains("cu121"));
}

#[test]
fn a_blackwell_gpu_under_a_cu124_build_needs_a_newer_driver_then_cu128() {
    let mut probe = working_cuda("2.5.1+cu124", Some("12.4"));
    probe.devices[0].name = "NVIDIA GeForce RTX 5090".into();
    probe.devices[0].capability = vec![12, 0];
    probe.arch_list = [
        "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90",
    ]
    .map(String::from)
    .to_vec();
    let g = gathered(probe.clone(), super::tests::snapshot((12, 4)));
    let check = torch::check_available(&g);
    // The tensor op still ran (PTX would JIT): a warning, not a failure.
    assert_eq!(check.status, Status::Warn);
    assert!(
        check.summary.contains("(sm_120) is not supported"),
        "{}",
        check.summary
    );
    assert_eq!(
        check.fix.as_deref(),
        Some("update the NVIDIA driver to 570 or newer, then: /venv/bin/python -m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu128")
    );
    // Same major version as an arch in the list: torch runs it, and so does doctor.
    probe.devices[0].capability = vec![8, 9];
    let g = gathered(probe, super::tests::snapshot((12, 4)));
    assert_eq!(torch::check_available(&g).status, Status::Ok);
}
