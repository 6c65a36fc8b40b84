//! Writing files safely: refuse read-only files and directories up front (by their mode bits,
//! because root passes every permission check), then write a temp file in the same directory,
//! fsync it, give it the original mode, and rename it over the target.

use super::error::PatchError;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Refuse when `path` (if it exists) or its directory has no write bit at all.
pub fn check_writable(path: &Path) -> Result<(), PatchError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o222 == 0 {
            return Err(PatchError::ReadOnly {
                path: path.to_path_buf(),
            });
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    check_dir_writable(dir)
}

/// Refuse when the directory has no write bit at all.
pub fn check_dir_writable(dir: &Path) -> Result<(), PatchError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.permissions().mode() & 0o222 == 0 => Err(PatchError::ReadOnly {
            path: dir.to_path_buf(),
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(PatchError::io(dir, e)),
    }
}

/// Replace `path` with `bytes` atomically, keeping its mode (0644 for a new file).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), PatchError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(".sadfix-")
        .tempfile_in(dir)
        .map_err(|e| PatchError::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| PatchError::io(tmp.path(), e))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| PatchError::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| PatchError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| PatchError::io(path, e.error))?;
    // The rename is durable once the directory entry is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_mode_and_replaces_the_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.py");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o750)).unwrap();
        atomic_write(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn a_file_without_write_bits_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.py");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        assert!(matches!(
            check_writable(&file),
            Err(PatchError::ReadOnly { .. })
        ));
    }
}
