//! Telemetry sources behind one trait: NVML for the GPU, sysinfo for the CPU and memory of the
//! child's process tree, and a replay of recorded samples. A source that cannot measure leaves
//! its fields `None`; nothing here ever reports a zero it did not read.

use super::census::Census;
use super::record::{GpuSourceInfo, Sample};
use crate::gpu::choice::{Basis, Choice};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// What every source sees at one tick.
pub struct Tick {
    /// Seconds since the child started.
    pub t: f64,
    /// The child (leader of the process group).
    pub root_pid: u32,
    /// The child's process tree, filled by the process source (which runs first).
    pub tree: Vec<u32>,
}

/// One kind of measurement, read once per tick into the shared sample.
pub trait TelemetrySource: Send {
    fn read(&mut self, tick: &mut Tick, sample: &mut Sample);
}

const MIB: f64 = 1024.0 * 1024.0;

/// The run's GPU through NVML: device utilisation, memory, encoder, power, and the memory of
/// the child's processes where the driver reports it (not under WSL). The GPU is the one NVML
/// lists the run's processes on, once it does; before that, the one `CUDA_VISIBLE_DEVICES` and
/// `CUDA_DEVICE_ORDER` map to (`gpu::choice`).
pub struct NvmlSource {
    nvml: Nvml,
    /// NVML's index of the GPU sampled; `None` while no GPU is known to be the run's.
    index: Option<u32>,
    /// Whether the run's processes were seen on it (then it no longer changes).
    by_processes: bool,
    /// What the record says about the GPU, kept current as the choice changes.
    info: Arc<Mutex<GpuSourceInfo>>,
    /// NVML's timestamp of the newest per-process utilisation sample read so far (µs).
    util_seen: u64,
}

impl NvmlSource {
    /// Sample the GPU a run started with `env` uses; `info` is updated with the choice.
    pub fn new(
        nvml: Nvml,
        env: &dyn Fn(&str) -> Option<String>,
        info: Arc<Mutex<GpuSourceInfo>>,
    ) -> Self {
        let choice = crate::gpu::nvml::choose(&nvml, env);
        let mut source = NvmlSource {
            nvml,
            index: None,
            by_processes: false,
            info,
            util_seen: 0,
        };
        match choice {
            Ok(choice) => source.pick(choice),
            Err(why) => {
                let mut info = source.info.lock().unwrap_or_else(|e| e.into_inner());
                info.chosen_by = Some(format!(
                    "{why}; no GPU is sampled unless NVML lists the run's processes on one"
                ));
            }
        }
        source
    }

    fn pick(&mut self, choice: Choice) {
        let device = self.nvml.device_by_index(choice.index).ok();
        let mut info = self.info.lock().unwrap_or_else(|e| e.into_inner());
        info.index = Some(choice.index);
        info.device = device.as_ref().and_then(|d| d.name().ok());
        info.uuid = device.as_ref().and_then(|d| d.uuid().ok());
        info.chosen_by = Some(choice.why);
        if self.index != Some(choice.index) {
            self.util_seen = 0;
        }
        self.index = Some(choice.index);
        self.by_processes = choice.basis == Basis::Processes;
    }

    /// The device name, for the report.
    pub fn device_name(&self) -> Option<String> {
        self.nvml.device_by_index(self.index?).ok()?.name().ok()
    }
}

impl TelemetrySource for NvmlSource {
    fn read(&mut self, tick: &mut Tick, sample: &mut Sample) {
        if !self.by_processes && !tick.tree.is_empty() {
            let per_gpu = crate::gpu::nvml::processes_per_gpu(&self.nvml);
            if let Some(choice) = crate::gpu::choice::by_processes(&per_gpu, &tick.tree) {
                self.pick(choice);
            }
        }
        let Some(Ok(device)) = self.index.map(|i| self.nvml.device_by_index(i)) else {
            return;
        };
        sample.gpu_util = device.utilization_rates().ok().map(|u| u.gpu as f64);
        sample.gpu_mem_mb = crate::gpu::nvml::memory(&device)
            .ok()
            .map(|m| m.used as f64 / MIB);
        sample.enc_util = device
            .encoder_utilization()
            .ok()
            .map(|e| e.utilization as f64);
        sample.power_w = device.power_usage().ok().map(|mw| mw as f64 / 1000.0);
        if let Ok(procs) = device.running_compute_processes() {
            let tree: HashSet<u32> = tick.tree.iter().copied().collect();
            let mut total = None;
            for p in procs.iter().filter(|p| tree.contains(&p.pid)) {
                if let UsedGpuMemory::Used(bytes) = p.used_gpu_memory {
                    *total.get_or_insert(0.0) += bytes as f64 / MIB;
                }
            }
            sample.proc_gpu_mem_mb = total;
        }
        let tree: HashSet<u32> = tick.tree.iter().copied().collect();
        sample.proc_gpu_util = match device.process_utilization_stats(self.util_seen) {
            Ok(samples) => {
                // Several samples of one process may come at once: its newest counts.
                let mut newest: HashMap<u32, (u64, u32)> = HashMap::new();
                for s in samples.iter().filter(|s| tree.contains(&s.pid)) {
                    self.util_seen = self.util_seen.max(s.timestamp);
                    let entry = newest.entry(s.pid).or_insert((0, 0));
                    if s.timestamp >= entry.0 {
                        *entry = (s.timestamp, s.sm_util);
                    }
                }
                Some(
                    newest
                        .values()
                        .map(|&(_, u)| u as f64)
                        .sum::<f64>()
                        .min(100.0),
                )
            }
            // NVML's answer when no process used the GPU since the last read.
            Err(NvmlError::NotFound) => Some(0.0),
            Err(_) => None,
        };
    }
}

