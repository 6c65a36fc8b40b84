//! Cross-layer verdicts on constructed facts: each scenario a user meets, with its fix.

use super::*;
use crate::doctor::check::Status;
use crate::doctor::probe::{CudaDevice, CudaProbe, FactsProbe, TensorOp, TorchBuild};
use crate::doctor::system::{SystemFacts, WslSigns};
use crate::doctor::tools::Ffmpeg;
use crate::gpu::snapshot::{CudaVersion, GpuInfo, GpuSnapshot, GpuView};
use crate::install::{Install, Layout, PythonChoice, PythonSource};
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) fn snapshot(cuda: (u32, u32)) -> GpuView {
    GpuView::Replay(
        GpuSnapshot {
            driver_version: "550.54.14".into(),
            cuda_driver: Some(CudaVersion {
                major: cuda.0,
                minor: cuda.1,
            }),
            gpus: vec![GpuInfo {
                index: 0,
                name: "NVIDIA GeForce RTX 3090".into(),
                memory_total: Some(24 << 30),
                memory_used: Some(1 << 30),
                utilization: Some(3),
                processes: vec![],
                notes: vec![],
                ..GpuInfo::default()
            }],
        },
        "test".into(),
    )
}

pub(super) fn working_cuda(version: &str, cuda: Option<&str>) -> CudaProbe {
    let available = cuda.is_some();
    CudaProbe {
        torch_version: Some(version.into()),
        torch_cuda: cuda.map(str::to_string),
        is_available: Some(available),
        import_ms: Some(900.0),
        available_ms: Some(150.0),
        device_count: available.then_some(1),
        devices: if available {
            vec![CudaDevice {
                name: "NVIDIA GeForce RTX 3090".into(),
                capability: vec![8, 6],
            }]
        } else {
            vec![]
        },
        tensor_op: available.then_some(TensorOp {
            ok: true,
            ms: 2.0,
            error: None,
        }),
        ..CudaProbe::default()
    }
}

pub(super) fn gathered(cuda: CudaProbe, gpu: GpuView) -> Gathered {
    let mut packages = BTreeMap::new();
    packages.insert("numpy".to_string(), Some("1.23.4".to_string()));
    packages.insert("torch".to_string(), cuda.torch_version.clone());
    Gathered {
        install: Install {
            root: "/nonexistent/SadTalker".into(),
            layout: Layout::Standalone,
            host: None,
        },
        python: Some(PythonChoice {
            path: "/venv/bin/python".into(),
            source: PythonSource::InstallVenv,
            reason: "virtual environment at /venv".into(),
            shim: None,
        }),
        timeout: Duration::from_secs(20),
        facts: ProbeOutcome::Done {
            result: FactsProbe {
                packages,
                torch_build: Some(TorchBuild {
                    version: cuda.torch_version.clone(),
                    cuda: cuda.torch_cuda.clone(),
                    hip: None,
                    source: "torch/version.py".into(),
                }),
                ..FactsProbe::default()
            },
            elapsed: Duration::from_millis(50),
            stderr_tail: String::new(),
        },
        cuda: ProbeOutcome::Done {
            result: cuda,
            elapsed: Duration::from_secs(1),
            stderr_tail: String::new(),
        },
        gpu,
        system: SystemFacts::default(),
        ffmpeg: Ffmpeg::NotOnPath,
        sites: Err("code scan unavailable in this build".into()),
        numpy_aliases: vec![],
    }
}

fn find<'a>(
    checks: &'a [crate::doctor::check::Check],
    id: &str,
) -> &'a crate::doctor::check::Check {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn every_required_id_is_reported_once() {
    let checks = all(&gathered(
        working_cuda("2.1.2+cu121", Some("12.1")),
        snapshot((12, 4)),
    ));
    for id in [
        "install.found",
        "python.interpreter",
        "torch.build",
        "cuda.available",
        "gpu.driver",
        "system.wsl",
        "env.cuda_visible_devices",
        "packages.numpy",
        "packages.basicsr",
        "ffmpeg",
        "weights.checkpoints",
        "weights.gfpgan",
        "code.device_selection",
        "code.batch_size",
    ] {
        assert_eq!(checks.iter().filter(|c| c.id == id).count(), 1, "{id}");
    }
    assert_eq!(find(&checks, "cuda.available").status, Status::Ok);
    assert_eq!(find(&checks, "gpu.driver").status, Status::Ok);
}

#[test]
fn cpu_only_torch_with_a_gpu_fails_with_the_wheel_for_the_driver() {
    let g = gathered(working_cuda("2.1.2+cpu", None), snapshot((12, 4)));
    let build = torch::check_build(&g);
    assert_eq!(build.status, Status::Fail);
    assert!(build.summary.contains("RTX 3090"), "{}", build.summary);
    assert_eq!(
        build.fix.as_deref(),
        Some("/venv/bin/python -m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu124")
    );
    let no_gpu = gathered(
        working_cuda("1.13.0a0", None),
        GpuView::Unavailable("no driver".into()),
    );
    let build = torch::check_build(&no_gpu);
    assert_eq!(build.status, Status::Warn);
    assert!(build
        .evidence
        .iter()
        .any(|e| e.contains("judged from torch.version.cuda")));
}

