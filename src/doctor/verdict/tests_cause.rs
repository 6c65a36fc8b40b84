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
            "sudo apt-get update && sudo apt-get install -y ubuntu-drivers-common && sudo ubuntu-drivers install && sudo reboot",
        ),
        (
            vec!["debian"],
            "sudo apt-get update && sudo apt-get install -y linux-headers-$(dpkg --print-architecture) nvidia-driver firmware-misc-nonfree && sudo reboot",
        ),
        (
            vec!["arch"],
            "sudo pacman -S --noconfirm nvidia && sudo reboot",
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
        fix.starts_with("sudo apt-get update && sudo apt-get install -y linux-headers-$(dpkg --print-architecture) nvidia-driver firmware-misc-nonfree && sudo reboot; then run `sadfix doctor` again"),
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

#[test]
fn as_root_the_fix_has_no_sudo_and_debian_main_only_enables_non_free_first() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::NoLibrary,
            "libnvidia-ml.so.1 could not be loaded",
        ),
    );
    g.system.os_ids = vec!["debian".into()];
    g.system.access.root = true;
    g.system.access.apt_components = vec!["main".into()];
    g.system.access.apt_main_file = Some("/etc/apt/sources.list.d/debian.sources".into());
    let fix = torch::check_available(&g).fix.unwrap();
    assert!(!fix.contains("sudo"), "{fix}");
    assert!(
        fix.starts_with("sed -i -E '/^Components:/ s/ (contrib|non-free-firmware|non-free)\\b//g; /^Components:/ s/$/ contrib non-free non-free-firmware/' /etc/apt/sources.list.d/debian.sources && apt-get update && apt-get install -y"),
        "{fix}"
    );
    // With non-free already enabled, no sources edit.
    g.system.access.apt_components = vec!["main".into(), "non-free".into()];
    let fix = torch::check_available(&g).fix.unwrap();
    assert!(fix.starts_with("apt-get update && "), "{fix}");
}

#[test]
fn a_container_without_a_known_image_gets_the_host_flag_as_a_sentence_never_dots() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::NoLibrary,
            "libnvidia-ml.so.1 could not be loaded",
        ),
    );
    g.system.container = vec!["/.dockerenv exists".into()];
    let fix = torch::check_available(&g).fix.unwrap();
    assert!(!fix.contains("..."), "{fix}");
    assert!(
        fix.contains("add `--gpus all` to the `docker run`"),
        "{fix}"
    );
    g.system.access.container_image = Some("docker.io/library/sadtalker:latest".into());
    let fix = torch::check_available(&g).fix.unwrap();
    assert_eq!(
        fix,
        "on the host: podman run --device nvidia.com/gpu=all docker.io/library/sadtalker:latest"
    );
}

#[test]
fn a_version_mismatch_shows_both_versions_and_the_reboot() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::VersionMismatch,
            "the NVIDIA library and the loaded kernel module are different driver versions",
        ),
    );
    g.system.access.nvml_library = Some("550.90.07".into());
    g.system.access.kernel_module = Some("550.54.14".into());
    let driver = super::driver::check_driver(&g);
    assert_eq!(driver.status, Status::Fail, "{driver:?}");
    assert!(driver.summary.contains("550.90.07"), "{driver:?}");
    assert!(driver.summary.contains("550.54.14"), "{driver:?}");
    assert_eq!(driver.fix.as_deref(), Some("sudo reboot"));
    assert!(driver
        .evidence
        .iter()
        .any(|e| e.contains("sudo modprobe nvidia")));
    let vendor = super::system::check_vendor(&g);
    assert!(!vendor.summary.contains("no GPU found"), "{vendor:?}");
    let cuda = torch::check_available(&g);
    assert!(cuda.summary.contains("550.90.07"), "{cuda:?}");
}

#[test]
fn no_permission_names_the_device_nodes_group() {
    let mut g = gathered(
        no_driver_probe(),
        nvml(
            NvmlFailure::NoPermission,
            "no permission to talk to the NVIDIA driver",
        ),
    );
    g.system.access.user = Some("jane".into());
    g.system.access.node = Some(crate::doctor::system::access::DeviceNode {
        path: "/dev/nvidiactl".into(),
        group: "video".into(),
        mode: 0o660,
    });
    let driver = super::driver::check_driver(&g);
    assert_eq!(driver.status, Status::Fail);
    assert!(
        driver.summary.contains("group video, mode 660"),
        "{driver:?}"
    );
    assert_eq!(
        driver.fix.as_deref(),
        Some("sudo usermod -aG video jane && newgrp video")
    );
}

#[test]
fn a_numpy_warning_is_not_evidence_of_the_cuda_cause() {
    let mut probe = no_driver_probe();
    probe.warnings = vec![
        "Failed to initialize NumPy: _ARRAY_API not found (Triggered internally at ../torch/csrc/utils/tensor_numpy.cpp:84.)".into(),
        "CUDA initialization: Found no NVIDIA driver on your system.".into(),
    ];
    let g = gathered(
        probe,
        nvml(
            NvmlFailure::NoLibrary,
            "libnvidia-ml.so.1 could not be loaded",
        ),
    );
    let check = torch::check_available(&g);
    assert!(
        !check.evidence.iter().any(|e| e.contains("NumPy")),
        "{check:?}"
    );
    assert!(check
        .evidence
        .iter()
        .any(|e| e.contains("Found no NVIDIA driver")));
}
