//! `patch --revert`: restore the original bytes of every file in the journal. A file that
//! changed since sadfix wrote it is refused (all files, nothing restored) unless forced.

use super::error::PatchError;
use super::journal::{self, sha256_hex};
use super::lock;
use super::write::{atomic_write, check_writable};
use crate::install::Install;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What `--revert` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RevertOutcome {
    /// Restored to the original bytes.
    pub restored: Vec<PathBuf>,
    /// Restored although they changed since sadfix wrote them (`--force`).
    pub forced: Vec<PathBuf>,
    /// Already back to the original bytes: only the journal entry was dropped.
    pub already_original: Vec<PathBuf>,
}

/// Revert the install, then the files sadfix changed in its Python's site-packages (shown
/// with their full path).
pub fn revert(install: &Install, force: bool) -> Result<RevertOutcome, PatchError> {
    let mut outcome = revert_at(&install.root, &install.state_dir(), force)?;
    if let Some((root, state)) = super::site_packages::recorded(install) {
        let outside = revert_at(&root, &state, force)?;
        let full = |v: Vec<PathBuf>| v.into_iter().map(|p| root.join(p)).collect::<Vec<_>>();
        outcome.restored.extend(full(outside.restored));
        outcome.forced.extend(full(outside.forced));
        outcome
            .already_original
            .extend(full(outside.already_original));
        super::site_packages::forget_if_reverted(install);
    }
    Ok(outcome)
}

/// Restore the files under `root` that the journal in `state` lists.
pub fn revert_at(
    root: &std::path::Path,
    state: &std::path::Path,
    force: bool,
) -> Result<RevertOutcome, PatchError> {
    let state = state.to_path_buf();
    let mut outcome = RevertOutcome::default();
    if !state.join("journal.json").exists() {
        return Ok(outcome);
    }
    let _lock = lock::acquire(&state, lock::WAIT)?;
    let mut journal = journal::load(&state)?;
    let mut work = Vec::new();
    let mut changed = Vec::new();
    for (key, entry) in &journal.files {
        let rel = PathBuf::from(key);
        let path = root.join(&rel);
        let now = match std::fs::read(&path) {
            Ok(b) => Some(sha256_hex(&b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(PatchError::io(&path, e)),
        };
        let backup_path = state.join(&entry.backup);
        let original = std::fs::read(&backup_path).map_err(|e| PatchError::BackupMissing {
            path: backup_path.clone(),
            reason: e.to_string(),
        })?;
        if sha256_hex(&original) != entry.original_sha256 {
            return Err(PatchError::BackupMissing {
                path: backup_path,
                reason: "its hash does not match the journal".into(),
            });
        }
        let state_of_file = match now.as_deref() {
            Some(h) if h == entry.original_sha256 => FileState::Original,
            Some(h) if h == entry.written_sha256 => FileState::AsWritten,
            _ => FileState::Changed,
        };
        if state_of_file == FileState::Changed {
            changed.push(rel.clone());
        }
        work.push((key.clone(), rel, path, original, state_of_file));
    }
    if !changed.is_empty() && !force {
        return Err(PatchError::ChangedSinceWritten { files: changed });
    }
    for (_, _, path, _, st) in &work {
        if *st != FileState::Original {
            check_writable(path)?;
        }
    }
    for (key, rel, path, original, st) in work {
        match st {
            FileState::Original => outcome.already_original.push(rel),
            FileState::AsWritten => {
                atomic_write(&path, &original)?;
                outcome.restored.push(rel);
            }
            FileState::Changed => {
                atomic_write(&path, &original)?;
                outcome.forced.push(rel);
            }
        }
        if let Some(entry) = journal.files.remove(&key) {
            journal::drop_backup(&state, &entry.backup);
        }
        journal::save(&state, &journal)?;
    }
    Ok(outcome)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileState {
    Original,
    AsWritten,
    Changed,
}
