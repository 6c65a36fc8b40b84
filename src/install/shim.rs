//! Version managers' shims in front of Python (pyenv's `~/.pyenv/shims/python3`, asdf's, mise's)
//! resolved once to the interpreter they would run, so that every later start of Python skips
//! the shell script. pyenv's choice is read from its own files without running anything
//! (`$PYENV_VERSION`, `.python-version` walking up, `$(pyenv root)/version`); another manager's
//! shim is run once, with a deadline, to ask it for `sys.executable`. Any other script (a wrapper
//! that may set variables first) is left as the interpreter.

use super::which::find_on_path_except;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a shim that has to be run may take to name its interpreter.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);

/// What kind of shim stood in front of the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShimKind {
    /// A pyenv shim, resolved from pyenv's version files.
    Pyenv,
    /// Another script, run once to ask it for `sys.executable`.
    Script,
}

/// A shim and what it was resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shim {
    /// The script that was chosen first (and is no longer run).
    pub path: PathBuf,
    pub kind: ShimKind,
    /// Where the answer came from, e.g. "pyenv version 3.10.13 from /x/.python-version".
    pub resolved_by: String,
}

/// The result of looking at a chosen interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Not a script: the interpreter itself.
    Interpreter,
    /// A shim and the interpreter behind it.
    Resolved { python: PathBuf, shim: Shim },
    /// A shim that could not be resolved; the shim stays the interpreter, with this reason.
    Unresolved { shim: Shim },
}

/// Look at `python`: when it is a script, find the interpreter it runs. `dir` is where Python
/// will be started (pyenv reads `.python-version` from there up); `env` reads variables.
pub fn resolve(python: &Path, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Resolution {
    let Some(text) = script_text(python) else {
        return Resolution::Interpreter;
    };
    if let Some(root) = pyenv_root(python, &text, env) {
        match pyenv_resolve(python, &root, dir, env) {
            Ok((real, resolved_by)) => {
                return Resolution::Resolved {
                    python: real,
                    shim: Shim {
                        path: python.to_path_buf(),
                        kind: ShimKind::Pyenv,
                        resolved_by,
                    },
                }
            }
            Err(why) => {
                return Resolution::Unresolved {
                    shim: Shim {
                        path: python.to_path_buf(),
                        kind: ShimKind::Pyenv,
                        resolved_by: why,
                    },
                }
            }
        }
    }
    if is_version_manager_shim(python, &text) {
        return run_script(python, dir);
    }
    // Any other script may set up the environment (a library path, variables) before it starts
    // Python: it is run as it is, every time.
    Resolution::Interpreter
}

/// A version manager's shim (asdf, mise, a `shims/` folder): a script that only picks an
/// interpreter, so starting that interpreter directly is the same.
fn is_version_manager_shim(path: &Path, text: &str) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "shims")
        || text.contains("asdf exec")
        || text.contains("mise x")
        || text.contains("mise exec")
}

/// The start of the file when it is a script (`#!`), not a binary.
fn script_text(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    head.starts_with(b"#!")
        .then(|| String::from_utf8_lossy(&head).into_owned())
}

/// pyenv's root when `shim` is one of its shims: `<root>/shims/<name>` holding `pyenv exec`.
fn pyenv_root(shim: &Path, text: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if !text.contains("pyenv") {
        return None;
    }
    let shims = shim.parent()?;
    if shims.file_name()? != "shims" {
        return None;
    }
    let root = shims.parent()?.to_path_buf();
    // `$PYENV_ROOT` names the same root unless the shim belongs to another one.
    Some(
        env("PYENV_ROOT")
            .map(PathBuf::from)
            .filter(|r| r.join("shims") == shims)
            .unwrap_or(root),
    )
}

/// The interpreter pyenv would run for the shim, and where its version came from.
fn pyenv_resolve(
    shim: &Path,
    root: &Path,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(PathBuf, String), String> {
    let name = shim
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "python".into());
    let (versions, from) = pyenv_versions(root, dir, env);
    for version in &versions {
        if version == "system" {
            let path_var = env("PATH").unwrap_or_default();
            if let Some(real) = find_on_path_except(&name, &path_var, shim.parent()) {
                return Ok((real, format!("pyenv version system (from {from})")));
            }
            continue;
        }
        if let Some(real) = installed_version(root, version, &name) {
            return Ok((real, format!("pyenv version {version} (from {from})")));
        }
    }
    Err(format!(
        "pyenv shim: version {} (from {from}) is not installed under {}/versions",
        versions.join(":"),
        root.display()
    ))
}

