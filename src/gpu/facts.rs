//! The GPU's memory as tune sees it before anything runs: NVML, or the snapshot named by
//! `SADFIX_GPU_REPLAY` (labelled as a replay), with the other processes that hold memory on it.

use super::choice::{by_environment, Ids};
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

/// The run's GPU before the first trial.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuFacts {
    /// NVML's index.
    pub index: u32,
    /// Why this GPU (`CUDA_VISIBLE_DEVICES` mapped, the only one, or a guess).
    pub chosen_by: String,
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
    Ok(from_view(&super::view(env)?, env))
}

/// The GPU of a snapshot that a run started with `env` (`CUDA_VISIBLE_DEVICES`,
/// `CUDA_DEVICE_ORDER`) would use.
pub fn from_view(view: &GpuView, env: &dyn Fn(&str) -> Option<String>) -> Result<GpuFacts, String> {
    let source = match view {
        GpuView::Nvml(_) => GpuSource::Nvml,
        GpuView::Replay(_, file) => GpuSource::Replay(file.clone()),
        GpuView::Unavailable(why) => return Err(why.reason.clone()),
    };
    let snapshot = view
        .snapshot()
        .expect("a view with a source has a snapshot");
    let ids: Vec<Ids> = snapshot
        .gpus
        .iter()
        .map(|g| Ids {
            index: g.index,
            name: g.name.clone(),
            uuid: g.uuid.clone(),
        })
        .collect();
    // A snapshot holds no MIG instances: a `MIG-<uuid>` is not mapped from it.
    let choice = by_environment(
        &ids,
        env("CUDA_VISIBLE_DEVICES").as_deref(),
        env("CUDA_DEVICE_ORDER").as_deref(),
        &|_| None,
    )?;
    let Some(gpu) = snapshot.gpus.iter().find(|g| g.index == choice.index) else {
        return Err(format!("NVML lists no GPU {}", choice.index));
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
        index: gpu.index,
        chosen_by: choice.why,
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
        let facts = from_view(&GpuView::Replay(snapshot, "gpu.json".into()), &|_| None).unwrap();
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
            from_view(&GpuView::Unavailable("no driver".into()), &|_| None),
            Err("no driver".into())
        );
    }

    #[test]
    fn the_gpu_cuda_visible_devices_names_gives_the_free_memory() {
        let gpu = |index: u32, total: u64, used: u64| GpuInfo {
            index,
            name: format!("GPU model {index}"),
            memory_total: Some(total << 30),
            memory_used: Some(used << 30),
            uuid: Some(format!("GPU-0000000{index}")),
            ..GpuInfo::default()
        };
        let view = GpuView::Replay(
            GpuSnapshot {
                driver_version: "550.54".into(),
                cuda_driver: None,
                gpus: vec![gpu(0, 8, 7), gpu(1, 24, 1)],
            },
            "gpu.json".into(),
        );
        let env = |visible: &'static str| {
            move |var: &str| (var == "CUDA_VISIBLE_DEVICES").then(|| visible.to_string())
        };
        let second = from_view(&view, &env("GPU-00000001")).unwrap();
        assert_eq!((second.index, second.free_mb), (1, 23.0 * 1024.0));
        assert!(
            second.chosen_by.contains("by its UUID"),
            "{}",
            second.chosen_by
        );
        let guessed = from_view(&view, &env("1")).unwrap();
        assert_eq!(guessed.index, 1);
        assert!(
            guessed.chosen_by.contains("a guess"),
            "{}",
            guessed.chosen_by
        );
        let hidden = from_view(&view, &env("-1")).unwrap_err();
        assert!(hidden.contains("hides every GPU"), "{hidden}");
    }
}
