//! The GPU's memory as tune sees it before anything runs: NVML, or the snapshot named by
//! `SADFIX_GPU_REPLAY` (labelled as a replay), with the other processes that hold memory on it.

use super::snapshot::GpuView;

const MIB: f64 = 1024.0 * 1024.0;

/// Where the memory figures come from.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuSource {
    Nvml,
    /// A recorded snapshot: not this machine's GPU now.
    Replay(String),
}

/// A process that holds memory on the GPU before tune starts.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherProcess {
    pub pid: u32,
    /// From `/proc/PID/comm` where it can be read here.
    pub name: Option<String>,
}

/// GPU 0 before the first trial.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuFacts {
    pub name: String,
    pub total_mb: f64,
    pub free_mb: f64,
    pub source: GpuSource,
    pub others: Vec<OtherProcess>,
}

impl GpuFacts {
    /// Memory in use before tune starts (other processes, the display, another container).
    pub fn used_mb(&self) -> f64 {
        (self.total_mb - self.free_mb).max(0.0)
    }
}

/// The GPU facts, or why there are none. A replay file that cannot be read is an error.
pub fn read(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Result<GpuFacts, String>> {
    Ok(from_view(&super::view(env)?))
}

/// GPU 0 of a doctor snapshot.
pub fn from_view(view: &GpuView) -> Result<GpuFacts, String> {
    let source = match view {
        GpuView::Nvml(_) => GpuSource::Nvml,
        GpuView::Replay(_, file) => GpuSource::Replay(file.clone()),
        GpuView::Unavailable(why) => return Err(why.reason.clone()),
    };
    let snapshot = view
        .snapshot()
        .expect("a view with a source has a snapshot");
    let Some(gpu) = snapshot.gpus.first() else {
        return Err("NVML lists no GPU".into());
    };
    let (Some(total), Some(used)) = (gpu.memory_total, gpu.memory_used) else {
        let why = gpu
            .notes
            .iter()
            .find(|n| n.starts_with("memory"))
            .map_or(String::new(), |n| format!(" ({n})"));
        return Err(format!(
            "NVML did not report the memory of GPU {} ({}){why}: free memory unknown",
            gpu.index, gpu.name
        ));
    };
    let own = std::process::id();
    let others = gpu
        .processes
        .iter()
        .filter(|&&pid| pid != own)
        .map(|&pid| OtherProcess {
            pid,
            name: process_name(pid, &source),
        })
        .collect();
    Ok(GpuFacts {
        name: gpu.name.clone(),
        total_mb: total as f64 / MIB,
        free_mb: total.saturating_sub(used) as f64 / MIB,
        source,
        others,
    })
}

fn process_name(pid: u32, source: &GpuSource) -> Option<String> {
    // A replayed snapshot's pids belong to another machine (or another time).
    if *source != GpuSource::Nvml {
        return None;
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim().to_string()).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::snapshot::{GpuInfo, GpuSnapshot};

    #[test]
    fn a_replayed_snapshot_gives_free_memory_and_other_processes() {
        let snapshot = GpuSnapshot {
            driver_version: "550.54".into(),
            cuda_driver: None,
            gpus: vec![GpuInfo {
                index: 0,
                name: "NVIDIA GeForce RTX 2060".into(),
                memory_total: Some(6 << 30),
                memory_used: Some(1 << 30),
                utilization: Some(3),
                processes: vec![4242],
                notes: vec![],
                ..GpuInfo::default()
            }],
        };
        let facts = from_view(&GpuView::Replay(snapshot, "gpu.json".into())).unwrap();
        assert_eq!(facts.total_mb, 6144.0);
        assert_eq!(facts.free_mb, 5120.0);
        assert_eq!(facts.used_mb(), 1024.0);
        assert_eq!(facts.source, GpuSource::Replay("gpu.json".into()));
        assert_eq!(
            facts.others,
            vec![OtherProcess {
                pid: 4242,
                name: None
            }]
        );
        assert_eq!(
            from_view(&GpuView::Unavailable("no driver".into())),
            Err("no driver".into())
        );
    }
}