/// The versions pyenv selects, in its order: `$PYENV_VERSION`, the nearest `.python-version`
/// from `dir` up (or from `$PYENV_DIR`), `<root>/version`, else `system`.
fn pyenv_versions(
    root: &Path,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Vec<String>, String) {
    if let Some(v) = env("PYENV_VERSION").filter(|v| !v.trim().is_empty()) {
        let list = v.split(':').map(|s| s.trim().to_string()).collect();
        return (list, "$PYENV_VERSION".into());
    }
    let start = env("PYENV_DIR").map_or_else(|| dir.to_path_buf(), PathBuf::from);
    for d in start.ancestors() {
        let file = d.join(".python-version");
        if let Some(list) = version_file(&file) {
            return (list, file.display().to_string());
        }
    }
    let file = root.join("version");
    if let Some(list) = version_file(&file) {
        return (list, file.display().to_string());
    }
    (vec!["system".into()], "no version file".into())
}

/// The names in a pyenv version file: words, `#` comments skipped; `None` when absent or empty.
fn version_file(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let list: Vec<String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect();
    (!list.is_empty()).then_some(list)
}

/// `<root>/versions/<version>/bin/<name>`; a prefix (`3.10`) picks the newest installed match,
/// as pyenv does.
fn installed_version(root: &Path, version: &str, name: &str) -> Option<PathBuf> {
    let versions = root.join("versions");
    let exact = versions.join(version).join("bin").join(name);
    if exact.is_file() {
        return Some(exact);
    }
    let prefix = format!("{version}.");
    let mut matches: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir(&versions)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let rest = n.strip_prefix(&prefix)?;
            let key: Option<Vec<u64>> = std::iter::once(version)
                .chain(rest.split('.'))
                .flat_map(|part| part.split('.'))
                .map(|p| p.parse().ok())
                .collect();
            let bin = e.path().join("bin").join(name);
            Some((key?, bin)).filter(|(_, b)| b.is_file())
        })
        .collect();
    matches.sort();
    matches.pop().map(|(_, bin)| bin)
}