#[test]
fn a_build_newer_than_the_driver_fails_from_nvml_or_from_torchs_warning() {
    let g = gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((11, 4)));
    let driver = driver::check_driver(&g);
    assert_eq!(driver.status, Status::Fail);
    assert!(driver.summary.contains("CUDA 11.4"), "{}", driver.summary);
    assert!(driver.fix.unwrap().ends_with("/whl/cu118"));

    let mut probe = working_cuda("2.1.2+cu121", Some("12.1"));
    probe.is_available = Some(false);
    probe.tensor_op = None;
    probe.warnings =
        vec!["The NVIDIA driver on your system is too old (found version 11080).".into()];
    let g = gathered(probe, GpuView::Unavailable("no NVML".into()));
    let driver = driver::check_driver(&g);
    assert_eq!(driver.status, Status::Fail);
    assert!(driver.summary.contains("from torch's message"));
    assert!(driver.fix.unwrap().ends_with("/whl/cu118"));
    assert_eq!(torch::check_available(&g).status, Status::Fail);
}

#[test]
fn a_cuda_timeout_under_wsl_points_at_the_library_path() {
    let mut g = gathered(CudaProbe::default(), GpuView::Unavailable("x".into()));
    g.cuda = ProbeOutcome::TimedOut {
        after: Duration::from_millis(2400),
        needed_kill: true,
        stderr_tail: String::new(),
    };
    let check = torch::check_available(&g);
    assert_eq!(check.status, Status::Timeout);
    assert_eq!(check.fix.as_deref(), Some("sadfix patch --cuda-timeout 10"));
    assert!(check.evidence.iter().any(|e| e.contains("SIGKILL")));
    g.system.wsl = Some(WslSigns {
        proc_version: true,
        distro: None,
        dxg: true,
    });
    g.system.wsl_lib_exists = true;
    let check = torch::check_available(&g);
    assert_eq!(
        check.fix.as_deref(),
        Some("export LD_LIBRARY_PATH=/usr/lib/wsl/lib:$LD_LIBRARY_PATH")
    );
    assert_eq!(system::check_wsl(&g).status, Status::Warn);

    // Without the directory at all, exporting it is no fix: the Windows driver is.
    g.system.wsl_lib_exists = false;
    let check = torch::check_available(&g);
    assert_eq!(check.fix.as_deref(), Some(cause::WINDOWS_DRIVER_FIX));
    assert_eq!(system::check_wsl(&g).status, Status::Fail);
}

#[test]
fn an_empty_cuda_visible_devices_hides_the_gpu() {
    let mut probe = working_cuda("2.1.2+cu121", Some("12.1"));
    probe.is_available = Some(false);
    let mut g = gathered(probe, snapshot((12, 4)));
    g.system.env.visible_devices = Some(String::new());
    let env = system::check_visible_devices(&g);
    assert_eq!(env.status, Status::Fail);
    assert_eq!(env.fix.as_deref(), Some("unset CUDA_VISIBLE_DEVICES"));
    let cuda = torch::check_available(&g);
    assert_eq!(cuda.status, Status::Fail);
    assert_eq!(cuda.fix.as_deref(), Some("unset CUDA_VISIBLE_DEVICES"));
    g.system.env.visible_devices = Some("1".into());
    assert_eq!(
        system::check_visible_devices(&g).status,
        Status::Fail,
        "GPU 1 of 1"
    );
}

/// CUDA stops at the first index past the last GPU: `1,0` on a one-GPU machine shows none, and
/// both checks say so with the same fix.
#[test]
fn a_cuda_visible_devices_starting_past_the_last_gpu_hides_every_gpu() {
    let mut probe = working_cuda("2.1.2+cu121", Some("12.1"));
    probe.is_available = Some(false);
    let mut g = gathered(probe, snapshot((12, 4)));
    g.system.env.visible_devices = Some("1,0".into());
    let env = system::check_visible_devices(&g);
    assert_eq!(env.status, Status::Fail);
    assert_eq!(env.fix.as_deref(), Some("export CUDA_VISIBLE_DEVICES=0"));
    let cuda = torch::check_available(&g);
    assert_eq!(cuda.status, Status::Fail);
    assert!(
        cuda.summary.contains("\"1,0\" hides every GPU"),
        "{}",
        cuda.summary
    );
    assert_eq!(cuda.fix.as_deref(), Some("export CUDA_VISIBLE_DEVICES=0"));
    // A valid first index keeps that GPU visible, whatever follows.
    g.system.env.visible_devices = Some("0,5".into());
    assert_eq!(system::check_visible_devices(&g).status, Status::Ok);
}

