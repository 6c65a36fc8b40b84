//! The NVIDIA Management Library, loaded at run time. Its absence is a capability, not an
//! error: `open` turns every failure into the reason shown as "GPU telemetry unavailable: ...".

use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;

/// Load and initialise NVML, or say why it cannot be used.
pub fn open() -> Result<Nvml, String> {
    Nvml::init().map_err(|e| unavailable_reason(&e))
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
