//! One sadfix at a time per install: an exclusive lock on `<install>/.sadfix/lock`, waited for
//! a few seconds, then refused. The lock goes with the process, so a crash never leaves it held.

use super::error::PatchError;
use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a second sadfix waits for the first before refusing.
pub const WAIT: Duration = Duration::from_secs(3);

/// Held until dropped.
pub struct InstallLock {
    _file: File,
}

/// Take the lock in `state_dir` (created if needed), waiting up to `wait`.
pub fn acquire(state_dir: &Path, wait: Duration) -> Result<InstallLock, PatchError> {
    std::fs::create_dir_all(state_dir).map_err(|e| PatchError::io(state_dir, e))?;
    let path = state_dir.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| PatchError::io(&path, e))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(InstallLock { _file: file }),
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
        assert!(acquire(tmp.path(), Duration::from_millis(100)).is_ok());
    }
}
