//! What the user asked `patch` to do, as one value the engine reads.

use serde::{Deserialize, Serialize};

/// Which patch flag a recipe serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchOption {
    ForceGpu,
    CudaTimeout,
    BatchSize,
}

impl PatchOption {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "force-gpu" => Some(Self::ForceGpu),
            "cuda-timeout" => Some(Self::CudaTimeout),
            "batch-size" => Some(Self::BatchSize),
            _ => None,
        }
    }
}

/// The requested rewrites. Empty options ask for nothing (that is what `scan` uses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchOptions {
    pub force_gpu: bool,
    pub batch_size: Option<u32>,
    pub cuda_timeout: Option<u32>,
}

impl PatchOptions {
    pub fn wants(&self, option: PatchOption) -> bool {
        match option {
            PatchOption::ForceGpu => self.force_gpu,
            PatchOption::CudaTimeout => self.cuda_timeout.is_some(),
            PatchOption::BatchSize => self.batch_size.is_some(),
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.force_gpu && self.batch_size.is_none() && self.cuda_timeout.is_none()
    }
}
