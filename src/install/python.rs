//! Which Python runs SadTalker: `--python`, a venv in the install or its host (walking up),
//! `$VIRTUAL_ENV`, `$CONDA_PREFIX`, then `python3` on PATH. The choice carries its reason.

use super::Install;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a Python was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PythonSource {
    Flag,
    InstallVenv,
    VirtualEnv,
    CondaPrefix,
    Path,
}

#[derive(Debug, Clone, Serialize)]
pub struct PythonChoice {
    pub path: PathBuf,
    pub source: PythonSource,
    /// One line for the report, e.g. "venv found at /x/venv".
    pub reason: String,
}

/// Choose the interpreter. `env` looks up environment variables (injected for tests).
pub fn choose_python(
    flag: Option<&Path>,
    install: Option<&Install>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PythonChoice> {
    if let Some(path) = flag {
        return Some(PythonChoice {
            path: path.to_path_buf(),
            source: PythonSource::Flag,
            reason: "given with --python".into(),
        });
    }
    if let Some(install) = install {
        let top = install.host.as_deref().unwrap_or(&install.root);
        for dir in install.root.ancestors() {
            for venv in ["venv", ".venv"] {
                if let Some(python) = venv_python(&dir.join(venv)) {
                    return Some(PythonChoice {
                        reason: format!("virtual environment at {}", dir.join(venv).display()),
                        path: python,
                        source: PythonSource::InstallVenv,
                    });
                }
            }
            if dir == top {
                break;
            }
        }
    }
    for (var, source) in [
        ("VIRTUAL_ENV", PythonSource::VirtualEnv),
        ("CONDA_PREFIX", PythonSource::CondaPrefix),
    ] {
        if let Some(prefix) = env(var).filter(|v| !v.is_empty()) {
            if let Some(python) = venv_python(Path::new(&prefix)) {
                return Some(PythonChoice {
                    path: python,
                    source,
                    reason: format!("${var} is {prefix}"),
                });
            }
        }
    }
    let path_var = env("PATH").unwrap_or_default();
    find_on_path("python3", &path_var).map(|path| PythonChoice {
        reason: format!("python3 on PATH ({})", path.display()),
        path,
        source: PythonSource::Path,
    })
}

/// The interpreter inside an environment prefix (venv or conda), if there is one.
fn venv_python(prefix: &Path) -> Option<PathBuf> {
    ["bin/python", "bin/python3", "Scripts/python.exe", "python"]
        .iter()
        .map(|rel| prefix.join(rel))
        .find(|p| p.is_file())
}

/// The first executable `name` on this process's PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH")?;
    find_on_path(name, &path_var.to_string_lossy())
}

/// The first executable `name` in a PATH-style list.
pub fn find_on_path(name: &str, path_var: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::Layout;
    use std::fs;

    fn install_at(root: &Path, host: Option<&Path>) -> Install {
        Install {
            root: root.to_path_buf(),
            layout: Layout::WebuiExtension,
            host: host.map(Path::to_path_buf),
        }
    }

    #[test]
    fn the_host_apps_venv_wins_over_environment_variables() {
        let tmp = tempfile::tempdir().unwrap();
        let host = tmp.path();
        let root = host.join("extensions/SadTalker");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(host.join("venv/bin")).unwrap();
        fs::write(host.join("venv/bin/python"), "").unwrap();
        let env = |var: &str| (var == "VIRTUAL_ENV").then(|| "/elsewhere".to_string());
        let choice = choose_python(None, Some(&install_at(&root, Some(host))), &env).unwrap();
        assert_eq!(choice.source, PythonSource::InstallVenv);
        assert_eq!(choice.path, host.join("venv/bin/python"));
    }

    #[test]
    fn falls_back_to_conda_then_path() {
        let tmp = tempfile::tempdir().unwrap();
        let conda = tmp.path().join("conda");
        fs::create_dir_all(conda.join("bin")).unwrap();
        fs::write(conda.join("bin/python"), "").unwrap();
        let conda_str = conda.to_string_lossy().to_string();
        let env = move |var: &str| (var == "CONDA_PREFIX").then(|| conda_str.clone());
        let choice = choose_python(None, None, &env).unwrap();
        assert_eq!(choice.source, PythonSource::CondaPrefix);

        let none = |_: &str| None;
        assert!(choose_python(None, None, &none).is_none());
    }
}
