//! What the NVIDIA driver says, once: driver version, the CUDA version it supports, each GPU's
//! name, memory, utilisation and processes. Read from NVML, or replayed from a recorded JSON
//! snapshot (labelled as a replay in the report).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// A CUDA version as `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CudaVersion {
    pub major: u32,
    pub minor: u32,
}

impl CudaVersion {
    /// From NVML's and the CUDA driver API's integer form (12040 is 12.4).
    pub fn from_driver_int(v: i32) -> Option<Self> {
        (v > 0).then_some(CudaVersion {
            major: (v / 1000) as u32,
            minor: ((v % 1000) / 10) as u32,
        })
    }

    /// From `torch.version.cuda` ("12.1").
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().unwrap_or("0").parse().ok()?;
        Some(CudaVersion { major, minor })
    }
}

impl std::fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One GPU as NVML sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub index: u32,
    pub name: String,
    /// Bytes; `None` where NVML could not say (never a zero it did not read).
    pub memory_total: Option<u64>,
    pub memory_used: Option<u64>,
    /// Percent of the last sample window with a kernel running; `None` where not reported.
    pub utilization: Option<u32>,
    /// Pids of compute and graphics processes on it.
    pub processes: Vec<u32>,
    /// NVML's UUID (`GPU-...`), which `CUDA_VISIBLE_DEVICES` may name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The PCI bus id (`00000000:01:00.0`): NVML numbers GPUs in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_bus_id: Option<String>,
    /// What NVML could not say about it, and why (an unsupported query, a missing entry point).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl GpuInfo {
    /// "1.0 of 24.0 GiB used", or "memory unknown" where NVML did not say.
    pub fn memory_text(&self) -> String {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        match (self.memory_used, self.memory_total) {
            (Some(used), Some(total)) => {
                format!("{:.1} of {:.1} GiB used", gib(used), gib(total))
            }
            _ => "memory unknown".to_string(),
        }
    }
}

/// The driver and its GPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuSnapshot {
    pub driver_version: String,
    pub cuda_driver: Option<CudaVersion>,
    pub gpus: Vec<GpuInfo>,
}

/// Where the snapshot came from, for the report.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuView {
    Nvml(GpuSnapshot),
    Replay(GpuSnapshot, String),
    Unavailable(super::nvml::Unavailable),
}

impl GpuView {
    pub fn snapshot(&self) -> Option<&GpuSnapshot> {
        match self {
            GpuView::Nvml(s) | GpuView::Replay(s, _) => Some(s),
            GpuView::Unavailable(_) => None,
        }
    }

    pub fn source(&self) -> String {
        match self {
            GpuView::Nvml(_) => "nvml".into(),
            GpuView::Replay(_, file) => format!("replay: {file}"),
            GpuView::Unavailable(_) => "unavailable".into(),
        }
    }
}

/// Read the snapshot from NVML; its absence is a reason, not an error.
pub fn from_nvml() -> GpuView {
    use super::nvml::query_failure;
    let nvml = match super::nvml::open_classified() {
        Ok(nvml) => nvml,
        Err(why) => return GpuView::Unavailable(why),
    };
    let driver_version = match nvml.sys_driver_version() {
        Ok(v) => v,
        Err(e) => {
            return GpuView::Unavailable(format!("NVML could not report the driver: {e}").into())
        }
    };
    let cuda_driver = nvml
        .sys_cuda_driver_version()
        .ok()
        .and_then(CudaVersion::from_driver_int);
    let count = nvml.device_count().unwrap_or(0);
    let gpus = (0..count)
        .filter_map(|index| {
            let device = nvml.device_by_index(index).ok()?;
            let mut notes = Vec::new();
            let memory = super::nvml::memory(&device)
                .map_err(|e| notes.push(query_failure("memory", &e)))
                .ok();
            let utilization = device
                .utilization_rates()
                .map_err(|e| notes.push(query_failure("utilisation", &e)))
                .ok()
                .map(|u| u.gpu);
            let mut processes: Vec<u32> = Vec::new();
            for (what, list) in [
                ("compute processes", device.running_compute_processes()),
                ("graphics processes", device.running_graphics_processes()),
            ] {
                match list {
                    Ok(list) => {
                        for p in list {
                            if !processes.contains(&p.pid) {
                                processes.push(p.pid);
                            }
                        }
                    }
                    Err(e) => notes.push(query_failure(what, &e)),
                }
            }
            Some(GpuInfo {
                index,
                name: device
                    .name()
                    .unwrap_or_else(|_| "unknown NVIDIA GPU".into()),
                memory_total: memory.map(|m| m.total),
                memory_used: memory.map(|m| m.used),
                uuid: device.uuid().ok(),
                pci_bus_id: device.pci_info().ok().map(|p| p.bus_id),
                utilization,
                processes,
                notes,
            })
        })
        .collect();
    GpuView::Nvml(GpuSnapshot {
        driver_version,
        cuda_driver,
        gpus,
    })
}

/// Read a recorded snapshot (the JSON form of `GpuSnapshot`).
pub fn from_replay(file: &Path) -> anyhow::Result<GpuView> {
    use anyhow::Context;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the GPU snapshot {}", file.display()))?;
    let snapshot: GpuSnapshot = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a GPU snapshot", file.display()))?;
    Ok(GpuView::Replay(snapshot, file.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_versions_parse_from_both_forms_and_order() {
        assert_eq!(
            CudaVersion::from_driver_int(12040),
            Some(CudaVersion {
                major: 12,
                minor: 4
            })
        );
        assert_eq!(
            CudaVersion::from_driver_int(11040).unwrap().to_string(),
            "11.4"
        );
        assert_eq!(CudaVersion::parse("12.1").unwrap().to_string(), "12.1");
        assert!(CudaVersion::parse("12.1") > CudaVersion::parse("11.8"));
        assert_eq!(CudaVersion::parse("none"), None);
    }

    #[test]
    fn a_missing_driver_is_a_reason_not_a_panic() {
        if let GpuView::Unavailable(why) = from_nvml() {
            assert!(!why.reason.is_empty());
        }
    }
}
