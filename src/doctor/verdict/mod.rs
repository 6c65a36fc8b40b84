//! All verdicts, in report order. Each is a pure function of what was gathered.

pub mod admin;
pub mod arch;
pub mod cause;
pub mod driver;
pub mod hand_fix;
pub mod install;
pub mod interrupted;
pub mod nvml_init;
pub mod packages;
pub mod pins;
pub mod system;
pub mod torch;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cause;

use super::check::Check;
use super::code::{check_batch_size, check_device_selection, CudaState};
use super::gathered::Gathered;
use super::probe::ProbeOutcome;
use super::{tools, weights};

/// Every check, in a stable order (the table groups them by area).
pub fn all(g: &Gathered) -> Vec<Check> {
    let gpu_memory = g
        .gpu
        .snapshot()
        .and_then(|s| s.gpus.iter().filter_map(|x| x.memory_total).max());
    let mut checks = vec![
        install::check_install(g),
        install::check_python(g),
        torch::check_build(g),
        torch::check_available(g),
        driver::check_driver(g),
        system::check_vendor(g),
        system::check_wsl(g),
        system::check_nvml_library(g),
        system::check_visible_devices(g),
        system::check_cuda_settings(g),
        system::check_resources(g),
        packages::check_numpy(g),
        packages::check_basicsr(g),
        packages::check_versions(g),
        pins::check_version_changes(g),
        tools::check_ffmpeg(&g.ffmpeg, &g.system),
        weights::check_checkpoints(g.install.data_root()),
        weights::check_gfpgan(g.install.data_root()),
        check_device_selection(&g.sites, cuda_state(g)),
        check_batch_size(&g.sites, gpu_memory),
        hand_fix::check_numpy_hand_fixes(g),
    ];
    interrupted::mark(&mut checks, g);
    checks.sort_by_key(|c| c.area);
    checks
}

fn cuda_state(g: &Gathered) -> CudaState {
    match &g.cuda {
        ProbeOutcome::TimedOut { .. } => CudaState::TimedOut,
        ProbeOutcome::Done { result, .. } => match result.is_available {
            Some(true) => CudaState::Works,
            Some(false) => CudaState::Unavailable,
            None => CudaState::Unknown,
        },
        _ => CudaState::Unknown,
    }
}