#[test]
fn numpy_1_26_fails_only_where_the_code_uses_removed_aliases() {
    let mut g = gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((12, 4)));
    if let ProbeOutcome::Done { result, .. } = &mut g.facts {
        result
            .packages
            .insert("numpy".into(), Some("1.26.4".into()));
        result.python.version = "3.11.7".into();
    }
    assert_eq!(packages::check_numpy(&g).status, Status::Warn);
    g.numpy_aliases = vec!["src/face3d/util/preprocess.py:101".into()];
    let check = packages::check_numpy(&g);
    assert_eq!(check.status, Status::Fail);
    assert_eq!(check.fix.as_deref(), Some("sadfix patch --compat"));
    assert!(check.evidence.contains(
        &"or go back to the pin: /venv/bin/python -m pip install numpy==1.23.5".to_string()
    ));
    // Python 3.12 has no numpy 1.23 wheel: no way back is offered, only the code fix.
    if let ProbeOutcome::Done { result, .. } = &mut g.facts {
        result.python.version = "3.12.3".into();
    }
    let check = packages::check_numpy(&g);
    assert!(
        !check.evidence.iter().any(|e| e.contains("pip install")),
        "{check:?}"
    );
}

fn with_packages(g: &mut Gathered, python: &str, set: &[(&str, Option<&str>)]) {
    if let ProbeOutcome::Done { result, .. } = &mut g.facts {
        result.python.version = python.into();
        for (name, version) in set {
            result
                .packages
                .insert(name.to_string(), version.map(str::to_string));
        }
    }
}

#[test]
fn missing_packages_are_only_those_sadtalker_imports_with_versions_that_install() {
    let mut g = gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((12, 4)));
    let all: Vec<(&str, Option<&str>)> = [
        ("torchvision", "0.16.2"),
        ("basicsr", "1.4.2"),
        ("gfpgan", "1.3.8"),
        ("facexlib", "0.3.0"),
        ("face_alignment", "1.3.5"),
        ("librosa", "0.9.2"),
        ("imageio", "2.31.6"),
        ("imageio-ffmpeg", "0.4.7"),
        ("safetensors", "0.4.2"),
    ]
    .into_iter()
    .map(|(n, v)| (n, Some(v)))
    .collect();
    with_packages(&mut g, "3.11.7", &all);
    // torchaudio is in requirements.txt but never imported.
    assert_eq!(packages::check_versions(&g).status, Status::Ok);
    with_packages(
        &mut g,
        "3.11.7",
        &[("imageio", None), ("torchvision", None), ("basicsr", None)],
    );
    let check = packages::check_versions(&g);
    assert_eq!(check.status, Status::Warn);
    assert_eq!(
        check.fix.as_deref(),
        Some("/venv/bin/python -m pip install --no-build-isolation torch==2.1.2 basicsr==1.4.2 imageio==2.31.6 torchvision")
    );
    assert!(!check.fix.unwrap().contains("requirements.txt"));
    // On 3.13 basicsr does not build: said as a sentence, the rest still installed.
    with_packages(&mut g, "3.13.1", &[]);
    let check = packages::check_versions(&g);
    assert!(
        check.evidence.iter().any(|e| e.contains("Python 3.13")),
        "{check:?}"
    );
    assert!(!check.fix.unwrap().contains("basicsr"));
}

#[test]
fn a_stub_nvml_first_on_the_loader_path_is_reported_with_the_cleaned_path() {
    let mut g = gathered(working_cuda("2.1.2+cu121", Some("12.1")), snapshot((12, 4)));
    g.system.nvml_libraries = vec![
        "/usr/local/cuda/lib64/stubs/libnvidia-ml.so.1".into(),
        "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1".into(),
    ];
    g.system.ld_library_path = "/usr/local/cuda/lib64/stubs:/opt/lib".into();
    let check = system::check_nvml_library(&g);
    assert_eq!(check.status, Status::Warn);
    assert_eq!(
        check.fix.as_deref(),
        Some("export LD_LIBRARY_PATH=/opt/lib")
    );
}

#[test]
fn wheels_follow_the_driver() {
    let v = |major, minor| CudaVersion { major, minor };
    assert_eq!(driver::wheel_for(v(12, 4)), Some("cu124"));
    assert_eq!(driver::wheel_for(v(12, 2)), Some("cu121"));
    assert_eq!(driver::wheel_for(v(12, 9)), Some("cu128"));
    assert_eq!(driver::wheel_for(v(13, 0)), Some("cu130"));
    assert_eq!(driver::wheel_for(v(13, 2)), Some("cu132"));
    // 11.x drivers run cu118 by minor-version compatibility; nothing runs on a 10.x driver.
    assert_eq!(driver::wheel_for(v(11, 4)), Some("cu118"));
    assert_eq!(driver::wheel_for(v(10, 2)), None);
}

#[test]
fn a_python_that_does_not_start_fails_once_not_as_a_cuda_crash() {
    let mut g = gathered(CudaProbe::default(), GpuView::Unavailable("x".into()));
    let reason = "could not start /nonexistent: No such file or directory (os error 2)";
    g.cuda = ProbeOutcome::Failed {
        reason: reason.into(),
        stderr_tail: String::new(),
    };
    let check = torch::check_available(&g);
    assert_eq!(check.status, Status::Skip);
    assert!(
        check.summary.contains("see python.interpreter"),
        "{}",
        check.summary
    );
    assert!(!check.summary.contains("crashed"));
}