/// CPU and resident memory of the child's process tree. CPU is the growth of the tree's
/// accumulated CPU time over sadfix's own clock (exact, unlike sysinfo's percentages, which need
/// two refreshes at least 200 ms apart).
///
/// With a census, the run also takes in every process carrying its marker (and their trees),
/// wherever they were re-parented, and the census learns which of them is SadTalker.
pub struct ProcessSource {
    system: System,
    ticks: u64,
    last: Option<(f64, u64)>,
    tree: Vec<u32>,
    census: Option<Arc<Mutex<Census>>>,
}

impl Default for ProcessSource {
    fn default() -> Self {
        ProcessSource {
            system: System::new(),
            ticks: 0,
            last: None,
            tree: Vec::new(),
            census: None,
        }
    }
}

impl ProcessSource {
    /// Sample the run the census keeps track of.
    pub fn for_run(census: Arc<Mutex<Census>>) -> Self {
        ProcessSource {
            census: Some(census),
            ..ProcessSource::default()
        }
    }

    fn members(&self, root: u32) -> Vec<u32> {
        let mut tree = tree_of(&self.system, root);
        if let Some(census) = &self.census {
            let pids: Vec<u32> = self.system.processes().keys().map(|p| p.as_u32()).collect();
            let marked = census
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .marked_among(&pids);
            let mut seen: HashSet<u32> = tree.iter().copied().collect();
            for pid in marked {
                if seen.contains(&pid) {
                    continue;
                }
                for member in tree_of(&self.system, pid) {
                    if seen.insert(member) {
                        tree.push(member);
                    }
                }
            }
        }
        tree
    }

    fn refresh(&mut self, root: u32) {
        let kind = ProcessRefreshKind::nothing()
            .with_cpu()
            .with_memory()
            .without_tasks();
        // A full scan (to find new children) once a second; in between only the known tree.
        if self.ticks.is_multiple_of(4) || self.tree.is_empty() {
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
            self.tree = self.members(root);
        } else {
            let pids: Vec<Pid> = self.tree.iter().map(|&p| Pid::from_u32(p)).collect();
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::Some(&pids), true, kind);
        }
        self.ticks += 1;
    }
}

impl TelemetrySource for ProcessSource {
    fn read(&mut self, tick: &mut Tick, sample: &mut Sample) {
        self.refresh(tick.root_pid);
        let (mut cpu_ms, mut rss) = (0u64, 0u64);
        let mut alive = Vec::new();
        for &pid in &self.tree {
            if let Some(p) = self.system.process(Pid::from_u32(pid)) {
                cpu_ms += p.accumulated_cpu_time();
                rss += p.memory();
                alive.push(pid);
            }
        }
        if let Some(census) = &self.census {
            let mut census = census.lock().unwrap_or_else(|e| e.into_inner());
            census.observe(tick.t, tick.root_pid, &alive);
        }
        tick.tree = alive;
        if tick.tree.is_empty() {
            return;
        }
        sample.rss_mb = Some(rss as f64 / MIB);
        if let Some((t0, ms0)) = self.last {
            let dt = tick.t - t0;
            if dt > 0.0 {
                // A child that exited takes its CPU time with it; never report a negative load.
                let used = cpu_ms.saturating_sub(ms0) as f64 / 1000.0;
                sample.cpu_pct = Some(100.0 * used / dt);
            }
        }
        self.last = Some((tick.t, cpu_ms));
    }
}

/// The child and all its descendants.
fn tree_of(system: &System, root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, process) in system.processes() {
        if let Some(parent) = process.parent() {
            children
                .entry(parent.as_u32())
                .or_default()
                .push(pid.as_u32());
        }
    }
    let mut tree = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if system.process(Pid::from_u32(pid)).is_some() {
            tree.push(pid);
        }
        stack.extend(children.get(&pid).into_iter().flatten());
    }
    tree
}

/// Samples recorded earlier, handed out by time: the last recorded sample at or before the tick.
pub struct ReplaySource {
    samples: Vec<Sample>,
}

impl ReplaySource {
    pub fn new(mut samples: Vec<Sample>) -> Self {
        samples.sort_by(|a, b| a.t.total_cmp(&b.t));
        ReplaySource { samples }
    }
}

impl TelemetrySource for ReplaySource {
    fn read(&mut self, tick: &mut Tick, sample: &mut Sample) {
        let at = self.samples.partition_point(|s| s.t <= tick.t);
        if let Some(recorded) = at.checked_sub(1).and_then(|i| self.samples.get(i)) {
            *sample = Sample {
                t: tick.t,
                ..recorded.clone()
            };
        }
    }
}

#[cfg(test)]
#[path = "telemetry_tests.rs"]
mod tests;
