//! The NVIDIA Management Library, loaded at run time. Its absence is a capability, not an
//! error: `open` turns every failure into the reason shown as "GPU telemetry unavailable: ...".

use nvml_wrapper::error::{nvml_try, NvmlError};
use nvml_wrapper::{Device, Nvml};
use std::ffi::{c_uint, c_ulonglong, c_void, CStr};

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

/// A GPU's memory, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub total: u64,
    pub used: u64,
}

/// The GPU's memory: `nvmlDeviceGetMemoryInfo_v2`, else the v1 entry point where the driver
/// lacks `_v2` (R470 and older; nvml-wrapper 0.11 calls only `_v2`). An error means neither
/// answered: the memory is unknown, never zero.
pub fn memory(device: &Device) -> Result<Memory, NvmlError> {
    match device.memory_info() {
        Ok(m) => Ok(Memory {
            total: m.total,
            used: m.used,
        }),
        Err(NvmlError::FailedToLoadSymbol(v2)) => memory_v1(device).map_err(|e| match e {
            NvmlError::FailedToLoadSymbol(v1) => {
                NvmlError::FailedToLoadSymbol(format!("{v2}; {v1}"))
            }
            other => other,
        }),
        Err(e) => Err(e),
    }
}

/// `nvmlMemory_t`, the v1 layout.
#[repr(C)]
struct MemoryV1 {
    total: c_ulonglong,
    free: c_ulonglong,
    used: c_ulonglong,
}

/// `nvmlDeviceGetMemoryInfo` (v1), looked up in the NVML library nvml-wrapper already loaded.
fn memory_v1(device: &Device) -> Result<Memory, NvmlError> {
    type GetMemoryInfo = unsafe extern "C" fn(*mut c_void, *mut MemoryV1) -> c_uint;
    let library = Loaded::open()?;
    let symbol = library.symbol(c"nvmlDeviceGetMemoryInfo")?;
    // SAFETY: the symbol is NVML's `nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t,
    // nvmlMemory_t *)`; the device handle comes from the same library, which stays loaded (by
    // nvml-wrapper and by `library`) for the call.
    let f: GetMemoryInfo = unsafe { std::mem::transmute::<*mut c_void, GetMemoryInfo>(symbol) };
    let mut out = MemoryV1 {
        total: 0,
        free: 0,
        used: 0,
    };
    // SAFETY: see above; `out` is a valid, writable `nvmlMemory_t`.
    let code = unsafe { f(device.handle().cast::<c_void>(), &mut out) };
    nvml_try(code)?;
    Ok(Memory {
        total: out.total,
        used: out.used,
    })
}

/// The NVML library as already loaded into this process (`RTLD_NOLOAD`: never a second copy),
/// for entry points nvml-wrapper does not call.
struct Loaded(*mut c_void);

impl Loaded {
    fn open() -> Result<Loaded, NvmlError> {
        // SAFETY: dlopen with RTLD_NOLOAD only takes a reference to a library already loaded.
        let handle = unsafe {
            libc::dlopen(
                c"libnvidia-ml.so.1".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_NOLOAD,
            )
        };
        if handle.is_null() {
            return Err(NvmlError::FailedToLoadSymbol(
                "libnvidia-ml.so.1 is not loaded".into(),
            ));
        }
        Ok(Loaded(handle))
    }

    fn symbol(&self, name: &CStr) -> Result<*mut c_void, NvmlError> {
        // SAFETY: the handle is open; dlsym only reads the name.
        let symbol = unsafe { libc::dlsym(self.0, name.as_ptr()) };
        if symbol.is_null() {
            return Err(NvmlError::FailedToLoadSymbol(format!(
                "{}: undefined symbol",
                name.to_string_lossy()
            )));
        }
        Ok(symbol)
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: balances the reference `open` took; nvml-wrapper holds its own.
        unsafe { libc::dlclose(self.0) };
    }
}

/// Every GPU NVML lists, with what `CUDA_VISIBLE_DEVICES` may name it by.
pub fn ids(nvml: &Nvml) -> Vec<super::choice::Ids> {
    let count = nvml.device_count().unwrap_or(0);
    (0..count)
        .filter_map(|index| {
            let device = nvml.device_by_index(index).ok()?;
            Some(super::choice::Ids {
                index,
                name: device.name().unwrap_or_default(),
                uuid: device.uuid().ok(),
            })
        })
        .collect()
}

/// The GPU a CUDA program started with `env`'s `CUDA_VISIBLE_DEVICES` and `CUDA_DEVICE_ORDER`
/// uses, among NVML's.
pub fn choose(
    nvml: &Nvml,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<super::choice::Choice, String> {
    super::choice::by_environment(
        &ids(nvml),
        env("CUDA_VISIBLE_DEVICES").as_deref(),
        env("CUDA_DEVICE_ORDER").as_deref(),
        &|mig| mig_parent(nvml, mig),
    )
}

/// The compute processes NVML lists on each GPU (GPUs whose list cannot be read are left out).
pub fn processes_per_gpu(nvml: &Nvml) -> Vec<(u32, Vec<u32>)> {
    let count = nvml.device_count().unwrap_or(0);
    (0..count)
        .filter_map(|index| {
            let list = nvml
                .device_by_index(index)
                .ok()?
                .running_compute_processes()
                .ok()?;
            Some((index, list.into_iter().map(|p| p.pid).collect()))
        })
        .collect()
}

/// NVML's index of the GPU a `MIG-<uuid>` instance lives on (nvml-wrapper 0.11 has no call for
/// a MIG device's parent, so `nvmlDeviceGetDeviceHandleFromMigDeviceHandle` is looked up here).
fn mig_parent(nvml: &Nvml, mig: &str) -> Option<u32> {
    type FromMig = unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> c_uint;
    type GetIndex = unsafe extern "C" fn(*mut c_void, *mut c_uint) -> c_uint;
    let device = nvml.device_by_uuid(mig).ok()?;
    let library = Loaded::open().ok()?;
    let from_mig = library
        .symbol(c"nvmlDeviceGetDeviceHandleFromMigDeviceHandle")
        .ok()?;
    let get_index = library.symbol(c"nvmlDeviceGetIndex").ok()?;
    // SAFETY: NVML's `nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t, nvmlDevice_t *)`
    // and `nvmlDeviceGetIndex(nvmlDevice_t, unsigned int *)`, called with a handle from the same
    // library (kept loaded by nvml-wrapper and `library`) and valid out-pointers.
    unsafe {
        let from_mig = std::mem::transmute::<*mut c_void, FromMig>(from_mig);
        let get_index = std::mem::transmute::<*mut c_void, GetIndex>(get_index);
        let mut parent: *mut c_void = std::ptr::null_mut();
        nvml_try(from_mig(device.handle().cast::<c_void>(), &mut parent)).ok()?;
        let mut index: c_uint = 0;
        nvml_try(get_index(parent, &mut index)).ok()?;
        Some(index)
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
