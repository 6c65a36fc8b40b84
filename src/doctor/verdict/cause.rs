//! Why CUDA is unavailable to a CUDA build of torch: one cause, read across every layer at once
//! (torch's own reason, NVML, the device nodes, the loader path, containers, WSL), with the fix.

use super::admin::{container_fix, driver_install, reboot};
use super::driver::{driver_needed, driver_too_old_fix, reinstall_fix};
use crate::doctor::check::Status;
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::CudaProbe;
use crate::doctor::system::{first_index_past, hides_all, WSL_LIB};
use crate::gpu::snapshot::{CudaVersion, GpuView};
use crate::gpu::NvmlFailure;

/// What brings `/usr/lib/wsl/lib` into a WSL distribution: the driver on the Windows side.
pub const WINDOWS_DRIVER_FIX: &str =
    "install or update the NVIDIA driver on Windows, then run `wsl --shutdown`";

/// The verdict on an unavailable CUDA: status, one-line cause, what it rests on, the fix.
pub struct Cause {
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Option<String>,
}

fn cause(summary: impl Into<String>, fix: Option<String>) -> Cause {
    Cause {
        status: Status::Fail,
        summary: format!("CUDA is unavailable: {}", summary.into()),
        evidence: Vec::new(),
        fix,
    }
}

/// CUDA answered False: the cause, most specific first, with its fix and every layer's evidence.
pub fn why_unavailable(g: &Gathered, probe: &CudaProbe) -> Cause {
    let mut found = find_cause(g, probe);
    found.evidence = layers(g, probe);
    found
}

fn find_cause(g: &Gathered, probe: &CudaProbe) -> Cause {
    let said = torch_said(probe);
    let nvml_gpus = g.gpu.snapshot().map(|s| s.gpus.len());
    if let Some(value) = g.system.env.visible_devices.as_deref() {
        let past = nvml_gpus
            .filter(|n| *n > 0)
            .and_then(|n| first_index_past(value, n));
        if hides_all(value) || past.is_some() {
            let (seen, fix) = match nvml_gpus {
                Some(n) if !hides_all(value) => {
                    (format!(", NVML sees {n}"), "export CUDA_VISIBLE_DEVICES=0")
                }
                Some(n) => (format!(" (NVML sees {n})"), "unset CUDA_VISIBLE_DEVICES"),
                None => (String::new(), "unset CUDA_VISIBLE_DEVICES"),
            };
            return cause(
                format!("CUDA_VISIBLE_DEVICES={value:?} hides every GPU from torch{seen}"),
                Some(fix.to_string()),
            );
        }
    }
    if probe.torch_cuda.is_none() {
        let mut c = cause("torch is a CPU-only build", reinstall_fix(g));
        c.summary = "torch.cuda.is_available() is False: torch is a CPU-only build".into();
        if g.nvidia_gpu_seen().is_none() {
            c.status = Status::Warn;
        }
        return c;
    }
    if said.contains("Error 804") || said.contains("forward compatibility") {
        return forward_compat(g);
    }
    let torch_cuda = probe.torch_cuda.as_deref().and_then(CudaVersion::parse);
    let nvml_older = match (torch_cuda, g.gpu.snapshot().and_then(|s| s.cuda_driver)) {
        (Some(needs), Some(has)) => needs.major > has.major,
        _ => false,
    };
    if said.contains("too old") || nvml_older {
        let (has, from) = g
            .driver_cuda()
            .map_or(("an older CUDA".to_string(), "torch"), |(v, from)| {
                (format!("CUDA {v}"), from)
            });
        let build = probe.torch_cuda.as_deref().unwrap_or("?");
        let mut c = cause(
            format!(
                "the driver supports {has} (from {from}), older than torch's CUDA {build} build"
            ),
            Some(driver_too_old_fix(g)),
        );
        if let Some(needs) = torch_cuda {
            c.summary
                .push_str(&format!("; it needs driver {}", driver_needed(needs)));
        }
        return c;
    }
    // NVML named why it could not start: more specific than torch's "no driver" words.
    if matches!(
        super::nvml_init::failure(g),
        Some(NvmlFailure::VersionMismatch | NvmlFailure::NoPermission)
    ) {
        if let Some(c) = super::nvml_init::init_cause(g) {
            return cause(c.summary, c.fix);
        }
    }
    if let Some(c) = no_driver(g, &said) {
        return c;
    }
    if said.contains("No CUDA GPUs are available") || said.contains("no CUDA-capable device") {
        if !g.system.container.is_empty() && !g.system.nvidia_nodes.iter().any(|n| is_gpu_node(n)) {
            return cause(
                "the container has the driver's libraries but no GPU device (/dev/nvidia0)",
                Some(container_fix(&g.system)),
            );
        }
        return cause("the driver sees no CUDA-capable GPU", wsl_loader_fix(g));
    }
    if said.contains("CUDA driver initialization failed") {
        return cause(
            "the CUDA driver failed to initialise (a driver updated without a reboot, or no access to /dev/nvidia*)",
            Some(reboot(&g.system)),
        );
    }
    let mut c = cause(
        "no cause found; checked CUDA_VISIBLE_DEVICES, torch's own reason, NVML, /dev/nvidia*, containers and WSL",
        wsl_loader_fix(g),
    );
    if said.is_empty() {
        c.summary.push_str(" (torch gave no reason)");
    }
    c
}

