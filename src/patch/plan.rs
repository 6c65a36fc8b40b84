//! Preparing a patch: every file is analysed, fixed in memory and verified (re-parse, then
//! `py_compile`) before anything is written, so a patch is all or nothing.

use super::catalog;
use super::engine;
use super::error::PatchError;
use super::gate::Installed;
use super::judge;
use super::matcher::worth_querying;
use super::options::PatchOptions;
use super::recipe::{Applicability, Catalog, Recipe, RecipeErrors};
use super::rule::Scope;
use super::scan::{analyze_files, Broken, FileOutcome, Unparsed};
use super::site::Site;
use super::verify::{self, Compiled};
use crate::install::files::read_all;
use crate::install::{python_files, Install};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One applied (or skipped) fix, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixSummary {
    pub file: PathBuf,
    pub line: usize,
    pub recipe: String,
    pub applicability: Applicability,
}

/// One file's change: the bytes before and after.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub rel: PathBuf,
    pub path: PathBuf,
    pub original: Vec<u8>,
    pub result: Vec<u8>,
    /// The texts without a BOM, for the diff.
    pub before: String,
    pub after: String,
    pub fixes: Vec<FixSummary>,
}

/// A verified patch, ready to write.
#[derive(Debug, Clone)]
pub struct Plan {
    pub changes: Vec<FileChange>,
    /// Every listed site, for reporting what is not (or already) edited.
    pub sites: Vec<Site>,
    /// Fixes left out: overlapping an earlier fix, display-only, or not placeable.
    pub skipped: Vec<FixSummary>,
    /// Files no requested recipe could touch that do not parse.
    pub unparsed: Vec<Unparsed>,
    pub compiled: Compiled,
}

/// Prepare and verify the patch `options` ask for.
pub fn plan(install: &Install, options: &PatchOptions) -> Result<Plan, PatchError> {
    plan_with(
        catalog::for_options(options),
        catalog::needles(),
        install,
        options,
    )
}

/// `plan` with the compat gates judged on `installed` (the install's own files only; see
/// `site_packages::plan` for the files outside).
pub fn plan_gated(
    install: &Install,
    options: &PatchOptions,
    installed: &Installed,
) -> Result<Plan, PatchError> {
    plan_install(
        catalog::for_options(options),
        catalog::needles(),
        install,
        options,
        installed,
    )
}

/// `plan` with a given way to load the recipes and their needles.
pub fn plan_with<'c>(
    load: impl FnOnce() -> Result<&'c Catalog, RecipeErrors> + Send,
    needles: &[String],
    install: &Install,
    options: &PatchOptions,
) -> Result<Plan, PatchError> {
    plan_install(load, needles, install, options, &Installed::default())
}

/// A plan of the install's own files, its compat gates judged on `installed`.
fn plan_install<'c>(
    load: impl FnOnce() -> Result<&'c Catalog, RecipeErrors> + Send,
    needles: &[String],
    install: &Install,
    options: &PatchOptions,
    installed: &Installed,
) -> Result<Plan, PatchError> {
    let files = python_files(&install.root);
    let target = Target {
        root: &install.root,
        files: &files,
        scope: Scope::Install,
    };
    plan_files(load, needles, &target, options, installed)
}

/// The files one plan looks at: the install's, or the listed files of site-packages.
pub struct Target<'a> {
    pub root: &'a std::path::Path,
    pub files: &'a [PathBuf],
    pub scope: Scope,
}

