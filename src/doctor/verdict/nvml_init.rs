//! NVML loaded but would not initialise: each error NVML names is a cause with its fix (the
//! two driver versions of a mismatch, loading the module, the device nodes' group), shared by
//! `gpu.driver`, `gpu.vendor` and the CUDA cause.

use super::admin::{as_root, container_fix, load_module, reboot};
use crate::doctor::gathered::Gathered;
use crate::gpu::NvmlFailure;

/// What NVML's init error means here.
pub struct InitCause {
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Option<String>,
}

/// The failure NVML named when it loaded but did not initialise; `None` when it initialised,
/// was replayed, or the library was not there at all.
pub fn failure(g: &Gathered) -> Option<NvmlFailure> {
    g.nvml_unavailable().map(|why| why.failure).filter(|f| {
        matches!(
            f,
            NvmlFailure::VersionMismatch | NvmlFailure::DriverNotLoaded | NvmlFailure::NoPermission
        )
    })
}

/// The cause and fix of NVML's init error, if it named one of the three.
pub fn init_cause(g: &Gathered) -> Option<InitCause> {
    let system = &g.system;
    let access = &system.access;
    let in_container = !system.container.is_empty();
    let known =
        |v: &Option<String>, why: &str| v.clone().unwrap_or_else(|| format!("unknown ({why})"));
    Some(match failure(g)? {
        NvmlFailure::VersionMismatch => {
            let library = known(
                &access.nvml_library,
                "libnvidia-ml.so.1 does not resolve to a versioned file",
            );
            let module = known(&access.kernel_module, "no /proc/driver/nvidia/version");
            let mut evidence = vec![
                format!("NVML library (loader): {library}"),
                format!("kernel module (/proc/driver/nvidia/version): {module}"),
            ];
            let fix = if in_container {
                "reboot the host: its driver was updated without a reboot (the container shares the host's kernel module)".to_string()
            } else {
                evidence.push(format!(
                    "without a reboot, with nothing using the GPU (no display server, no CUDA process): {}",
                    as_root(
                        system,
                        &["modprobe -r nvidia_uvm nvidia_drm nvidia_modeset nvidia", "modprobe nvidia"]
                    )
                ));
                reboot(system)
            };
            let short = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
            InitCause {
                summary: format!(
                    "the NVIDIA library and the loaded kernel module are different driver versions (library {}, kernel module {}): the driver was updated without a reboot",
                    short(&access.nvml_library),
                    short(&access.kernel_module)
                ),
                evidence,
                fix: Some(fix),
            }
        }
        NvmlFailure::DriverNotLoaded => {
            if in_container {
                InitCause {
                    summary: "the NVIDIA driver's kernel module is not loaded, or this container was started without the GPU".into(),
                    evidence: Vec::new(),
                    fix: Some(container_fix(system)),
                }
            } else {
                let (load, build) = load_module(system);
                InitCause {
                    summary: "the NVIDIA driver is installed but its kernel module is not loaded"
                        .into(),
                    evidence: build.into_iter().collect(),
                    fix: Some(load),
                }
            }
        }
        NvmlFailure::NoPermission => {
            let node = access.node.as_ref();
            let at = node.map_or("/dev/nvidia*".to_string(), |n| {
                format!("{} (group {}, mode {:o})", n.path, n.group, n.mode)
            });
            let group = node
                .map(|n| n.group.as_str())
                .filter(|g| *g != "root" && !g.bytes().all(|b| b.is_ascii_digit()));
            let fix = match (group, access.user.as_deref(), access.root) {
                (Some(group), Some(user), false) => Some(format!(
                    "{} && newgrp {group}",
                    as_root(system, &[&format!("usermod -aG {group} {user}")])
                )),
                _ => Some(
                    "have the driver's device nodes opened to this user: an administrator sets the nvidia module's NVreg_DeviceFileGID / NVreg_DeviceFileMode options (or the udev rule that creates /dev/nvidia*) and reloads the module".into(),
                ),
            };
            InitCause {
                summary: format!("no permission to use the NVIDIA driver's device nodes: {at}"),
                evidence: Vec::new(),
                fix,
            }
        }
        _ => return None,
    })
}
