//! Everything doctor gathered before judging: the inputs of every verdict, as plain values, so
//! the verdicts are pure functions that tests can feed directly.

use super::platform::{BuildView, Driver, Gpu, Platform};
use super::probe::{CudaProbe, FactsProbe, ProbeOutcome};
use super::system::SystemFacts;
use super::tools::Ffmpeg;
use crate::gpu::snapshot::{CudaVersion, GpuView};
use crate::gpu::NvmlFailure;
use crate::install::{Install, PythonChoice};
use crate::patch::Site;
use std::time::Duration;

pub struct Gathered {
    pub install: Install,
    pub python: Option<PythonChoice>,
    pub timeout: Duration,
    pub facts: ProbeOutcome<FactsProbe>,
    pub cuda: ProbeOutcome<CudaProbe>,
    pub gpu: GpuView,
    pub system: SystemFacts,
    pub ffmpeg: Ffmpeg,
    pub sites: Result<Vec<Site>, String>,
    /// `file:line` of each `np.float(`-style use that numpy >= 1.24 breaks.
    pub numpy_aliases: Vec<String>,
}

impl Gathered {
    /// The versions and devices found, as the report's `platform` fields.
    pub fn platform(&self) -> Platform {
        let snapshot = self.gpu.snapshot();
        Platform {
            torch: self.torch_build(),
            cuda_available: self.cuda_probe().and_then(|c| c.is_available),
            driver: snapshot.map(|s| Driver {
                version: s.driver_version.clone(),
                cuda: s.cuda_driver.map(|v| v.to_string()),
            }),
            gpus: snapshot.map_or_else(Vec::new, |s| {
                s.gpus
                    .iter()
                    .map(|gpu| Gpu {
                        index: gpu.index,
                        name: gpu.name.clone(),
                        memory_total_bytes: gpu.memory_total,
                    })
                    .collect()
            }),
            nvidia_gpu_seen: self.nvidia_gpu_seen().is_some(),
            nvml_failure: match &self.gpu {
                GpuView::Unavailable(why) => Some(
                    match why.failure {
                        NvmlFailure::NoLibrary => "no_library",
                        NvmlFailure::DriverNotLoaded => "driver_not_loaded",
                        NvmlFailure::NoPermission => "no_permission",
                        NvmlFailure::VersionMismatch => "version_mismatch",
                        NvmlFailure::Other => "other",
                    }
                    .into(),
                ),
                _ => None,
            },
        }
    }

    pub fn facts(&self) -> Option<&FactsProbe> {
        self.facts.result()
    }

    pub fn cuda_probe(&self) -> Option<&CudaProbe> {
        self.cuda.result()
    }

    /// The interpreter path as a string for fix commands.
    pub fn python_cmd(&self) -> String {
        self.python.as_ref().map_or("python3".into(), |p| {
            super::shell::quote(&p.path.display().to_string())
        })
    }

    pub fn package(&self, name: &str) -> Option<&str> {
        self.facts()?.packages.get(name)?.as_deref()
    }

    pub fn torch_build(&self) -> Option<BuildView> {
        if let Some(live) = self.cuda_probe().filter(|c| c.import_error.is_none()) {
            if let Some(version) = &live.torch_version {
                let hip = self
                    .facts()
                    .and_then(|f| f.torch_build.as_ref())
                    .and_then(|b| b.hip.clone());
                return Some(BuildView {
                    version: version.clone(),
                    cuda: live.torch_cuda.clone(),
                    hip,
                    source: "import torch".into(),
                });
            }
        }
        let build = self.facts()?.torch_build.as_ref()?;
        Some(BuildView {
            version: build.version.clone().unwrap_or_else(|| "unknown".into()),
            cuda: build.cuda.clone(),
            hip: build.hip.clone(),
            source: build.source.clone(),
        })
    }

    /// The CUDA version the driver supports: NVML's, else the one torch's "driver too old"
    /// warning or `init()` error names ("found version 11040").
    pub fn driver_cuda(&self) -> Option<(CudaVersion, &'static str)> {
        if let Some(v) = self.gpu.snapshot().and_then(|s| s.cuda_driver) {
            return Some((v, "NVML"));
        }
        let probe = self.cuda_probe()?;
        probe
            .warnings
            .iter()
            .chain(probe.init_error.iter())
            .find_map(|w| found_version(w))
            .map(|v| (v, "torch's message"))
    }

    /// Why NVML could not be used, when it could not (a replay or a snapshot is not that).
    pub fn nvml_unavailable(&self) -> Option<&crate::gpu::Unavailable> {
        match &self.gpu {
            GpuView::Unavailable(why) => Some(why),
            _ => None,
        }
    }

    /// Whether an NVIDIA GPU is known to be here: NVML sees one, or the kernel lists one.
    pub fn nvidia_gpu_seen(&self) -> Option<String> {
        if let Some(gpu) = self.gpu.snapshot().and_then(|s| s.gpus.first()) {
            return Some(gpu.name.clone());
        }
        self.system
            .drm_gpus
            .iter()
            .find(|g| g.vendor() == "NVIDIA")
            .map(|g| format!("an NVIDIA GPU ({})", g.card))
    }
}

/// `found version 11040` in torch's "driver too old" warning, as a CUDA version.
pub fn found_version(warning: &str) -> Option<CudaVersion> {
    let rest = warning.split("found version ").nth(1)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    CudaVersion::from_driver_int(digits.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_version_is_read_from_torchs_warning() {
        let w = "CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please";
        assert_eq!(found_version(w).unwrap().to_string(), "11.4");
        assert_eq!(found_version("no number here"), None);
    }
}
