//! The telemetry sources of a live run (the process tree through sysinfo, the GPU through NVML
//! where it loads) and what following a run costs sadfix itself.

use super::census::Census;
use super::record::GpuSourceInfo;
use super::telemetry::{NvmlSource, ProcessSource, TelemetrySource};
use std::sync::{Arc, Mutex};

/// The telemetry sources for a live run, and what is known about the GPU source.
pub fn sources() -> (Vec<Box<dyn TelemetrySource>>, GpuSourceInfo) {
    sources_with(ProcessSource::default())
}

/// The telemetry sources of a run whose processes `census` keeps track of.
pub fn sources_for(census: Arc<Mutex<Census>>) -> (Vec<Box<dyn TelemetrySource>>, GpuSourceInfo) {
    sources_with(ProcessSource::for_run(census))
}

fn sources_with(process: ProcessSource) -> (Vec<Box<dyn TelemetrySource>>, GpuSourceInfo) {
    let mut sources: Vec<Box<dyn TelemetrySource>> = vec![Box::new(process)];
    let info = match crate::gpu::open() {
        Ok(nvml) => {
            let source = NvmlSource::new(nvml);
            let device = source.device_name();
            sources.push(Box::new(source));
            GpuSourceInfo {
                source: "nvml".into(),
                reason: None,
                device,
            }
        }
        Err(reason) => GpuSourceInfo {
            source: "unavailable".into(),
            reason: Some(reason),
            device: None,
        },
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
