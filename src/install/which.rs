//! Executables found on a PATH-style list.

use std::path::{Path, PathBuf};

/// The first executable `name` on this process's PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH")?;
    find_on_path(name, &path_var.to_string_lossy())
}

/// The first executable `name` in a PATH-style list.
pub fn find_on_path(name: &str, path_var: &str) -> Option<PathBuf> {
    find_on_path_except(name, path_var, None)
}

/// The first executable `name` in a PATH-style list, passing over the directory `skip` (a
/// shim directory, whose entries would lead back to the shim).
pub fn find_on_path_except(name: &str, path_var: &str, skip: Option<&Path>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let skip = skip.map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()));
    std::env::split_paths(path_var)
        .filter(|dir| {
            skip.as_ref().is_none_or(|skip| {
                dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()) != *skip
            })
        })
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
