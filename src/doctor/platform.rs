//! The versions and devices doctor found, as plain fields of the report (`platform` in
//! `--json`): torch's build, whether CUDA worked, the driver and each GPU's name, and why NVML
//! could not be read. The checks say the same in words; these are for machines (metrics).
//! `Gathered::platform` fills them in; this file imports nothing of doctor's, so the report
//! (`check.rs`) can hold it.

use serde::{Deserialize, Serialize};

/// Torch's build as best known: from the live import, else from `torch/version.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildView {
    pub version: String,
    pub cuda: Option<String>,
    pub hip: Option<String>,
    /// Where it was read: "import torch" or the version.py path.
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// Its `source` is `import torch` or the path of the `torch/version.py` it was read from.
    pub torch: Option<BuildView>,
    /// What `torch.cuda.is_available()` returned; `None` when the probe gave no answer.
    pub cuda_available: Option<bool>,
    /// From NVML or the replayed snapshot (`gpu_source` says which).
    pub driver: Option<Driver>,
    pub gpus: Vec<Gpu>,
    /// Whether an NVIDIA GPU is here: NVML lists one, or the kernel does (`/sys/class/drm`),
    /// so a broken driver still counts as a GPU node.
    #[serde(default)]
    pub nvidia_gpu_seen: bool,
    /// Why NVML could not be read: `no_library`, `driver_not_loaded`, `no_permission`,
    /// `version_mismatch` (library and kernel module of different versions) or `other`.
    pub nvml_failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    pub version: String,
    /// The newest CUDA the driver supports.
    pub cuda: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    pub index: u32,
    pub name: String,
    /// None where NVML did not report it (never a 0 it did not read).
    pub memory_total_bytes: Option<u64>,
}
