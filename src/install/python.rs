//! Which Python runs SadTalker, in this order: `--python`; a venv in the install or its host
//! (walking up); the environment sadfix itself is installed in (its executable sits in a venv's
//! or conda env's `bin/` next to a `python`; uv's and pipx's own tool environments excepted);
//! `$VIRTUAL_ENV`; `$CONDA_PREFIX`; then `python3` on PATH. A shim (pyenv's, or any script) is
//! then resolved to the interpreter behind it. The choice carries its origin and reason.

use super::shim::{self, Resolution, Shim};
use super::which::find_on_path;
use super::Install;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a Python was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PythonSource {
    Flag,
    InstallVenv,
    /// The environment whose `bin/` holds sadfix's own executable (pip installed it there).
    SadfixVenv,
    VirtualEnv,
    CondaPrefix,
    Path,
}

/// The interpreter to use: a path and where it came from. `path` is what is started (a shim's
/// real interpreter once resolved); `shim` names the script that stood in front of it.
#[derive(Debug, Clone, Serialize)]
pub struct PythonChoice {
    pub path: PathBuf,
    pub source: PythonSource,
    /// One line for the report, e.g. "venv found at /x/venv".
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shim: Option<Shim>,
}

/// What the choice depends on besides the flag and the install: environment variables, sadfix's
/// own executable and the directory Python will start in. Tests build one by hand.
pub struct Surroundings<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// sadfix's executable with symlinks resolved (`/proc/self/exe`).
    pub own_exe: Option<PathBuf>,
    /// Where shims read their version files from when no install is given.
    pub cwd: Option<PathBuf>,
}

impl<'a> Surroundings<'a> {
    /// This process's surroundings, variables read through `env`.
    pub fn current(env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Surroundings {
            env,
            own_exe: std::env::current_exe().ok(),
            cwd: std::env::current_dir().ok(),
        }
    }
}

