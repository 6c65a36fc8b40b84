//! The install's own code, as the patch engine's scan sees it: how the device is selected
//! (unpatched, forced, bounded, damaged by a line-number edit) and the batch-size default.

use super::check::{Area, Check, Status};
use crate::install::Install;
use crate::patch::{Action, Site, SiteKind};

/// The sites of the install's device selection and batch size, from the patch engine's scan.
pub fn code_sites(_install: &Install) -> Result<Vec<Site>, String> {
    Err("code scan unavailable in this build".into())
}

/// What the CUDA probe established, as far as the code verdict needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaState {
    Works,
    Unavailable,
    TimedOut,
    Unknown,
}

const FORCE: &str = "sadfix patch --force-gpu";

fn at(site: &Site) -> String {
    format!("{}:{}", site.file.display(), site.line)
}

fn listing(sites: &[&Site]) -> Vec<String> {
    sites
        .iter()
        .map(|s| format!("{} family {}: {} ({})", at(s), s.family, s.value, s.note))
        .collect()
}

/// `code.device_selection`.
pub fn check_device_selection(sites: &Result<Vec<Site>, String>, cuda: CudaState) -> Check {
    let id = "code.device_selection";
    let sites: Vec<&Site> = match sites {
        Err(why) => return Check::new(id, Area::Code, Status::Skip, why.clone()),
        Ok(all) => all.iter().filter(|s| s.kind == SiteKind::Device).collect(),
    };
    if sites.is_empty() {
        return Check::new(
            id,
            Area::Code,
            Status::Warn,
            "no device-selection code found",
        )
        .evidence("SadTalker's entry points normally choose the device after parse_args()");
    }
    let evidence = listing(&sites);
    let with = |action: Action| sites.iter().filter(move |s| s.action == action);
    if let Some(damaged) = with(Action::Repair).next() {
        return Check::new(
            id,
            Area::Code,
            Status::Fail,
            format!(
                "device selection damaged at {}: the forced block is repeated ({})",
                at(damaged),
                damaged.family
            ),
        )
        .evidence_all(evidence)
        .fix(FORCE);
    }
    if let Some(cpu) = with(Action::Rewrite).find(|s| s.family == "G") {
        let why = if cuda == CudaState::Works {
            "falls back to CPU although CUDA works"
        } else {
            "is hard-coded to the CPU"
        };
        return Check::new(
            id,
            Area::Code,
            Status::Fail,
            format!("the code {why}: {} sets {}", at(cpu), cpu.value),
        )
        .evidence_all(evidence)
        .fix(FORCE);
    }
    if let Some(cond) = with(Action::Rewrite).next() {
        let (status, summary, fix) = match cuda {
            CudaState::TimedOut => (
                Status::Fail,
                format!(
                    "{} picks CPU when torch.cuda.is_available() hangs or times out",
                    at(cond)
                ),
                Some(FORCE.to_string()),
            ),
            CudaState::Unavailable => (
                Status::Warn,
                format!(
                    "{} falls back to CPU because CUDA is unavailable (see cuda.available)",
                    at(cond)
                ),
                None,
            ),
            _ => (
                Status::Warn,
                format!(
                    "{} uses the GPU only when torch.cuda.is_available() answers True in time",
                    at(cond)
                ),
                Some(FORCE.to_string()),
            ),
        };
        return Check::new(id, Area::Code, status, summary)
            .evidence_all(evidence)
            .fix_opt(fix);
    }
    if let Some(alarm) = sites.iter().find(|s| s.family == "I") {
        return Check::new(
            id,
            Area::Code,
            Status::Warn,
            format!(
                "{}: a SIGALRM timeout cannot interrupt a hang inside the CUDA driver",
                at(alarm)
            ),
        )
        .evidence_all(evidence)
        .fix("sadfix patch --cuda-timeout 10");
    }
    if let Some(other) = with(Action::Unsupported).next() {
        return Check::new(
            id,
            Area::Code,
            Status::Warn,
            format!(
                "{} is not PyTorch device selection; sadfix leaves it alone",
                at(other)
            ),
        )
        .evidence_all(evidence);
    }
    let settled = [
        Action::AlreadyForced,
        Action::AlreadyGpu,
        Action::AlreadyBounded,
    ];
    let how = match sites
        .iter()
        .find(|s| settled.contains(&s.action))
        .map(|s| s.action)
    {
        Some(Action::AlreadyForced) => "forced to CUDA",
        Some(Action::AlreadyBounded) => "CUDA check bounded by a timeout",
        Some(Action::AlreadyGpu) => "hard-coded to CUDA",
        _ => "nothing to change",
    };
    Check::new(
        id,
        Area::Code,
        Status::Ok,
        format!("device selection {how}"),
    )
    .evidence_all(evidence)
}

/// `code.batch_size`: the facerender batch-size default. Batch 2 leaves a large GPU idle in
/// `Face Renderer` (facts section 6.11).
pub fn check_batch_size(sites: &Result<Vec<Site>, String>, gpu_memory: Option<u64>) -> Check {
    let id = "code.batch_size";
    let sites: Vec<&Site> = match sites {
        Err(why) => return Check::new(id, Area::Code, Status::Skip, why.clone()),
        Ok(all) => all
            .iter()
            .filter(|s| s.kind == SiteKind::BatchSize)
            .collect(),
    };
    let evidence = listing(&sites);
    let Some(arg) = sites
        .iter()
        .find(|s| s.family == "argparse")
        .or(sites.first())
    else {
        return Check::new(id, Area::Code, Status::Skip, "no batch-size setting found");
    };
    let value: Option<u32> = arg.value.trim().parse().ok();
    let big_gpu = gpu_memory.is_some_and(|m| m >= 12 << 30);
    if value.is_some_and(|v| v <= 2) && big_gpu {
        return Check::new(
            id,
            Area::Code,
            Status::Warn,
            format!(
                "batch size default {} ({}) leaves a large GPU under-used in Face Renderer",
                arg.value,
                at(arg)
            ),
        )
        .evidence_all(evidence)
        .fix("sadfix patch --batch-size 4");
    }
    Check::new(
        id,
        Area::Code,
        Status::Ok,
        format!("batch size default {} ({})", arg.value, at(arg)),
    )
    .evidence_all(evidence)
}

#[cfg(test)]
mod tests;
