//! The NVIDIA Management Library, loaded at run time. Its absence is a capability, not an
//! error: `open` turns every failure into the reason shown as "GPU telemetry unavailable: ...".

use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;

/// Why NVML cannot be used, by what it means for CUDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvmlFailure {
    /// No `libnvidia-ml.so.1` on the loader path: no driver here (or WSL's path is missing).
    NoLibrary,
    /// The library is there but the kernel module is not loaded.
    DriverNotLoaded,
    NoPermission,
    /// The library and the loaded kernel module are different driver versions.
    VersionMismatch,
    Other,
}

/// NVML could not be used: what kind of failure, and the reason for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub failure: NvmlFailure,
    pub reason: String,
}

impl From<String> for Unavailable {
    fn from(reason: String) -> Self {
        Unavailable {
            failure: NvmlFailure::Other,
            reason,
        }
    }
}

impl From<&str> for Unavailable {
    fn from(reason: &str) -> Self {
        reason.to_string().into()
    }
}

/// Load and initialise NVML, or say why it cannot be used.
pub fn open() -> Result<Nvml, String> {
    open_classified().map_err(|u| u.reason)
}

/// `open`, keeping the kind of failure.
pub fn open_classified() -> Result<Nvml, Unavailable> {
    Nvml::init().map_err(|e| Unavailable {
        failure: failure_of(&e),
        reason: unavailable_reason(&e),
    })
}

fn failure_of(err: &NvmlError) -> NvmlFailure {
    match err {
        NvmlError::LibloadingError(_) => NvmlFailure::NoLibrary,
        NvmlError::DriverNotLoaded => NvmlFailure::DriverNotLoaded,
        NvmlError::NoPermission => NvmlFailure::NoPermission,
        NvmlError::LibRmVersionMismatch => NvmlFailure::VersionMismatch,
        _ => NvmlFailure::Other,
    }
}

/// Why one NVML query gave nothing, for the evidence: "not supported" is what WSL and some GPUs
/// answer, a missing symbol is a driver older than the entry point.
pub fn query_failure(what: &str, err: &NvmlError) -> String {
    match err {
        NvmlError::NotSupported => format!("{what}: not supported by this GPU or driver"),
        NvmlError::FailedToLoadSymbol(e) => {
            format!("{what}: the driver's NVML lacks the entry point ({e}); the driver is too old for it")
        }
        other => format!("{what}: {other}"),
    }
}

/// A one-line reason for a user, naming the usual cause.
pub fn unavailable_reason(err: &NvmlError) -> String {
    match err {
        NvmlError::LibloadingError(e) => format!(
            "libnvidia-ml.so.1 could not be loaded ({e}); no NVIDIA driver here, or under WSL \
             /usr/lib/wsl/lib is not on the loader path"
        ),
        NvmlError::DriverNotLoaded => "the NVIDIA driver is not loaded".to_string(),
        NvmlError::NoPermission => "no permission to talk to the NVIDIA driver".to_string(),
        NvmlError::LibRmVersionMismatch => {
            "the NVIDIA library and the loaded kernel module are different driver versions \
             (the driver was updated without a reboot)"
                .to_string()
        }
        other => format!("NVML failed to initialise: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_the_wsl_path() {
        let reason = unavailable_reason(&NvmlError::DriverNotLoaded);
        assert_eq!(reason, "the NVIDIA driver is not loaded");
        // On machines without a driver (CI), open() must fail with a reason, not panic.
        if let Err(reason) = open() {
            assert!(!reason.is_empty());
        }
    }
}
