//! What `scan` reports: every device-selection and batch-size site, its shape family, its value,
//! and what `patch` would do with it. `doctor` reads these too.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which setting a site decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Device,
    BatchSize,
    /// Code that a package newer than SadTalker's pins breaks (`patch --compat`).
    Compat,
    /// The Face Renderer's frame list (`patch --offload-frames`).
    OffloadFrames,
}

/// What `patch` does (or would do) with a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `--force-gpu` (device) or `--batch-size` (the argparse default) rewrites it.
    Rewrite,
    /// Damage from a line-number edit (the forced block repeated): repaired to one block.
    Repair,
    /// Already forced to CUDA by an earlier fix (family H): nothing to do.
    AlreadyForced,
    /// Hard-coded to CUDA (family F): nothing to do.
    AlreadyGpu,
    /// The CUDA check is already bounded by `--cuda-timeout`.
    AlreadyBounded,
    /// Listed so the user knows about it, never edited (families I and L, other batch sites).
    ReportOnly,
    /// Not PyTorch (family K): sadfix does not touch it.
    Unsupported,
    /// Already in the form `patch --compat` (or `--offload-frames`) writes.
    AlreadyFixed,
    /// A compat fix whose trigger is absent from the installed packages.
    NotNeeded,
    /// A compat fix left alone because the installed packages could not be read.
    GateUnknown,
}

/// One place in the install's code that selects the device or sets the batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Relative to the install root.
    pub file: PathBuf,
    /// 1-based line of the start of the site.
    pub line: usize,
    pub kind: SiteKind,
    /// Device sites: the facts' family letter ("A".."L", "HxN" for the repeated block).
    /// Batch-size sites: the shape ("argparse", "constant", "attribute", "parameter",
    /// "call_keyword", "slider").
    pub family: String,
    /// The current value as written in the code (e.g. `"cpu"`, `2`, or the condition text).
    pub value: String,
    pub action: Action,
    /// The recipe that matched, if any.
    pub recipe: Option<String>,
    /// One line on what this is and why the action was chosen.
    pub note: String,
    /// Compat sites: the gate and what the installed packages say, e.g.
    /// "numpy >= 1.24: numpy 2.4.0".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
}

/// The site that sets the Face Renderer's batch size: the argparse `--batch_size` when there is
/// one, else the first batch-size site (a pip package's `SadTalkerArgs.batch_size`). Sites under
/// `face3d/` are never it: that is the 3D face reconstruction's own training code
/// (`face3d/options/train_options.py` has `--batch_size` default 32, `arcface_torch/configs`
/// 128), which inference never reads.
pub fn batch_size_site(sites: &[Site]) -> Option<&Site> {
    let batch: Vec<&Site> = sites
        .iter()
        .filter(|s| s.kind == SiteKind::BatchSize && !in_face3d(&s.file))
        .collect();
    batch
        .iter()
        .find(|s| s.family == "argparse")
        .or(batch.first())
        .copied()
}

/// The note of a batch-size site under `face3d/`: listed, never edited.
pub const FACE3D_BATCH: &str =
    "the 3D face reconstruction's own training code, not the Face Renderer's batch size; not edited";

/// Whether `file` (relative to the install) is in SadTalker's `face3d/` tree.
pub fn in_face3d(file: &std::path::Path) -> bool {
    file.components().any(|c| c.as_os_str() == "face3d")
}

/// The `--batch_size` default as the install's code has it (`batch_size_site`); `None` when
/// that site holds no number.
pub fn default_batch_size(sites: &[Site]) -> Option<u32> {
    batch_size_site(sites)?.value.trim().parse().ok()
}
