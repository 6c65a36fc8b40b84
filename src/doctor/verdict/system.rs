//! Verdicts on the machine: WSL and its driver library path, a shadowing or stub
//! `libnvidia-ml`, the CUDA environment variables, the GPU vendor, and cores/RAM/load.

use super::cause::WINDOWS_DRIVER_FIX;
use super::driver::gib;
use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::system::{first_index_past, hides_all, WSL_LIB};

/// `system.wsl`.
pub fn check_wsl(g: &Gathered) -> Check {
    let id = "system.wsl";
    let Some(wsl) = &g.system.wsl else {
        return Check::new(id, Area::System, Status::Ok, "not WSL");
    };
    let mut signs = Vec::new();
    if wsl.proc_version {
        signs.push("/proc/version names microsoft".to_string());
    }
    if let Some(d) = &wsl.distro {
        signs.push(format!("WSL_DISTRO_NAME={d}"));
    }
    if wsl.dxg {
        signs.push("/dev/dxg exists".to_string());
    }
    let name = wsl
        .distro
        .as_deref()
        .map_or("WSL".to_string(), |d| format!("WSL ({d})"));
    let signs = format!("signs: {}", signs.join(", "));
    if !g.system.wsl_lib_exists {
        return Check::new(
            id,
            Area::System,
            Status::Fail,
            format!("{name} without {WSL_LIB}: the Windows NVIDIA driver does not reach WSL"),
        )
        .evidence(signs)
        .fix(WINDOWS_DRIVER_FIX);
    }
    match &g.system.wsl_lib_on_loader_path {
        Some(origin) => Check::new(
            id,
            Area::System,
            Status::Ok,
            format!("{name}; {WSL_LIB} is on the loader path ({origin})"),
        )
        .evidence(signs),
        None => Check::new(
            id,
            Area::System,
            Status::Warn,
            format!("{name}; {WSL_LIB} is not on the loader path: libcuda.so is not found, or the CUDA check hangs"),
        )
        .evidence(signs)
        .fix(format!("export LD_LIBRARY_PATH={WSL_LIB}:$LD_LIBRARY_PATH")),
    }
}

/// `system.nvml_library`: the first `libnvidia-ml.so.1` the loader finds must be the driver's.
pub fn check_nvml_library(g: &Gathered) -> Check {
    let id = "system.nvml_library";
    let libs = &g.system.nvml_libraries;
    let Some(first) = libs.first() else {
        return Check::new(
            id,
            Area::System,
            Status::Skip,
            "no libnvidia-ml.so.1 on the loader path",
        );
    };
    let evidence: Vec<String> = libs.iter().map(|p| p.display().to_string()).collect();
    let first_text = first.display().to_string();
    if first_text.contains("/stubs/") {
        let kept: Vec<String> = std::env::split_paths(&g.system.ld_library_path)
            .map(|p| p.display().to_string())
            .filter(|p| !p.contains("/stubs"))
            .collect();
        return Check::new(
            id,
            Area::System,
            Status::Warn,
            format!("the CUDA toolkit's stub {first_text} comes first: NVML and CUDA calls fail"),
        )
        .evidence_all(evidence)
        .fix(format!("export LD_LIBRARY_PATH={}", kept.join(":")));
    }
    let wsl_real = format!("{WSL_LIB}/libnvidia-ml.so.1");
    if g.system.wsl.is_some()
        && libs.iter().any(|p| p.display().to_string() == wsl_real)
        && first_text != wsl_real
    {
        return Check::new(
            id,
            Area::System,
            Status::Warn,
            format!("{first_text} shadows the WSL driver's {wsl_real}"),
        )
        .evidence_all(evidence)
        .fix(format!("export LD_LIBRARY_PATH={WSL_LIB}:$LD_LIBRARY_PATH"));
    }
    Check::new(
        id,
        Area::System,
        Status::Ok,
        format!("libnvidia-ml.so.1 from {first_text}"),
    )
    .evidence_all(evidence)
}

