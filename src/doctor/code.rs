//! The install's own code, as the patch engine's scan sees it: how the device is selected
//! (unpatched, forced, bounded, damaged by a line-number edit) and the batch-size default.

use super::check::{Area, Check, Status};
use crate::install::Install;
use crate::patch::{Action, Site, SiteKind};

/// The sites of the install's device selection and batch size, and the numpy hand fixes, from
/// the patch engine's scan; no other recipe compiles (the scan runs beside the torch probe, and
/// on two cores its CPU time is the probe's wait).
pub fn code_sites(install: &Install) -> Result<Vec<Site>, String> {
    crate::patch::scan::scan_install_where(install, &|id, kind| {
        matches!(kind, "device" | "batch_size")
            || id.starts_with("numpy-trans-params-")
            || id == "numpy-t-flat"
    })
    .map_err(|e| e.to_string())
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
    let (status, summary, fix) = match most_pressing(&sites) {
        Some(site) => judge(site, cuda),
        None => settled(&sites),
    };
    Check::new(id, Area::Code, status, summary)
        .evidence_all(listing(&sites))
        .fix_opt(fix.map(str::to_string))
}

/// The site that decides the verdict: a damaged block first, then CPU hard-coding, an
/// ineffective SIGALRM timeout, an unpatched check, non-PyTorch code. `None` when all are settled.
fn most_pressing<'a>(sites: &[&'a Site]) -> Option<&'a Site> {
    let rank = |s: &Site| match (s.action, s.family.as_str()) {
        (Action::Repair, _) => Some(0),
        (Action::Rewrite, "G") => Some(1),
        (_, "I") => Some(2),
        (Action::Rewrite, _) => Some(3),
        (Action::Unsupported, _) => Some(4),
        _ => None,
    };
    sites
        .iter()
        .filter_map(|s| rank(s).map(|r| (r, *s)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, s)| s)
}

type Verdict = (Status, String, Option<&'static str>);

fn judge(site: &Site, cuda: CudaState) -> Verdict {
    let at = at(site);
    match (site.action, site.family.as_str()) {
        (Action::Repair, family) => (
            Status::Fail,
            format!("device selection damaged at {at}: the forced block is repeated ({family})"),
            Some(FORCE),
        ),
        (Action::Rewrite, "G") if cuda == CudaState::Works => (
            Status::Fail,
            format!(
                "the code falls back to CPU although CUDA works: {at} sets {}",
                site.value
            ),
            Some(FORCE),
        ),
        (Action::Rewrite, "G") => (
            Status::Fail,
            format!(
                "the code is hard-coded to the CPU: {at} sets {}",
                site.value
            ),
            Some(FORCE),
        ),
        (_, "I") => (
            Status::Warn,
            format!("{at}: a SIGALRM timeout cannot interrupt a hang inside the CUDA driver"),
            Some("sadfix patch --cuda-timeout 10"),
        ),
        (Action::Rewrite, _) => match cuda {
            CudaState::TimedOut => (
                Status::Fail,
                format!("{at} picks CPU when torch.cuda.is_available() hangs or times out"),
                Some(FORCE),
            ),
            CudaState::Unavailable => (
                Status::Warn,
                format!("{at} falls back to CPU because CUDA is unavailable (see cuda.available)"),
                None,
            ),
            CudaState::Works | CudaState::Unknown => (
                Status::Warn,
                format!(
                    "{at} uses the GPU only when torch.cuda.is_available() answers True in time"
                ),
                Some(FORCE),
            ),
        },
        _ => (
            Status::Warn,
            format!("{at} is not PyTorch device selection; sadfix leaves it alone"),
            None,
        ),
    }
}

/// Every site forced, bounded, hard-coded to CUDA, or only reported.
fn settled(sites: &[&Site]) -> Verdict {
    let settled = [
        Action::AlreadyForced,
        Action::AlreadyBounded,
        Action::AlreadyGpu,
    ];
    let how = match sites.iter().map(|s| s.action).find(|a| settled.contains(a)) {
        Some(Action::AlreadyForced) => "forced to CUDA",
        Some(Action::AlreadyBounded) => "CUDA check bounded by a timeout",
        Some(Action::AlreadyGpu) => "hard-coded to CUDA",
        _ => "nothing to change",
    };
    (Status::Ok, format!("device selection {how}"), None)
}

/// `code.batch_size`: the facerender batch-size default. Batch 2 leaves a large GPU idle in
/// `Face Renderer` (facts section 6.11).
pub fn check_batch_size(sites: &Result<Vec<Site>, String>, gpu_memory: Option<u64>) -> Check {
    let id = "code.batch_size";
    let all = match sites {
        Err(why) => return Check::new(id, Area::Code, Status::Skip, why.clone()),
        Ok(all) => all,
    };
    let sites: Vec<&Site> = all
        .iter()
        .filter(|s| s.kind == SiteKind::BatchSize)
        .collect();
    let evidence = listing(&sites);
    let Some(arg) = crate::patch::batch_size_site(all) else {
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