/// Run a script once, in its own process group with a deadline, to ask which interpreter it is.
fn run_script(script: &Path, dir: &Path) -> Resolution {
    let mut cmd = Command::new(script);
    cmd.args(["-c", "import sys; print(sys.executable)"])
        .current_dir(dir);
    let shim = |resolved_by: String| Shim {
        path: script.to_path_buf(),
        kind: ShimKind::Script,
        resolved_by,
    };
    let done = match crate::process::run_bounded(cmd, RUN_TIMEOUT, Duration::from_secs(1)) {
        Ok(done) => done,
        Err(e) => {
            return Resolution::Unresolved {
                shim: shim(format!("could not run the script: {e}")),
            }
        }
    };
    let out = String::from_utf8_lossy(&done.stdout).trim().to_string();
    let real = PathBuf::from(&out);
    if done.success() && real.is_absolute() && real.is_file() {
        Resolution::Resolved {
            python: real,
            shim: shim(format!(
                "a script; ran it once and it named {out} ({} ms)",
                done.elapsed.as_millis()
            )),
        }
    } else {
        let why = if done.timed_out() {
            format!("did not answer within {} s", RUN_TIMEOUT.as_secs())
        } else {
            format!("did not name an interpreter ({:?})", done.ending)
        };
        Resolution::Unresolved {
            shim: shim(format!("a script that {why}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    const PYENV_SHIM: &str = "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${0##*/}\"\n\nexport PYENV_ROOT=\"/x\"\nexec \"/x/libexec/pyenv\" exec \"$program\" \"$@\"\n";

    fn executable(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pyenv root with a shim and the given installed versions.
    fn pyenv(versions: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let shim = tmp.path().join("pyenv/shims/python3");
        executable(&shim, PYENV_SHIM);
        for v in versions {
            executable(
                &tmp.path().join(format!("pyenv/versions/{v}/bin/python3")),
                "\x7fELF",
            );
        }
        (tmp, shim)
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_binary_is_the_interpreter() {
        let tmp = tempfile::tempdir().unwrap();
        let python = tmp.path().join("python3");
        executable(&python, "\x7fELF\x02\x01");
        assert_eq!(
            resolve(&python, tmp.path(), &no_env),
            Resolution::Interpreter
        );
    }

    #[test]
    fn pyenv_version_wins_over_files_and_python_version_over_the_global_file() {
        let (tmp, shim) = pyenv(&["3.8.18", "3.10.13", "3.11.7"]);
        let root = tmp.path().join("pyenv");
        fs::write(root.join("version"), "3.11.7\n").unwrap();
        let project = tmp.path().join("SadTalker/src");
        fs::create_dir_all(&project).unwrap();
        fs::write(
            tmp.path().join("SadTalker/.python-version"),
            "# for SadTalker\n3.8.18\n",
        )
        .unwrap();

        let from_env = |v: &str| (v == "PYENV_VERSION").then(|| "3.10.13".to_string());
        let Resolution::Resolved { python, shim: s } = resolve(&shim, &project, &from_env) else {
            panic!("not resolved")
        };
        assert_eq!(python, root.join("versions/3.10.13/bin/python3"));
        assert_eq!(s.kind, ShimKind::Pyenv);
        assert_eq!(s.resolved_by, "pyenv version 3.10.13 (from $PYENV_VERSION)");

        let Resolution::Resolved { python, shim: s } = resolve(&shim, &project, &no_env) else {
            panic!("not resolved")
        };
        assert_eq!(python, root.join("versions/3.8.18/bin/python3"));
        assert!(
            s.resolved_by.ends_with("SadTalker/.python-version)"),
            "{s:?}"
        );

        let Resolution::Resolved { python, .. } = resolve(&shim, tmp.path(), &no_env) else {
            panic!("not resolved")
        };
        assert_eq!(python, root.join("versions/3.11.7/bin/python3"));
    }

    #[test]
    fn a_version_prefix_picks_the_newest_match_and_a_missing_version_is_said() {
        let (tmp, shim) = pyenv(&["3.10.4", "3.10.13", "3.1.2"]);
        let env = |v: &str| (v == "PYENV_VERSION").then(|| "3.10".to_string());
        let Resolution::Resolved { python, .. } = resolve(&shim, tmp.path(), &env) else {
            panic!("not resolved")
        };
        assert!(
            python.ends_with("versions/3.10.13/bin/python3"),
            "{python:?}"
        );

        let env = |v: &str| (v == "PYENV_VERSION").then(|| "3.12.1".to_string());
        let Resolution::Unresolved { shim: s } = resolve(&shim, tmp.path(), &env) else {
            panic!("resolved a version that is not installed")
        };
        assert!(s.resolved_by.contains("3.12.1"), "{s:?}");
        assert!(s.resolved_by.contains("not installed"), "{s:?}");
    }

    #[test]
    fn pyenv_system_is_the_next_python_on_path_after_the_shims() {
        let (tmp, shim) = pyenv(&[]);
        let system = tmp.path().join("usr/bin/python3");
        executable(&system, "\x7fELF");
        let path_var = format!(
            "{}:{}",
            shim.parent().unwrap().display(),
            system.parent().unwrap().display()
        );
        let env = move |v: &str| (v == "PATH").then(|| path_var.clone());
        let Resolution::Resolved { python, shim: s } = resolve(&shim, tmp.path(), &env) else {
            panic!("not resolved")
        };
        assert_eq!(python, system);
        assert_eq!(s.resolved_by, "pyenv version system (from no version file)");
    }

    #[test]
    fn another_managers_shim_is_run_once_and_a_plain_wrapper_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real/python3");
        // The "interpreter" answers the one question the resolver asks.
        executable(&real, "#!/bin/sh\necho \"$0\"\n");
        let exec_real = format!("#!/bin/sh\nexec {} \"$@\"\n", real.display());
        let shim = tmp.path().join("asdf/shims/python3");
        executable(&shim, &exec_real);
        let Resolution::Resolved { python, shim: s } = resolve(&shim, tmp.path(), &no_env) else {
            panic!("not resolved")
        };
        assert_eq!(python, real);
        assert_eq!(s.kind, ShimKind::Script);
        assert!(s.resolved_by.starts_with("a script; ran it once"), "{s:?}");

        // A wrapper elsewhere may export variables first: it stays what is run.
        let wrapper = tmp.path().join("bin/python3");
        executable(&wrapper, &exec_real);
        assert_eq!(
            resolve(&wrapper, tmp.path(), &no_env),
            Resolution::Interpreter
        );

        let broken = tmp.path().join("broken/shims/python3");
        executable(&broken, "#!/bin/sh\nexit 3\n");
        assert!(matches!(
            resolve(&broken, tmp.path(), &no_env),
            Resolution::Unresolved { .. }
        ));
    }
}