/// `env.cuda_visible_devices`.
pub fn check_visible_devices(g: &Gathered) -> Check {
    let id = "env.cuda_visible_devices";
    let Some(value) = &g.system.env.visible_devices else {
        return Check::new(id, Area::System, Status::Ok, "unset: every GPU is visible");
    };
    if hides_all(value) {
        return Check::new(
            id,
            Area::System,
            Status::Fail,
            format!("CUDA_VISIBLE_DEVICES={value:?} hides every GPU from torch"),
        )
        .fix("unset CUDA_VISIBLE_DEVICES");
    }
    if let Some(count) = g.gpu.snapshot().map(|s| s.gpus.len()) {
        if let Some(index) = first_index_past(value, count) {
            return Check::new(
                id,
                Area::System,
                Status::Fail,
                format!(
                    "CUDA_VISIBLE_DEVICES={value:?} starts with GPU {index}, but there are {count}"
                ),
            )
            .fix("export CUDA_VISIBLE_DEVICES=0");
        }
    }
    Check::new(
        id,
        Area::System,
        Status::Ok,
        format!("CUDA_VISIBLE_DEVICES={value:?}"),
    )
}

/// `env.cuda_settings`: `CUDA_DEVICE_ORDER` and `PYTORCH_CUDA_ALLOC_CONF`.
pub fn check_cuda_settings(g: &Gathered) -> Check {
    let id = "env.cuda_settings";
    let env = &g.system.env;
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
    let summary = format!(
        "CUDA_DEVICE_ORDER {}, PYTORCH_CUDA_ALLOC_CONF {}",
        shown(&env.device_order),
        shown(&env.alloc_conf)
    );
    let gpus = g.gpu.snapshot().map_or(0, |s| s.gpus.len());
    if gpus > 1 && env.device_order.as_deref() != Some("PCI_BUS_ID") {
        return Check::new(id, Area::System, Status::Warn, summary)
            .evidence("NVML numbers GPUs in PCI order, CUDA fastest first: indexes may not match")
            .fix("export CUDA_DEVICE_ORDER=PCI_BUS_ID");
    }
    Check::new(id, Area::System, Status::Ok, summary)
}

/// `gpu.vendor`: an NVIDIA GPU, or only GPUs CUDA cannot use.
pub fn check_vendor(g: &Gathered) -> Check {
    let id = "gpu.vendor";
    let cards: Vec<String> = g
        .system
        .drm_gpus
        .iter()
        .map(|d| format!("{}: {} ({})", d.card, d.vendor(), d.vendor_id))
        .collect();
    if let Some(name) = g.nvidia_gpu_seen() {
        return Check::new(id, Area::Gpu, Status::Ok, format!("NVIDIA: {name}"))
            .evidence_all(cards);
    }
    if let Some(other) = g.system.drm_gpus.first() {
        return Check::new(
            id,
            Area::Gpu,
            Status::Warn,
            format!(
                "only a non-NVIDIA GPU found ({}): SadTalker needs an NVIDIA GPU with CUDA",
                other.vendor()
            ),
        )
        .evidence_all(cards);
    }
    if super::nvml_init::failure(g).is_some() {
        let nodes = if g.system.nvidia_nodes.is_empty() {
            String::new()
        } else {
            format!(
                "; the driver's device nodes are there ({})",
                g.system.nvidia_nodes.join(", ")
            )
        };
        return Check::new(
            id,
            Area::Gpu,
            Status::Skip,
            format!("not known: NVML could not be asked (see gpu.driver){nodes}"),
        )
        .evidence_all(cards);
    }
    let why = if g.system.wsl.is_some() {
        "no GPU listed in /sys/class/drm (WSL shows the GPU only through /dev/dxg)"
    } else {
        "no GPU found: neither NVML nor /sys/class/drm lists one"
    };
    Check::new(id, Area::Gpu, Status::Skip, why)
}

/// `system.resources`: cores, RAM, load.
pub fn check_resources(g: &Gathered) -> Check {
    let r = &g.system.resources;
    let summary = format!(
        "{} cores{}, {:.1} GiB RAM ({:.1} GiB available), load {:.2}",
        r.logical_cores,
        r.physical_cores
            .map_or(String::new(), |p| format!(" ({p} physical)")),
        gib(r.total_ram),
        gib(r.available_ram),
        r.load1
    );
    let busy = r.load1 > 1.5 * r.logical_cores as f64;
    let low_ram = r.total_ram > 0 && r.available_ram < 2 << 30;
    let status = if busy || low_ram {
        Status::Warn
    } else {
        Status::Ok
    };
    Check::new("system.resources", Area::System, status, summary)
        .evidence(if busy {
            "the CPU is busy: preprocessing and the CPU-only stages will be slow"
        } else {
            ""
        })
        .evidence(if low_ram {
            "under 2 GiB RAM available: long audio may not fit"
        } else {
            ""
        })
}
