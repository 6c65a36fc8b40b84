//! The journal under `<install>/.sadfix/`: for every file sadfix changed, a backup of its
//! original bytes and the sha256 of the original and of what sadfix last wrote. Paths are
//! relative to the install, so a moved install still reverts.

use super::error::PatchError;
use super::write::atomic_write;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE: &str = "journal.json";
const BACKUPS: &str = "backup";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    pub schema_version: u32,
    /// Keyed by the path relative to the install root.
    pub files: BTreeMap<String, JournalEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    pub original_sha256: String,
    pub written_sha256: String,
    /// The backup of the original bytes, relative to the state directory.
    pub backup: String,
    /// The recipes whose fixes are in the file.
    pub recipes: Vec<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a file's backup goes, relative to the state directory.
pub fn backup_rel(rel: &Path) -> String {
    Path::new(BACKUPS).join(rel).to_string_lossy().into_owned()
}

/// The journal of `state_dir`; empty when there is none yet.
pub fn load(state_dir: &Path) -> Result<Journal, PatchError> {
    let path = state_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PatchError::Journal {
            path,
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Journal {
            schema_version: 1,
            files: BTreeMap::new(),
        }),
        Err(e) => Err(PatchError::io(path, e)),
    }
}

/// Write the journal atomically; an empty journal removes the file.
pub fn save(state_dir: &Path, journal: &Journal) -> Result<(), PatchError> {
    let path = state_dir.join(FILE);
    if journal.files.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(PatchError::io(path, e)),
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(state_dir).map_err(|e| PatchError::io(state_dir, e))?;
    let mut text = serde_json::to_string_pretty(journal).expect("the journal serialises");
    text.push('\n');
    atomic_write(&path, text.as_bytes())
}

/// Keep `original` as the backup of `rel` (only the first time: the backup is always the
/// bytes from before sadfix's first change).
pub fn keep_backup(state_dir: &Path, rel: &Path, original: &[u8]) -> Result<String, PatchError> {
    let backup = backup_rel(rel);
    let path: PathBuf = state_dir.join(&backup);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| PatchError::io(dir, e))?;
    }
    atomic_write(&path, original)?;
    Ok(backup)
}

/// Remove a backup and the directories it leaves empty (up to the state directory).
pub fn drop_backup(state_dir: &Path, backup: &str) {
    let path = state_dir.join(backup);
    let _ = std::fs::remove_file(&path);
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == state_dir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