/// Prepare and verify a patch of `target`'s files; compat fixes are kept only where their
/// gates hold for `installed` (and only for recipes of the target's scope).
pub fn plan_files<'c>(
    load: impl FnOnce() -> Result<&'c Catalog, RecipeErrors> + Send,
    needles: &[String],
    target: &Target<'_>,
    options: &PatchOptions,
    installed: &Installed,
) -> Result<Plan, PatchError> {
    let root = target.root;
    let files = read_all(target.files.to_vec());
    let (catalog, results) = analyze_files(load, needles, root, &files, options, true)?;
    let wanted: Vec<&Recipe> = catalog
        .recipes
        .iter()
        .filter(|r| r.option.is_some_and(|o| options.wants(o)) && r.scope == target.scope)
        .collect();
    let mut plan = Plan {
        changes: Vec::new(),
        sites: Vec::new(),
        skipped: Vec::new(),
        unparsed: Vec::new(),
        compiled: Compiled::Yes,
    };
    for (rel, outcome) in results {
        let path = root.join(&rel);
        let (boxed, mut analysis) = match outcome {
            FileOutcome::Skipped => continue,
            FileOutcome::Broken(why) => {
                refuse_if_wanted(&wanted, &path, &rel, &why)?;
                plan.unparsed.push(Unparsed {
                    file: rel,
                    line: why.line(),
                    reason: why.to_string(),
                });
                continue;
            }
            FileOutcome::Analyzed(boxed, analysis) => (boxed, analysis),
        };
        let (original, partial) = *boxed;
        judge::keep_needed(catalog, &mut analysis.fixes, installed, target.scope);
        if analysis.fixes.is_empty() {
            judge::judge_sites(catalog, &mut analysis.sites, installed);
            plan.sites.extend(analysis.sites);
            continue;
        }
        // Only the statements around needle hits were parsed; a file to be rewritten is parsed
        // whole (the helper goes after its imports, and it must parse everywhere).
        let src = partial.reparse(partial.text.clone());
        if let Some(at) = src.syntax_error() {
            return Err(PatchError::Unparsable {
                file: rel,
                line: at.line,
                column: at.column,
            });
        }
        let mut analysis = engine::analyze(catalog, &src, &rel, options);
        judge::keep_needed(catalog, &mut analysis.fixes, installed, target.scope);
        judge::judge_sites(catalog, &mut analysis.sites, installed);
        plan.sites.extend(analysis.sites);
        let applied = engine::fix(&src, analysis.fixes);
        let summary = |f: &super::edit::Fix| FixSummary {
            file: rel.clone(),
            line: f.line,
            recipe: f.recipe.clone(),
            applicability: f.applicability,
        };
        plan.skipped.extend(applied.skipped.iter().map(summary));
        if applied.text == src.text {
            continue;
        }
        let fixed = src.reparse(applied.text);
        verify::parses(&rel, &fixed)?;
        plan.changes.push(FileChange {
            fixes: applied.applied.iter().map(summary).collect(),
            result: fixed.to_bytes(),
            before: src.text,
            after: fixed.text,
            original,
            path,
            rel,
        });
    }
    super::mover::name_callers(root, &files, &mut plan.sites);
    let results: Vec<(PathBuf, Vec<u8>)> = plan
        .changes
        .iter()
        .map(|c| (c.rel.clone(), c.result.clone()))
        .collect();
    plan.compiled = verify::compiles(&results).map_err(|e| blame_the_input(&plan, e))?;
    Ok(plan)
}

/// A result Python rejects is sadfix's bug only when Python accepted the file before: an input
/// that tree-sitter parses but Python does not (a lone CR before a control character, a BOM
/// after the first line) is refused as it is.
fn blame_the_input(plan: &Plan, error: PatchError) -> PatchError {
    let PatchError::BadResult { file, .. } = &error else {
        return error;
    };
    let Some(change) = plan.changes.iter().find(|c| &c.rel == file) else {
        return error;
    };
    match verify::compiles(&[(change.rel.clone(), change.original.clone())]) {
        Err(PatchError::BadResult { file, reason }) => PatchError::DoesNotCompile { file, reason },
        _ => error,
    }
}

/// A broken file that a requested recipe could touch blocks the whole patch.
fn refuse_if_wanted(
    wanted: &[&Recipe],
    path: &std::path::Path,
    rel: &std::path::Path,
    why: &Broken,
) -> Result<(), PatchError> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if !wanted.iter().any(|r| worth_querying(r, &text)) {
        return Ok(());
    }
    Err(match why {
        Broken::Syntax(at) => PatchError::Unparsable {
            file: rel.to_path_buf(),
            line: at.line,
            column: at.column,
        },
        Broken::NotUtf8(offset) => PatchError::NotUtf8 {
            file: rel.to_path_buf(),
            offset: *offset,
        },
        Broken::Unreadable(e) => PatchError::io(path, std::io::Error::other(e.clone())),
    })
}
