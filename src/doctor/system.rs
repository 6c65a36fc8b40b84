//! Facts about the machine that decide whether CUDA can work: WSL and its driver library path,
//! the loader path (a stub `libnvidia-ml` shadowing the real one), CUDA environment variables,
//! non-NVIDIA GPUs, and cores, RAM and load. Inputs are injectable so tests can simulate WSL.

pub mod access;
mod inputs;

pub use inputs::SystemInputs;

use std::path::{Path, PathBuf};

/// The WSL driver library directory.
pub const WSL_LIB: &str = "/usr/lib/wsl/lib";

/// Signs that this is WSL (facts, section 6.5).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WslSigns {
    pub proc_version: bool,
    pub distro: Option<String>,
    pub dxg: bool,
}

/// A GPU seen in `/sys/class/drm`.
#[derive(Debug, Clone, PartialEq)]
pub struct DrmGpu {
    pub card: String,
    pub vendor_id: String,
}

impl DrmGpu {
    pub fn vendor(&self) -> &'static str {
        match self.vendor_id.as_str() {
            "0x10de" => "NVIDIA",
            "0x1002" => "AMD",
            "0x8086" => "Intel",
            _ => "unknown vendor",
        }
    }
}

/// The CUDA-related environment variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CudaEnv {
    pub visible_devices: Option<String>,
    pub alloc_conf: Option<String>,
    pub device_order: Option<String>,
}

/// Cores, memory and load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub logical_cores: usize,
    pub physical_cores: Option<usize>,
    pub total_ram: u64,
    pub available_ram: u64,
    pub load1: f64,
}

/// Everything doctor knows about the system.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemFacts {
    /// `None` when no sign of WSL was found.
    pub wsl: Option<WslSigns>,
    pub wsl_lib_exists: bool,
    /// Where `/usr/lib/wsl/lib` is on the loader path, if it is.
    pub wsl_lib_on_loader_path: Option<String>,
    /// Every `libnvidia-ml.so.1` in loader search order.
    pub nvml_libraries: Vec<PathBuf>,
    pub ld_library_path: String,
    pub env: CudaEnv,
    pub drm_gpus: Vec<DrmGpu>,
    /// `/dev/nvidia*` device nodes (the driver's kernel module made them, or a container got them).
    pub nvidia_nodes: Vec<String>,
    /// Signs that this runs in a container (`/.dockerenv`, `/run/.containerenv`, cgroup names).
    pub container: Vec<String>,
    /// `ID` and `ID_LIKE` of `/etc/os-release` (`ubuntu`, `debian`, ...), for the install command.
    pub os_ids: Vec<String>,
    pub resources: Resources,
    /// Root or not, the device nodes' group, the driver versions, the apt components.
    pub access: access::Access,
}

/// Read the system facts (resources are filled in separately by `resources()`).
pub fn gather(inputs: &SystemInputs) -> SystemFacts {
    let proc_version = inputs
        .read("/proc/version")
        .is_some_and(|v| v.to_lowercase().contains("microsoft"));
    let distro = inputs.var("WSL_DISTRO_NAME").filter(|v| !v.is_empty());
    let dxg = inputs.path("/dev/dxg").exists();
    let wsl = (proc_version || distro.is_some() || dxg).then_some(WslSigns {
        proc_version,
        distro,
        dxg,
    });
    let (dirs, origins) = loader_dirs(inputs);
    let wsl_lib_on_loader_path = dirs
        .iter()
        .position(|d| d.trim_end_matches('/') == WSL_LIB)
        .map(|i| origins[i].clone());
    let nvml_libraries = dirs
        .iter()
        .map(|d| Path::new(d).join("libnvidia-ml.so.1"))
        .filter(|p| inputs.path(&p.to_string_lossy()).exists())
        .fold(Vec::new(), |mut seen, p| {
            if !seen.contains(&p) {
                seen.push(p);
            }
            seen
        });
    SystemFacts {
        wsl,
        wsl_lib_exists: inputs.path(WSL_LIB).is_dir(),
        wsl_lib_on_loader_path,
        ld_library_path: inputs.var("LD_LIBRARY_PATH").unwrap_or_default(),
        env: CudaEnv {
            visible_devices: inputs.var("CUDA_VISIBLE_DEVICES"),
            alloc_conf: inputs.var("PYTORCH_CUDA_ALLOC_CONF"),
            device_order: inputs.var("CUDA_DEVICE_ORDER"),
        },
        drm_gpus: drm_gpus(inputs),
        nvidia_nodes: nvidia_nodes(inputs),
        container: container_signs(inputs),
        os_ids: os_ids(inputs),
        resources: Resources::default(),
        access: access::gather(inputs, nvml_libraries.first().map(PathBuf::as_path)),
        nvml_libraries,
    }
}

