//! `--apply`: the winning batch size written as the `--batch_size` default through the patch
//! engine (diff, backup, journal; `sadfix patch --revert` undoes it), and the install's current
//! default read through the engine's scan.

use super::trial::{Trial, TrialStatus};
use crate::install::Install;
use crate::patch::{self, PatchError, PatchOptions, Plan};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("batch size {0} was not measured to work here (it ran out of memory, failed or was not tried); tune applies only measured batch sizes")]
    Unmeasured(u32),
    #[error(transparent)]
    Patch(#[from] PatchError),
}

/// The `--batch_size` default as the install's argparse line has it (else the first site).
pub fn current_default(install: &Install) -> Option<u32> {
    patch::default_batch_size(&patch::scan_install(install).ok()?)
}

/// Write `batch_size` as the default. Refuses a batch size no trial ran successfully at.
/// Returns the verified plan that was written (empty when it already was the default).
pub fn apply(install: &Install, batch_size: u32, trials: &[Trial]) -> Result<Plan, ApplyError> {
    let measured = trials
        .iter()
        .any(|t| t.batch_size == batch_size && t.status == TrialStatus::Ok);
    if !measured {
        return Err(ApplyError::Unmeasured(batch_size));
    }
    let options = PatchOptions {
        batch_size: Some(batch_size),
        ..PatchOptions::default()
    };
    let planned = patch::plan(install, &options)?;
    patch::apply::commit(install, &planned)?;
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oom_batch_size_is_never_applied() {
        // The refusal comes before the engine opens any file: the fixture itself is safe here.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sim-install");
        let install = crate::install::locate(Some(&root), &root).unwrap();
        assert_eq!(current_default(&install), Some(2));
        let oom = Trial::blank(8, 1, TrialStatus::Oom);
        let err = apply(&install, 8, &[oom]).unwrap_err();
        assert!(matches!(err, ApplyError::Unmeasured(8)));
        assert!(apply(&install, 16, &[]).is_err());
    }
}
