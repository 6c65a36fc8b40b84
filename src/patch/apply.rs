//! Writing a verified plan: every target checked writable first, then under the install lock
//! the files are re-read (a change since planning aborts), backups and the journal are
//! written, and only then the files, each atomically.

use super::error::PatchError;
use super::journal::{self, JournalEntry};
use super::lock;
use super::plan::Plan;
use super::write::{atomic_write, check_dir_writable, check_writable};
use crate::install::Install;
use std::path::Path;

/// Write every change of `plan`. Nothing is written when any check fails.
pub fn commit(install: &Install, plan: &Plan) -> Result<(), PatchError> {
    commit_at(&install.state_dir(), plan)
}

/// `commit` with the journal and backups in `state` (the install's `.sadfix/`, or its
/// `site-packages/` part for files of the install's Python).
pub fn commit_at(state: &Path, plan: &Plan) -> Result<(), PatchError> {
    if plan.changes.is_empty() {
        return Ok(());
    }
    let state = state.to_path_buf();
    for change in &plan.changes {
        check_writable(&change.path)?;
    }
    match state.ancestors().find(|d| d.exists()) {
        Some(dir) => check_dir_writable(dir)?,
        None => check_dir_writable(&state)?,
    }
    let _lock = lock::acquire(&state, lock::WAIT)?;
    for change in &plan.changes {
        let now = std::fs::read(&change.path).map_err(|e| PatchError::io(&change.path, e))?;
        if now != change.original {
            return Err(PatchError::Raced {
                path: change.rel.clone(),
            });
        }
    }
    let mut journal = journal::load(&state)?;
    for change in &plan.changes {
        let key = change.rel.to_string_lossy().into_owned();
        let written = journal::sha256_hex(&change.result);
        let recipes: Vec<String> = change.fixes.iter().map(|f| f.recipe.clone()).collect();
        match journal.files.get_mut(&key) {
            Some(entry) => {
                entry.written_sha256 = written;
                for r in recipes {
                    if !entry.recipes.contains(&r) {
                        entry.recipes.push(r);
                    }
                }
            }
            None => {
                let backup = journal::keep_backup(&state, &change.rel, &change.original)?;
                journal.files.insert(
                    key,
                    JournalEntry {
                        original_sha256: journal::sha256_hex(&change.original),
                        written_sha256: written,
                        backup,
                        recipes,
                    },
                );
            }
        }
    }
    journal::save(&state, &journal)?;
    for change in &plan.changes {
        atomic_write(&change.path, &change.result)?;
    }
    Ok(())
}
