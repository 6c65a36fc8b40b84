//! A GPU too old or too new for the torch build: the device's compute capability against
//! `torch.cuda.get_arch_list()`, and the build that has kernels for it (facts, section 10).

use super::driver::{wheel_for, INDEX_URL};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::{CudaDevice, CudaProbe};
use crate::gpu::snapshot::CudaVersion;

/// A device the build has no kernels for.
pub struct Unsupported {
    pub name: String,
    /// `sm_61`.
    pub sm: String,
    pub arch_list: String,
    pub fix: String,
}

/// The first device whose architecture the build lacks, judged as torch judges it: an `sm_`
/// of the same major version runs, and so does PTX (`compute_XY`) for an older XY.
pub fn unsupported(g: &Gathered, probe: &CudaProbe) -> Option<Unsupported> {
    if probe.arch_list.is_empty() {
        return None;
    }
    let device = probe
        .devices
        .iter()
        .find(|d| !supports(&probe.arch_list, d))?;
    let sm = sm_of(device)?;
    Some(Unsupported {
        name: device.name.clone(),
        sm: format!("sm_{sm}"),
        arch_list: probe.arch_list.join(" "),
        fix: build_for(g, sm),
    })
}

fn sm_of(device: &CudaDevice) -> Option<u32> {
    match device.capability[..] {
        [major, minor, ..] => Some(major * 10 + minor),
        _ => None,
    }
}

fn supports(arch_list: &[String], device: &CudaDevice) -> bool {
    let Some(sm) = sm_of(device) else {
        return true;
    };
    arch_list.iter().any(|arch| {
        if let Some(n) = arch.strip_prefix("sm_").and_then(|n| n.parse::<u32>().ok()) {
            n / 10 == sm / 10
        } else if let Some(n) = arch
            .strip_prefix("compute_")
            .and_then(|n| n.parse::<u32>().ok())
        {
            n <= sm
        } else {
            false
        }
    })
}

/// Maxwell, Pascal and Volta (below sm_75) are only in cu126 builds up to torch 2.14 (or cu118);
/// Blackwell (sm_100 and up) needs cu128 or newer and a driver >= 570.
fn build_for(g: &Gathered, sm: u32) -> String {
    let python = g.python_cmd();
    let driver = g.driver_cuda().map(|(v, _)| v);
    let at_least = |major, minor| driver.is_some_and(|d| d >= CudaVersion { major, minor });
    if sm < 75 {
        let (tag, pin) = if at_least(12, 6) {
            ("cu126", "torch<2.15")
        } else {
            ("cu118", "torch<2.8")
        };
        return format!(
            "{python} -m pip install --force-reinstall '{pin}' torchvision --index-url {INDEX_URL}{tag}"
        );
    }
    if sm >= 100 && !at_least(12, 8) {
        return format!(
            "update the NVIDIA driver to 570 or newer, then: {python} -m pip install --force-reinstall torch torchvision --index-url {INDEX_URL}cu128"
        );
    }
    let tag = driver.and_then(wheel_for).unwrap_or("cu128");
    format!(
        "{python} -m pip install --force-reinstall torch torchvision --index-url {INDEX_URL}{tag}"
    )
}
