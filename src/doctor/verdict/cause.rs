//! Why CUDA is unavailable to a CUDA build of torch: one cause, read across every layer at once
//! (torch's own reason, NVML, the device nodes, the loader path, containers, WSL), with the fix.

use super::driver::{driver_too_old_fix, reinstall_fix};
use crate::doctor::check::Status;
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::CudaProbe;
use crate::doctor::system::{hides_all, WSL_LIB};

/// What brings `/usr/lib/wsl/lib` into a WSL distribution: the driver on the Windows side.
pub const WINDOWS_DRIVER_FIX: &str =
    "install or update the NVIDIA driver on Windows, then run `wsl --shutdown`";

/// CUDA answered False: the cause, most specific first, with its fix.
pub fn why_unavailable(g: &Gathered, probe: &CudaProbe) -> (Status, String, Option<String>) {
    let env = &g.system.env;
    let fail_if = |serious: bool| if serious { Status::Fail } else { Status::Warn };
    if let Some(value) = env.visible_devices.as_deref().filter(|v| hides_all(v)) {
        return (
            Status::Fail,
            format!("torch sees no GPU: CUDA_VISIBLE_DEVICES={value:?} hides them all"),
            Some("unset CUDA_VISIBLE_DEVICES".to_string()),
        );
    }
    if probe.torch_cuda.is_none() {
        return (
            fail_if(g.nvidia_gpu_seen().is_some()),
            "torch.cuda.is_available() is False: torch is a CPU-only build".into(),
            reinstall_fix(g),
        );
    }
    let too_old = probe.warnings.iter().any(|w| w.contains("too old"));
    if let Some((driver, _)) = g.driver_cuda().filter(|_| too_old) {
        return (
            Status::Fail,
            format!("torch.cuda.is_available() is False: the driver supports CUDA {driver}, older than the build"),
            Some(driver_too_old_fix(g)),
        );
    }
    (
        fail_if(g.nvidia_gpu_seen().is_some() || g.system.wsl.is_some()),
        "torch.cuda.is_available() is False".into(),
        wsl_loader_fix(g),
    )
}

/// Under WSL with the driver libraries off the loader path: the export that puts them on it;
/// when the directory is not there at all, exporting it cannot help, the Windows driver can.
pub fn wsl_loader_fix(g: &Gathered) -> Option<String> {
    g.system.wsl.as_ref()?;
    if !g.system.wsl_lib_exists {
        return Some(WINDOWS_DRIVER_FIX.into());
    }
    g.system
        .wsl_lib_on_loader_path
        .is_none()
        .then(|| format!("export LD_LIBRARY_PATH={WSL_LIB}:$LD_LIBRARY_PATH"))
}
