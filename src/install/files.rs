//! The install's own Python files, without virtual environments, packages and VCS data.

use std::path::{Path, PathBuf};

/// Directory names never descended into: environments, installed packages, VCS and caches, and
/// sadfix's own state (its backups are Python files too).
const SKIPPED_DIRS: [&str; 9] = [
    "venv",
    ".venv",
    "site-packages",
    ".git",
    "node_modules",
    "__pycache__",
    ".sadfix",
    ".tox",
    ".mypy_cache",
];

/// A file's bytes, read once for every pass a scan or a patch makes over it, or why they could
/// not be read.
pub struct FileBytes {
    pub path: PathBuf,
    pub bytes: Result<Vec<u8>, String>,
}

/// Read `files` on all cores, in their order.
pub fn read_all(files: Vec<PathBuf>) -> Vec<FileBytes> {
    crate::parallel::map(files, &|path: PathBuf| FileBytes {
        bytes: std::fs::read(&path).map_err(|e| e.to_string()),
        path,
    })
}

/// Every `*.py` file under `root`, sorted, skipping `SKIPPED_DIRS` and any directory holding a
/// `pyvenv.cfg` (a venv under another name).
pub fn python_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skip = entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n));
                if !skip && !path.join("pyvenv.cfg").exists() {
                    stack.push(path);
                }
            } else if (kind.is_file() || kind.is_symlink() && path.is_file())
                && path.extension().is_some_and(|e| e == "py")
            {
                // A link to a file is followed (patch edits its target); a link to a
                // directory is not, so a loop cannot trap the walk.
                out.push(path);
            }
        }
    }
    out.sort();
    one_name_per_file(out)
}

/// A file reached through a link and by its own name is listed once, by the name that sorts
/// first, so a patch never edits it twice.
fn one_name_per_file(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let linked = files.iter().any(|f| f.is_symlink());
    if !linked {
        return files;
    }
    let mut seen = std::collections::HashSet::new();
    files
        .into_iter()
        .filter(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn skips_environments_and_vcs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for dir in [
            "src",
            "venv/lib",
            ".git",
            "env/lib/site-packages",
            "myenv",
            "node_modules/x",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("myenv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        for file in [
            "inference.py",
            "src/a.py",
            "src/notes.txt",
            "venv/lib/b.py",
            "env/lib/site-packages/c.py",
            "myenv/d.py",
            "node_modules/x/e.py",
        ] {
            fs::write(root.join(file), "").unwrap();
        }
        let found: Vec<_> = python_files(root)
            .into_iter()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            found,
            vec![PathBuf::from("inference.py"), PathBuf::from("src/a.py")]
        );
    }
}
