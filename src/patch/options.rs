//! What the user asked `patch` to do, as one value the engine reads.

use serde::{Deserialize, Serialize};

/// Which patch flag a recipe serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchOption {
    ForceGpu,
    CudaTimeout,
    BatchSize,
    Compat,
    OffloadFrames,
}

impl PatchOption {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "force-gpu" => Some(Self::ForceGpu),
            "cuda-timeout" => Some(Self::CudaTimeout),
            "batch-size" => Some(Self::BatchSize),
            "compat" => Some(Self::Compat),
            "offload-frames" => Some(Self::OffloadFrames),
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
    /// Fix what newer packages break (gated on the installed versions).
    pub compat: bool,
    /// With `compat`: also edit the install Python's site-packages.
    pub site_packages: bool,
    /// Keep each rendered batch on the host in the Face Renderer loop.
    pub offload_frames: bool,
}

impl PatchOptions {
    pub fn wants(&self, option: PatchOption) -> bool {
        match option {
            PatchOption::ForceGpu => self.force_gpu,
            PatchOption::CudaTimeout => self.cuda_timeout.is_some(),
            PatchOption::BatchSize => self.batch_size.is_some(),
            PatchOption::Compat => self.compat,
            PatchOption::OffloadFrames => self.offload_frames,
        }
    }

    /// Nothing asked for.
    pub const NONE: PatchOptions = PatchOptions {
        force_gpu: false,
        batch_size: None,
        cuda_timeout: None,
        compat: false,
        site_packages: false,
        offload_frames: false,
    };

    pub fn is_empty(&self) -> bool {
        !self.force_gpu
            && self.batch_size.is_none()
            && self.cuda_timeout.is_none()
            && !self.compat
            && !self.offload_frames
    }
}
