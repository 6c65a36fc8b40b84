//! Reading what the install's Python has installed, for the compat gates: the doctor's facts
//! probe (versions from package metadata, package directories by `find_spec`, nothing imported).

use super::gate::Installed;
use crate::doctor::probe::{run_facts, FactsProbe, ProbeOutcome};
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
    let facts = match run_facts(&python, &install.root, TIMEOUT) {
        ProbeOutcome::Done { result, .. } => result,
        ProbeOutcome::TimedOut { after, .. } => {
            return Err(InstalledError::Probe {
                python,
                reason: format!("it did not answer within {} s", after.as_secs()),
            })
        }
        ProbeOutcome::Interrupted { signal, .. } => {
            return Err(InstalledError::Probe {
                python,
                reason: format!("sadfix was interrupted (signal {signal}) while it read them"),
            })
        }
        ProbeOutcome::Failed { reason, .. } | ProbeOutcome::NotRun { reason } => {
            return Err(InstalledError::Probe { python, reason })
        }
    };
    Ok(from_facts(&facts, &python))
}

/// What the facts probe of `python` found, as the gates read it.
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