/// Choose the interpreter for this process. `env` looks up environment variables.
pub fn choose_python(
    flag: Option<&Path>,
    install: Option<&Install>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PythonChoice> {
    choose_python_in(flag, install, &Surroundings::current(env))
}

/// Choose the interpreter given explicit surroundings, then resolve a shim in front of it.
pub fn choose_python_in(
    flag: Option<&Path>,
    install: Option<&Install>,
    around: &Surroundings,
) -> Option<PythonChoice> {
    let mut choice = first_choice(flag, install, around)?;
    let dir = install
        .map(|i| i.root.clone())
        .or_else(|| around.cwd.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    match shim::resolve(&choice.path, &dir, around.env) {
        Resolution::Interpreter => {}
        Resolution::Resolved { python, shim } => {
            choice.reason = format!(
                "{}; {} is a shim for {}: {}",
                choice.reason,
                shim.path.display(),
                python.display(),
                shim.resolved_by
            );
            choice.path = python;
            choice.shim = Some(shim);
        }
        Resolution::Unresolved { shim } => {
            choice.reason = format!(
                "{}; {} is a shim left unresolved: {}",
                choice.reason,
                shim.path.display(),
                shim.resolved_by
            );
            choice.shim = Some(shim);
        }
    }
    Some(choice)
}

fn first_choice(
    flag: Option<&Path>,
    install: Option<&Install>,
    around: &Surroundings,
) -> Option<PythonChoice> {
    let env = around.env;
    let choice = |path: PathBuf, source, reason: String| PythonChoice {
        path,
        source,
        reason,
        shim: None,
    };
    if let Some(path) = flag {
        return Some(choice(
            path.to_path_buf(),
            PythonSource::Flag,
            "given with --python".into(),
        ));
    }
    if let Some(install) = install {
        let top = install.host.as_deref().unwrap_or(&install.root);
        for dir in install.root.ancestors() {
            for venv in ["venv", ".venv"] {
                if let Some(python) = venv_python(&dir.join(venv)) {
                    return Some(choice(
                        python,
                        PythonSource::InstallVenv,
                        format!("virtual environment at {}", dir.join(venv).display()),
                    ));
                }
            }
            if dir == top {
                break;
            }
        }
    }
    if let Some((prefix, python)) = around.own_exe.as_deref().and_then(own_environment) {
        return Some(choice(
            python,
            PythonSource::SadfixVenv,
            format!(
                "sadfix is installed in the environment at {}",
                prefix.display()
            ),
        ));
    }
    for (var, source) in [
        ("VIRTUAL_ENV", PythonSource::VirtualEnv),
        ("CONDA_PREFIX", PythonSource::CondaPrefix),
    ] {
        if let Some(prefix) = env(var).filter(|v| !v.is_empty()) {
            if let Some(python) = venv_python(Path::new(&prefix)) {
                return Some(choice(python, source, format!("${var} is {prefix}")));
            }
        }
    }
    let path_var = env("PATH").unwrap_or_default();
    find_on_path("python3", &path_var).map(|path| {
        let reason = format!("python3 on PATH ({})", path.display());
        choice(path, PythonSource::Path, reason)
    })
}

/// The environment holding sadfix's executable, and its Python: `<prefix>/bin/sadfix` next to
/// `<prefix>/bin/python`, where `<prefix>` is a venv (`pyvenv.cfg`) or a conda env
/// (`conda-meta/`). uv's and pipx's tool environments hold sadfix alone, not SadTalker's
/// packages, so they do not count.
fn own_environment(exe: &Path) -> Option<(PathBuf, PathBuf)> {
    let bin = exe.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let prefix = bin.parent()?;
    let is_env = prefix.join("pyvenv.cfg").is_file() || prefix.join("conda-meta").is_dir();
    let is_tool =
        prefix.join("uv-receipt.toml").is_file() || prefix.join("pipx_metadata.json").is_file();
    if !is_env || is_tool {
        return None;
    }
    ["python", "python3"]
        .iter()
        .map(|name| bin.join(name))
        .find(|p| p.is_file())
        .map(|python| (prefix.to_path_buf(), python))
}

/// The interpreter inside an environment prefix (venv or conda), if there is one.
fn venv_python(prefix: &Path) -> Option<PathBuf> {
    ["bin/python", "bin/python3", "Scripts/python.exe", "python"]
        .iter()
        .map(|rel| prefix.join(rel))
        .find(|p| p.is_file())
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

    fn around<'a>(env: &'a dyn Fn(&str) -> Option<String>, exe: Option<&Path>) -> Surroundings<'a> {
        Surroundings {
            env,
            own_exe: exe.map(Path::to_path_buf),
            cwd: None,
        }
    }

    /// A venv (`pyvenv.cfg`, `bin/python`) with sadfix in its `bin/`; returns sadfix's path.
    fn venv_with_sadfix(prefix: &Path) -> PathBuf {
        fs::create_dir_all(prefix.join("bin")).unwrap();
        fs::write(prefix.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        fs::write(prefix.join("bin/python"), "\x7fELF").unwrap();
        fs::write(prefix.join("bin/sadfix"), "\x7fELF").unwrap();
        prefix.join("bin/sadfix")
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
        let choice = choose_python_in(None, None, &around(&env, None)).unwrap();
        assert_eq!(choice.source, PythonSource::CondaPrefix);

        let none = |_: &str| None;
        assert!(choose_python_in(None, None, &around(&none, None)).is_none());
    }

    #[test]
    fn sadfixs_own_venv_comes_after_flag_and_install_venv_and_before_the_variables() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = venv_with_sadfix(&tmp.path().join("sad-venv"));
        let other = tmp.path().join("other");
        fs::create_dir_all(other.join("bin")).unwrap();
        fs::write(other.join("bin/python"), "\x7fELF").unwrap();
        let other_str = other.to_string_lossy().to_string();
        let env = move |var: &str| {
            matches!(var, "VIRTUAL_ENV" | "CONDA_PREFIX").then(|| other_str.clone())
        };
        let here = around(&env, Some(&exe));

        let choice = choose_python_in(None, None, &here).unwrap();
        assert_eq!(choice.source, PythonSource::SadfixVenv);
        assert_eq!(choice.path, tmp.path().join("sad-venv/bin/python"));
        assert!(choice.reason.contains("sad-venv"), "{}", choice.reason);

        let flag = tmp.path().join("flag-python");
        let choice = choose_python_in(Some(&flag), None, &here).unwrap();
        assert_eq!(choice.source, PythonSource::Flag);

        let root = tmp.path().join("SadTalker");
        fs::create_dir_all(root.join("venv/bin")).unwrap();
        fs::write(root.join("venv/bin/python"), "\x7fELF").unwrap();
        let install = Install {
            root: root.clone(),
            layout: Layout::Standalone,
            host: None,
        };
        let choice = choose_python_in(None, Some(&install), &here).unwrap();
        assert_eq!(choice.source, PythonSource::InstallVenv);
    }

    #[test]
    fn tool_environments_and_plain_bin_directories_are_not_sadfixs_venv() {
        let tmp = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        for marker in ["uv-receipt.toml", "pipx_metadata.json"] {
            let prefix = tmp.path().join(marker);
            let exe = venv_with_sadfix(&prefix);
            fs::write(prefix.join(marker), "").unwrap();
            assert!(choose_python_in(None, None, &around(&none, Some(&exe))).is_none());
        }
        // /usr/local/bin/sadfix next to /usr/local/bin/python3 is no environment.
        let usr = tmp.path().join("usr-local");
        let exe = venv_with_sadfix(&usr);
        fs::remove_file(usr.join("pyvenv.cfg")).unwrap();
        assert!(choose_python_in(None, None, &around(&none, Some(&exe))).is_none());
    }
}
