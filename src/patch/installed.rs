//! Reading what the install's Python has installed, for the compat gates, without starting it:
//! its `sys.path` from its layout, versions from package metadata, package directories by name
//! (`install::packages`). Only an interpreter the layout cannot tell about (a pyenv shim, a
//! script) is asked once for its `sys.path`, with a deadline.

use super::gate::Installed;
use crate::doctor::probe::{run_sys_path, FactsProbe, ProbeOutcome};
use crate::install::packages::{self, LayoutError, SysPath};
use crate::install::{choose_python, Install};
use std::path::{Path, PathBuf};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

/// Why the versions could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InstalledError {
    #[error("no Python found for the install (no venv, $VIRTUAL_ENV, $CONDA_PREFIX or python3 on PATH); pass --python PATH")]
    NoPython,
    #[error("cannot read the package versions with {python}: {reason}; check it with `sadfix doctor --python {python}`")]
    Probe { python: PathBuf, reason: String },
}

/// The packages of `flag` or the install's Python (same discovery as doctor).
pub fn read(install: &Install, flag: Option<&Path>) -> Result<Installed, InstalledError> {
    let env = |k: &str| std::env::var(k).ok();
    let choice = choose_python(flag, Some(install), &env).ok_or(InstalledError::NoPython)?;
    let python = choice.path;
    let (path, how) = match packages::sys_path(&python, &install.root, &env) {
        Ok(path) => (path, "read from disk"),
        Err(why @ (LayoutError::Script(_) | LayoutError::NoLib(_))) => {
            let path = ask(&python, &install.root).map_err(|reason| InstalledError::Probe {
                python: python.clone(),
                reason: format!("{why}, and asking it failed: {reason}"),
            })?;
            (path, "sys.path asked of the interpreter")
        }
    };
    Ok(from_sys_path(&path, &python, how))
}

/// What the gates read, from `path`.
pub fn from_sys_path(path: &SysPath, python: &Path, how: &str) -> Installed {
    Installed {
        source: format!("{} (package metadata, {how})", python.display()),
        python_version: path.version.clone(),
        python: Some(python.to_path_buf()),
        versions: packages::versions(&path.dirs, packages::PACKAGES),
        dirs: packages::PACKAGE_DIRS
            .iter()
            .filter_map(|name| Some((name.to_string(), packages::package_dir(&path.dirs, name)?)))
            .collect(),
    }
}

/// `sys.path` of an interpreter its layout does not show (one start, bounded).
fn ask(python: &Path, cwd: &Path) -> Result<SysPath, String> {
    match run_sys_path(python, cwd, TIMEOUT) {
        ProbeOutcome::Done { result, .. } => Ok(SysPath {
            version: Some(result.version).filter(|v| !v.is_empty()),
            dirs: result
                .sys_path
                .iter()
                .map(|p| {
                    if p.is_empty() {
                        cwd.to_path_buf()
                    } else {
                        PathBuf::from(p)
                    }
                })
                .collect(),
        }),
        ProbeOutcome::TimedOut { after, .. } => {
            Err(format!("it did not answer within {} s", after.as_secs()))
        }
        ProbeOutcome::Interrupted { signal, .. } => Err(format!(
            "sadfix was interrupted (signal {signal}) while it asked"
        )),
        ProbeOutcome::Failed { reason, .. } | ProbeOutcome::NotRun { reason } => Err(reason),
    }
}

/// What doctor's facts probe of `python` found, as the gates read it.
pub fn from_facts(facts: &FactsProbe, python: &Path) -> Installed {
    Installed {
        source: format!("{} (package metadata)", python.display()),
        python_version: Some(facts.python.version.clone()).filter(|v| !v.is_empty()),
        python: Some(python.to_path_buf()),
        versions: facts.packages.clone(),
        dirs: facts
            .package_dirs
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), PathBuf::from(v.as_ref()?))))
            .collect(),
    }
}