fn nvidia_nodes(inputs: &SystemInputs) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(inputs.path("/dev")) else {
        return Vec::new();
    };
    let mut nodes: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("nvidia"))
        .map(|n| format!("/dev/{n}"))
        .collect();
    nodes.sort();
    nodes
}

fn container_signs(inputs: &SystemInputs) -> Vec<String> {
    let mut signs = Vec::new();
    for marker in ["/.dockerenv", "/run/.containerenv"] {
        if inputs.path(marker).exists() {
            signs.push(format!("{marker} exists"));
        }
    }
    let cgroup = inputs.read("/proc/1/cgroup").unwrap_or_default();
    if let Some(name) = ["docker", "kubepods", "containerd", "libpod", "lxc"]
        .into_iter()
        .find(|n| cgroup.contains(n))
    {
        signs.push(format!("/proc/1/cgroup names {name}"));
    }
    if let Some(name) = inputs.var("container").filter(|v| !v.is_empty()) {
        signs.push(format!("container={name}"));
    }
    signs
}

fn os_ids(inputs: &SystemInputs) -> Vec<String> {
    let text = inputs.read("/etc/os-release").unwrap_or_default();
    let mut ids = Vec::new();
    for line in text.lines() {
        if let Some(value) = line
            .strip_prefix("ID=")
            .or_else(|| line.strip_prefix("ID_LIKE="))
        {
            ids.extend(
                value
                    .trim_matches('"')
                    .split_whitespace()
                    .map(str::to_lowercase),
            );
        }
    }
    ids
}

/// The loader's search directories in order, each with where it came from: `LD_LIBRARY_PATH`,
/// then `/etc/ld.so.conf` and `/etc/ld.so.conf.d/*.conf`, then the default directories.
fn loader_dirs(inputs: &SystemInputs) -> (Vec<String>, Vec<String>) {
    let mut dirs = Vec::new();
    let mut origins = Vec::new();
    for dir in inputs.var("LD_LIBRARY_PATH").unwrap_or_default().split(':') {
        if !dir.is_empty() {
            dirs.push(dir.to_string());
            origins.push("LD_LIBRARY_PATH".to_string());
        }
    }
    let mut confs = vec!["/etc/ld.so.conf".to_string()];
    if let Ok(entries) = std::fs::read_dir(inputs.path("/etc/ld.so.conf.d")) {
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".conf"))
            .collect();
        names.sort();
        confs.extend(names.into_iter().map(|n| format!("/etc/ld.so.conf.d/{n}")));
    }
    for conf in confs {
        for line in inputs.read(&conf).unwrap_or_default().lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.starts_with('/') {
                dirs.push(line.to_string());
                origins.push(conf.clone());
            }
        }
    }
    for dir in [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ] {
        dirs.push(dir.to_string());
        origins.push("default".to_string());
    }
    (dirs, origins)
}

fn drm_gpus(inputs: &SystemInputs) -> Vec<DrmGpu> {
    let Ok(entries) = std::fs::read_dir(inputs.path("/sys/class/drm")) else {
        return Vec::new();
    };
    let mut cards: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("card") && !n.contains('-'))
        .collect();
    cards.sort();
    cards
        .into_iter()
        .filter_map(|card| {
            let vendor = inputs.read(&format!("/sys/class/drm/{card}/device/vendor"))?;
            Some(DrmGpu {
                card,
                vendor_id: vendor.trim().to_lowercase(),
            })
        })
        .collect()
}

/// Cores, RAM and load from sysinfo.
pub fn resources() -> Resources {
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};
    let sys = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    Resources {
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        physical_cores: System::physical_core_count(),
        total_ram: sys.total_memory(),
        available_ram: sys.available_memory(),
        load1: System::load_average().one,
    }
}

/// `CUDA_VISIBLE_DEVICES` values that hide every GPU.
pub fn hides_all(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v == "-1"
        || v.eq_ignore_ascii_case("none")
        || v.eq_ignore_ascii_case("NoDevFiles")
}

/// The first index of a `CUDA_VISIBLE_DEVICES` value where it is past the `count` GPUs. CUDA
/// stops at the first invalid index and shows only the devices before it, so such a value
/// hides every GPU whatever follows (`1,0` on a one-GPU machine shows none).
pub fn first_index_past(value: &str, count: usize) -> Option<usize> {
    let first = value.split(',').next().unwrap_or("").trim();
    first.parse().ok().filter(|index| *index >= count)
}

#[cfg(test)]
mod tests;
