//! What sadfix knows about the GPU, in one place below `doctor`, `bench` and `tune`: NVML loaded
//! at run time (`nvml`), which of them a run uses (`choice`), the driver's snapshot or a recorded replay (`snapshot`), the GPU's memory
//! before a run (`facts`), and the Face Renderer's memory model (`memory`). Nothing here imports
//! a command's module.

pub mod choice;
pub mod facts;
pub mod memory;
pub mod nvml;
pub mod snapshot;

pub use nvml::{
    open, open_classified, query_failure, unavailable_reason, NvmlFailure, Unavailable,
};

use snapshot::GpuView;
use std::path::Path;

/// Names a JSON GPU snapshot to read instead of asking NVML.
pub const GPU_REPLAY_VAR: &str = "SADFIX_GPU_REPLAY";

/// The driver's snapshot: the recorded one `SADFIX_GPU_REPLAY` names (for tests and bug reports;
/// the report says so), else NVML's. A replay file that cannot be read is an error.
pub fn view(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<GpuView> {
    match env(GPU_REPLAY_VAR).filter(|v| !v.is_empty()) {
        Some(file) => snapshot::from_replay(Path::new(&file)),
        None => Ok(snapshot::from_nvml()),
    }
}
