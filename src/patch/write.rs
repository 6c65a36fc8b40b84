//! Writing files safely: refuse read-only files and directories up front (by their mode bits,
//! because root passes every permission check) and files with other hard links, then write a
//! temp file in the same directory, fsync it, give it the original mode, and rename it over
//! the target. A symlink is written through: its target is replaced, the link stays a link.

use super::error::PatchError;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The file a write to `path` lands in: the target of a symlink (every link followed), else
/// `path` itself.
pub fn resolved(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Refuse when `path` (if it exists) or its directory has no write bit at all, or when the
/// file has other hard links (a rename would split them).
pub fn check_writable(path: &Path) -> Result<(), PatchError> {
    let path = &resolved(path);
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o222 == 0 {
            return Err(PatchError::ReadOnly {
                path: path.to_path_buf(),
            });
        }
        if meta.nlink() > 1 {
            return Err(PatchError::HardLinked {
                path: path.to_path_buf(),
                links: meta.nlink(),
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

/// Replace `path` (a symlink's target) with `bytes` atomically, keeping its mode (0644 for a
/// new file).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), PatchError> {
    let path = &resolved(path);
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
    fn a_symlink_is_written_through_and_stays_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("real.py");
        let link = tmp.path().join("link.py");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink("real.py", &link).unwrap();
        check_writable(&link).unwrap();
        atomic_write(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_hard_linked_file_is_refused_and_keeps_its_links() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.py");
        std::fs::write(&file, "x").unwrap();
        std::fs::hard_link(&file, tmp.path().join("b.py")).unwrap();
        let err = check_writable(&file).unwrap_err();
        assert!(matches!(err, PatchError::HardLinked { links: 2, .. }));
        assert!(err.to_string().contains("a.py: has 2 hard links"), "{err}");
        assert_eq!(std::fs::metadata(&file).unwrap().nlink(), 2);
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
