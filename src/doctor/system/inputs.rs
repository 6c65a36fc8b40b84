//! Where system facts are read from: an environment lookup and a filesystem root, so tests can
//! lay out a machine (WSL, a container, a driver) in a folder.

use std::path::PathBuf;

/// Where system facts are read from: an environment lookup and a filesystem root (`/` for real).
pub struct SystemInputs<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub fs_root: PathBuf,
}

impl SystemInputs<'_> {
    /// `abs` (an absolute path such as `/proc/version`) under the filesystem root.
    pub fn path(&self, abs: &str) -> PathBuf {
        self.fs_root.join(abs.trim_start_matches('/'))
    }

    pub(super) fn read(&self, abs: &str) -> Option<String> {
        std::fs::read_to_string(self.path(abs)).ok()
    }

    pub(super) fn var(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }
}
