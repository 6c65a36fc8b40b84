//! The driver against torch's build: which CUDA version the driver supports (NVML, or torch's
//! own "driver too old" warning), whether the build is newer, and which wheel index matches.

use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::telemetry::{CudaVersion, GpuView};

/// PyTorch's CUDA wheel indexes, oldest first.
const WHEELS: [(u32, u32, &str); 5] = [
    (11, 8, "cu118"),
    (12, 1, "cu121"),
    (12, 4, "cu124"),
    (12, 6, "cu126"),
    (12, 8, "cu128"),
];

/// The newest CUDA wheel tag a driver supporting `driver` can run.
pub fn wheel_for(driver: CudaVersion) -> Option<&'static str> {
    WHEELS
        .iter()
        .rev()
        .find(|(major, minor, _)| {
            CudaVersion {
                major: *major,
                minor: *minor,
            } <= driver
        })
        .map(|w| w.2)
}

/// The reinstall command for the CUDA build that matches the driver (cu121 when unknown).
pub fn reinstall_fix(g: &Gathered) -> Option<String> {
    let tag = match g.driver_cuda() {
        Some((driver, _)) => wheel_for(driver)?,
        None => "cu121",
    };
    Some(format!(
        "{} -m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/{tag}",
        g.python_cmd()
    ))
}

pub fn driver_too_old_fix(g: &Gathered) -> String {
    reinstall_fix(g).unwrap_or_else(|| {
        "update the NVIDIA driver (no current torch CUDA build supports this one)".into()
    })
}

/// `gpu.driver`.
pub fn check_driver(g: &Gathered) -> Check {
    let id = "gpu.driver";
    let torch_cuda = g
        .torch_build()
        .and_then(|b| b.cuda)
        .and_then(|c| CudaVersion::parse(&c));
    let replay = matches!(g.gpu, GpuView::Replay(..));
    let mut evidence = Vec::new();
    if let Some(snap) = g.gpu.snapshot() {
        for gpu in &snap.gpus {
            evidence.push(format!(
                "GPU {}: {}, {:.1} of {:.1} GiB used, {} busy, {} process(es)",
                gpu.index,
                gpu.name,
                gib(gpu.memory_used),
                gib(gpu.memory_total),
                gpu.utilization.map_or("?".into(), |u| format!("{u}%")),
                gpu.processes.len()
            ));
        }
        if replay {
            evidence.push(format!("GPU facts {}", g.gpu.source()));
        }
    }
    let driver = g.driver_cuda();
    if let (Some(needs), Some((has, from))) = (torch_cuda, driver) {
        if needs > has {
            let status = if needs.major > has.major {
                Status::Fail
            } else {
                Status::Warn
            };
            let summary = format!("torch's CUDA {needs} build is newer than the driver supports (CUDA {has}, from {from})");
            return Check::new(id, Area::Gpu, status, summary)
                .evidence_all(evidence)
                .fix(driver_too_old_fix(g));
        }
    }
    match g.gpu.snapshot() {
        Some(snap) => Check::new(
            id,
            Area::Gpu,
            Status::Ok,
            format!(
                "driver {} (supports CUDA {}), {} GPU(s)",
                snap.driver_version,
                snap.cuda_driver.map_or("?".into(), |v| v.to_string()),
                snap.gpus.len()
            ),
        )
        .evidence_all(evidence),
        None => {
            let reason = match &g.gpu {
                GpuView::Unavailable(r) => r.clone(),
                _ => String::new(),
            };
            Check::new(
                id,
                Area::Gpu,
                Status::Skip,
                format!("GPU telemetry unavailable: {reason}"),
            )
        }
    }
}

pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}
