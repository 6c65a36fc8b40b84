//! Fixes outside the install: the listed files of the install Python's site-packages (basicsr),
//! planned and verified like the install's own files, journalled with backups under
//! `<install>/.sadfix/site-packages/`, next to a note of which site-packages it was.

use super::apply::commit_at;
use super::catalog;
use super::error::PatchError;
use super::gate::Installed;
use super::options::PatchOptions;
use super::plan::{plan_files, Plan, Target};
use super::rule::Scope;
use crate::install::Install;
use std::path::{Path, PathBuf};

const ROOT_NOTE: &str = "root.txt";

/// A verified plan for files of site-packages.
#[derive(Debug, Clone)]
pub struct SitePlan {
    pub root: PathBuf,
    pub plan: Plan,
}

impl SitePlan {
    /// The plan with every file named by its full path, as reports name files outside the
    /// install.
    pub fn shown(&self) -> Plan {
        let mut shown = self.plan.clone();
        let full = |file: &mut PathBuf| *file = self.root.join(&*file);
        for c in &mut shown.changes {
            full(&mut c.rel);
            c.fixes.iter_mut().for_each(|f| full(&mut f.file));
        }
        shown.sites.iter_mut().for_each(|s| full(&mut s.file));
        shown.skipped.iter_mut().for_each(|f| full(&mut f.file));
        shown.unparsed.iter_mut().for_each(|u| full(&mut u.file));
        shown
    }
}

/// Where the journal of site-packages changes goes.
pub fn state_dir(install: &Install) -> PathBuf {
    install.state_dir().join("site-packages")
}

/// Forget the site-packages of an earlier patch once everything there is reverted.
pub fn forget_if_reverted(install: &Install) {
    let state = state_dir(install);
    if !state.join("journal.json").exists() {
        let _ = std::fs::remove_file(state.join(ROOT_NOTE));
    }
}

/// The site-packages directory and state directory of an earlier `--site-packages` patch.
pub fn recorded(install: &Install) -> Option<(PathBuf, PathBuf)> {
    let state = state_dir(install);
    let root = std::fs::read_to_string(state.join(ROOT_NOTE)).ok()?;
    Some((PathBuf::from(root.trim_end_matches('\n')), state))
}

/// The site-packages holding the packages the site-packages recipes edit (the parent of the
/// first such package's directory).
pub fn root(installed: &Installed) -> Option<PathBuf> {
    catalog::metadata()
        .iter()
        .flat_map(|m| &m.site_packages_files)
        .filter_map(|f| f.split('/').next())
        .find_map(|package| installed.dirs.get(package)?.parent().map(Path::to_path_buf))
}

/// Plan the site-packages fixes `options` ask for; `None` when no such package is installed.
pub fn plan(options: &PatchOptions, installed: &Installed) -> Result<Option<SitePlan>, PatchError> {
    let Some(root) = root(installed) else {
        return Ok(None);
    };
    let mut files: Vec<PathBuf> = catalog::metadata()
        .iter()
        .flat_map(|m| m.site_packages_files.iter().map(|f| root.join(f)))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.dedup();
    let target = Target {
        root: &root,
        files: &files,
        scope: Scope::SitePackages,
    };
    let plan = plan_files(
        catalog::site_packages,
        catalog::needles(),
        &target,
        options,
        installed,
    )?;
    Ok(Some(SitePlan { root, plan }))
}

/// Write a site-packages plan, recording which site-packages it was for `--revert`.
pub fn commit(install: &Install, site: &SitePlan) -> Result<(), PatchError> {
    if site.plan.changes.is_empty() {
        return Ok(());
    }
    let state = state_dir(install);
    let pending = state.join("journal.json").exists();
    if let Some((earlier, _)) = recorded(install).filter(|_| pending) {
        if earlier != site.root {
            return Err(PatchError::OtherSitePackages {
                recorded: earlier,
                now: site.root.clone(),
            });
        }
    }
    commit_at(&state, &site.plan)?;
    let mut note = site.root.to_string_lossy().into_owned();
    note.push('\n');
    super::write::atomic_write(&state.join(ROOT_NOTE), note.as_bytes())
}
