//! The telemetry sources of a live run (the process tree through sysinfo, the GPU through NVML
//! where it loads) and what following a run costs sadfix itself.

use super::census::Census;
use super::record::GpuSourceInfo;
use super::telemetry::{NvmlSource, ProcessSource, TelemetrySource};
use std::sync::{Arc, Mutex};

/// What is known about the GPU source, kept current while the run goes (the GPU sampled
/// changes once NVML lists the run's processes on another).
pub type GpuInfo = Arc<Mutex<GpuSourceInfo>>;

/// The telemetry sources for a live run, and what is known about the GPU source.
pub fn sources() -> (Vec<Box<dyn TelemetrySource>>, GpuInfo) {
    sources_with(ProcessSource::default(), None)
}

/// The telemetry sources of a run whose processes `census` keeps track of. The run's
/// `CUDA_VISIBLE_DEVICES` is sadfix's own (the run inherits it), or that of the process
/// `attached` (`--attach`) where its environment can be read.
pub fn sources_for(
    census: Arc<Mutex<Census>>,
    attached: Option<u32>,
) -> (Vec<Box<dyn TelemetrySource>>, GpuInfo) {
    sources_with(ProcessSource::for_run(census), attached)
}

fn sources_with(
    process: ProcessSource,
    attached: Option<u32>,
) -> (Vec<Box<dyn TelemetrySource>>, GpuInfo) {
    let mut sources: Vec<Box<dyn TelemetrySource>> = vec![Box::new(process)];
    let info = match crate::gpu::open() {
        Ok(nvml) => {
            let info = Arc::new(Mutex::new(GpuSourceInfo {
                source: "nvml".into(),
                ..GpuSourceInfo::default()
            }));
            let theirs = attached.and_then(super::census::environ_of);
            let env = |var: &str| match &theirs {
                Some(pairs) => pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone()),
                None => std::env::var(var).ok(),
            };
            sources.push(Box::new(NvmlSource::new(nvml, &env, info.clone())));
            info
        }
        Err(reason) => Arc::new(Mutex::new(GpuSourceInfo {
            source: "unavailable".into(),
            reason: Some(reason),
            ..GpuSourceInfo::default()
        })),
    };
    (sources, info)
}

/// CPU time of this process, all threads (getrusage RUSAGE_SELF): what following a run costs.
pub fn own_cpu_seconds() -> Option<f64> {
    // SAFETY: getrusage writes into the zeroed struct we own; it has no other effect.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(usage.ru_utime) + secs(usage.ru_stime))
}
