//! The driver against torch's build: which CUDA version the driver supports (NVML, or torch's
//! own "driver too old" warning), whether the build is newer, and which wheel index matches.

use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::gpu::snapshot::{CudaVersion, GpuView};

/// PyTorch's CUDA wheel indexes, oldest first (facts, section 10).
const WHEELS: [(u32, u32, &str); 7] = [
    (11, 8, "cu118"),
    (12, 1, "cu121"),
    (12, 4, "cu124"),
    (12, 6, "cu126"),
    (12, 8, "cu128"),
    (13, 0, "cu130"),
    (13, 2, "cu132"),
];

/// The wheel index base; the tag is appended.
pub const INDEX_URL: &str = "https://download.pytorch.org/whl/";

/// The newest CUDA wheel tag a driver supporting `driver` can run. An 11.x driver older than
/// 11.8 still runs cu118 wheels by minor-version compatibility (driver >= 450.80.02).
pub fn wheel_for(driver: CudaVersion) -> Option<&'static str> {
    let newest = WHEELS
        .iter()
        .rev()
        .find(|(major, minor, _)| {
            CudaVersion {
                major: *major,
                minor: *minor,
            } <= driver
        })
        .map(|w| w.2);
    newest.or((driver.major == 11).then_some("cu118"))
}

/// The Linux driver a CUDA build needs at least, by minor-version compatibility (Windows, the
/// driver WSL uses, in brackets).
pub fn driver_needed(build: CudaVersion) -> &'static str {
    match build.major {
        0..=11 => ">= 450.80.02 (Windows 452.39)",
        12 => ">= 525.60.13 (Windows 527.41)",
        _ => ">= 580",
    }
}

/// The reinstall command for the CUDA build that matches the driver; `None` when the driver's
/// CUDA version is not known (then the driver comes first) or no wheel supports it.
pub fn reinstall_fix(g: &Gathered) -> Option<String> {
    let (driver, _) = g.driver_cuda()?;
    let tag = wheel_for(driver)?;
    Some(format!(
        "{} -m pip install --force-reinstall torch torchvision --index-url {INDEX_URL}{tag}",
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
                "GPU {}: {}, {}, {} busy, {} process(es)",
                gpu.index,
                gpu.name,
                gpu.memory_text(),
                gpu.utilization.map_or("?".into(), |u| format!("{u}%")),
                gpu.processes.len()
            ));
            evidence.extend(gpu.notes.iter().map(|n| format!("GPU {}: {n}", gpu.index)));
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
            if let Some(c) = super::nvml_init::init_cause(g) {
                let reason = match &g.gpu {
                    GpuView::Unavailable(why) => why.reason.clone(),
                    _ => String::new(),
                };
                return Check::new(id, Area::Gpu, Status::Fail, c.summary)
                    .evidence(format!("NVML: {reason}"))
                    .evidence_all(c.evidence)
                    .fix_opt(c.fix);
            }
            let reason = match &g.gpu {
                GpuView::Unavailable(why) => why.reason.clone(),
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