/// No driver reaches torch: the fix depends on where this runs.
fn no_driver(g: &Gathered, said: &str) -> Option<Cause> {
    let nvml = match &g.gpu {
        GpuView::Unavailable(why) => Some(why.failure),
        _ => None,
    };
    let torch_no_driver = said.contains("Found no NVIDIA driver");
    let no_library = nvml == Some(NvmlFailure::NoLibrary);
    let not_loaded = nvml == Some(NvmlFailure::DriverNotLoaded);
    if !(torch_no_driver || no_library || not_loaded) {
        return None;
    }
    let nodes = if g.system.nvidia_nodes.is_empty() {
        ", no /dev/nvidia*"
    } else {
        ""
    };
    if g.system.wsl.is_some() {
        return Some(cause(
            format!("no NVIDIA driver reaches WSL ({WSL_LIB})"),
            Some(wsl_loader_fix(g).unwrap_or_else(|| WINDOWS_DRIVER_FIX.into())),
        ));
    }
    if !g.system.container.is_empty() {
        return Some(cause(
            format!("no NVIDIA driver in this container{nodes}: it was started without the GPU"),
            Some(container_fix(&g.system)),
        ));
    }
    if g.nvidia_gpu_seen().is_none() {
        if let Some(other) = g.system.drm_gpus.first() {
            return Some(cause(
                format!(
                    "the only GPU here is {} ({}): CUDA needs an NVIDIA GPU",
                    other.vendor(),
                    other.card
                ),
                Some("run SadTalker with --cpu, or on a machine with an NVIDIA GPU".into()),
            ));
        }
    }
    if not_loaded {
        let c = super::nvml_init::init_cause(g)?;
        return Some(cause(c.summary, c.fix));
    }
    Some(cause(
        format!("no NVIDIA driver on this machine{nodes}"),
        Some(driver_install(&g.system)),
    ))
}

/// Error 804: the forward-compatibility libraries (cuda-compat) work on data-centre GPUs only.
fn forward_compat(g: &Gathered) -> Cause {
    let kept: Vec<&str> = g
        .system
        .ld_library_path
        .split(':')
        .filter(|d| !d.is_empty())
        .collect();
    let without: Vec<&str> = kept
        .iter()
        .copied()
        // The cuda-compat directory itself (`/usr/local/cuda-12.4/compat`), not any path that
        // merely has "compat" somewhere in it.
        .filter(|d| {
            !std::path::Path::new(d)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("compat"))
        })
        .collect();
    let fix = if without.len() < kept.len() {
        Some(format!("export LD_LIBRARY_PATH={}", without.join(":")))
    } else {
        reinstall_fix(g)
    };
    cause(
        "CUDA error 804: forward compatibility (cuda-compat) was attempted on a GPU that does not support it; use a torch build the driver supports itself",
        fix,
    )
}

/// torch's words: what `init()` raised and the warnings, as one text to look in.
fn torch_said(probe: &CudaProbe) -> String {
    let mut said: Vec<&str> = probe.warnings.iter().map(String::as_str).collect();
    said.extend(probe.init_error.as_deref());
    said.extend(probe.raw_device_count_error.as_deref());
    said.join("\n")
}

fn is_gpu_node(node: &str) -> bool {
    node.trim_start_matches("/dev/nvidia")
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit())
}

/// A warning of torch's that says something about CUDA, the driver or the GPU (not, say,
/// "Failed to initialize NumPy", which torch prints when numpy is missing or too new).
fn bears_on_cuda(warning: &str) -> bool {
    let w = warning.to_lowercase();
    ["cuda", "driver", "gpu", "nvidia", "device", "sm_"]
        .iter()
        .any(|k| w.contains(k))
}

/// What each layer said, whatever the cause: torch, NVML, the device nodes, the environment.
fn layers(g: &Gathered, probe: &CudaProbe) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(error) = &probe.init_error {
        lines.push(format!("torch.cuda.init(): {error}"));
    }
    if let Some(count) = probe.raw_device_count {
        lines.push(format!("torch._C._cuda_getDeviceCount() = {count}"));
    }
    let mut seen = Vec::new();
    for w in probe.warnings.iter().filter(|w| bears_on_cuda(w)) {
        let w = w.trim().to_string();
        if !seen.contains(&w) {
            seen.push(w.clone());
            lines.push(format!("torch warned: {w}"));
        }
    }
    lines.push(match &g.gpu {
        GpuView::Unavailable(why) => format!("NVML: {}", why.reason),
        view => {
            let snap = view.snapshot().expect("a snapshot");
            format!(
                "NVML ({}): driver {}, CUDA {}, {} GPU(s)",
                view.source(),
                snap.driver_version,
                snap.cuda_driver.map_or("?".into(), |v| v.to_string()),
                snap.gpus.len()
            )
        }
    });
    lines.push(if g.system.nvidia_nodes.is_empty() {
        "/dev/nvidia*: none".to_string()
    } else {
        format!("/dev/nvidia*: {}", g.system.nvidia_nodes.join(", "))
    });
    if !g.system.container.is_empty() {
        lines.push(format!("container: {}", g.system.container.join(", ")));
    }
    if let Some(value) = &g.system.env.visible_devices {
        lines.push(format!("CUDA_VISIBLE_DEVICES={value:?}"));
    }
    lines
}

/// Under WSL with the driver libraries off the loader path: the export that puts them on it;
/// when the directory is not there at all, exporting it cannot help, the Windows driver can.
pub fn wsl_loader_fix(g: &Gathered) -> Option<String> {
    g.system.wsl.as_ref()?;
    if !g.system.wsl_lib_exists {
        return Some(WINDOWS_DRIVER_FIX.into());
    }
    g.system
        .wsl_lib_on_loader_path
        .is_none()
        .then(|| format!("export LD_LIBRARY_PATH={WSL_LIB}:$LD_LIBRARY_PATH"))
}
