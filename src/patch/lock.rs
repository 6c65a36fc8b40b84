//! One sadfix at a time per install: an exclusive lock on `<install>/.sadfix/lock`, waited for
//! a few seconds, then refused. The lock goes with the process, so a crash never leaves it held;
//! a clean release also removes the file. A waiter that got the lock on a file removed in the
//! meantime sees that its inode is no longer the path's and tries again.

use super::error::PatchError;
use std::fs::{File, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second sadfix waits for the first before refusing.
pub const WAIT: Duration = Duration::from_secs(3);

/// Held until dropped; dropping removes the lock file, then releases the lock.
pub struct InstallLock {
    file: File,
    path: PathBuf,
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        // Removed while still held, so no one can lock this inode believing it current.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether `file` is still the one at `path` (not removed by a holder that released it).
fn still_current(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

/// Take the lock in `state_dir` (created if needed), waiting up to `wait`.
pub fn acquire(state_dir: &Path, wait: Duration) -> Result<InstallLock, PatchError> {
    std::fs::create_dir_all(state_dir).map_err(|e| PatchError::io(state_dir, e))?;
    let path = state_dir.join("lock");
    let open = || {
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PatchError::io(&path, e))
    };
    let mut file = open()?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) if still_current(&file, &path) => return Ok(InstallLock { file, path }),
            Ok(()) => {
                let _ = file.unlock();
                file = open()?;
            }
            Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(PatchError::Locked {
                    path,
                    waited_s: wait.as_secs(),
                })
            }
            Err(TryLockError::Error(e)) => return Err(PatchError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_the_first_release_frees_it() {
        let tmp = tempfile::tempdir().unwrap();
        let first = acquire(tmp.path(), WAIT).unwrap();
        let err = acquire(tmp.path(), Duration::from_millis(100))
            .err()
            .unwrap();
        assert!(matches!(err, PatchError::Locked { .. }));
        drop(first);
        assert!(
            !tmp.path().join("lock").exists(),
            "the release removes the file"
        );
        let again = acquire(tmp.path(), Duration::from_millis(100)).unwrap();
        assert!(tmp.path().join("lock").exists());
        drop(again);
        assert!(!tmp.path().join("lock").exists());
    }

    #[test]
    fn a_waiter_behind_a_release_holds_the_only_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let first = acquire(tmp.path(), WAIT).unwrap();
        let dir = tmp.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let held = acquire(&dir, WAIT).unwrap();
            let third = acquire(&dir, Duration::from_millis(100)).err();
            drop(held);
            third
        });
        std::thread::sleep(Duration::from_millis(150));
        drop(first);
        let third = waiter.join().unwrap();
        assert!(matches!(third, Some(PatchError::Locked { .. })));
    }
}
