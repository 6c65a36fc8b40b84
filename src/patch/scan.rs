//! Scanning an install: every Python file that mentions a recipe's needle is parsed (in
//! parallel) and run through the recipes. `doctor` calls `scan_install` too.

use super::catalog;
use super::engine::{self, Analysis};
use super::options::PatchOptions;
use super::outline;
use super::prefilter;
use super::recipe::{Catalog, RecipeErrors};
use super::site::Site;
use super::source::{Source, SyntaxErrorAt};
use crate::install::files::{read_all, FileBytes};
use crate::install::{python_files, Install};
use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the shipped recipes are invalid (a bug in sadfix; please report it): {0}")]
    Recipes(#[from] RecipeErrors),
}

/// A file the scan could not read as Python.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unparsed {
    pub file: PathBuf,
    /// 1-based line of the first syntax error; 0 when the file is not UTF-8 or unreadable.
    pub line: usize,
    pub reason: String,
}

/// Everything `scan` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub sites: Vec<Site>,
    /// Files skipped because they do not parse: their sites are unknown.
    pub unparsed: Vec<Unparsed>,
}

/// Every device-selection and batch-size site in the install, sorted by file and line.
pub fn scan_install(install: &Install) -> Result<Vec<Site>, ScanError> {
    Ok(scan_report(install)?.sites)
}

/// The sites of the recipes `keep(id, kind)` selects only: the others are never compiled
/// (`doctor` needs the device and batch-size sites and a few compat ones).
pub fn scan_install_where(
    install: &Install,
    keep: &dyn Fn(&str, &str) -> bool,
) -> Result<Vec<Site>, ScanError> {
    Ok(scan_where(install, keep)?.0.sites)
}

/// `scan_install` plus the files that could not be parsed.
pub fn scan_report(install: &Install) -> Result<ScanReport, ScanError> {
    Ok(scan_with_catalog(install)?.0)
}

/// `scan_report`, with the catalog it matched with (every recipe a site names is in it).
pub fn scan_with_catalog(
    install: &Install,
) -> Result<(ScanReport, &'static super::recipe::Catalog), ScanError> {
    scan_where(install, &|_, _| true)
}

fn scan_where(
    install: &Install,
    keep: &dyn Fn(&str, &str) -> bool,
) -> Result<(ScanReport, &'static super::recipe::Catalog), ScanError> {
    // Each file is read once, while the recipes' YAML is read beside it.
    let (prefilter, files) = std::thread::scope(|scope| {
        let reading = scope.spawn(prefilter::listed);
        let files = read_all(python_files(&install.root));
        (reading.join().expect("reading the recipes panicked"), files)
    });
    let ids = prefilter.recipes_where(&present(&prefilter.strings, &files), keep);
    let (catalog, results) = analyze_files(
        || catalog::for_recipes(&ids),
        catalog::needles(),
        &install.root,
        &files,
        &PatchOptions::default(),
        true,
    )?;
    let mut report = ScanReport::default();
    for (rel, outcome) in results {
        match outcome {
            FileOutcome::Skipped => {}
            FileOutcome::Analyzed(_, analysis) => report.sites.extend(analysis.sites),
            FileOutcome::Broken(why) => report.unparsed.push(Unparsed {
                file: rel,
                line: why.line(),
                reason: why.to_string(),
            }),
        }
    }
    super::mover::name_callers(&install.root, &files, &mut report.sites);
    Ok((report, catalog))
}

/// For each file, which of `strings` it holds (on all cores, one pass per file; a file that
/// could not be read holds none, and is reported by the scan itself).
pub fn present(strings: &[String], files: &[FileBytes]) -> Vec<Vec<bool>> {
    let finder = finder(strings);
    crate::parallel::map(files.iter().collect(), &|file: &FileBytes| {
        let mut found = vec![false; strings.len()];
        let bytes = file.bytes.as_deref().unwrap_or_default();
        for m in finder.find_overlapping_iter(bytes) {
            found[m.pattern().as_usize()] = true;
        }
        found
    })
}

/// One automaton for every needle: a file is searched once for all of them (Aho-Corasick),
/// not once per needle.
fn finder(needles: &[String]) -> AhoCorasick {
    AhoCorasick::new(needles).expect("needles are plain strings")
}

/// Why a file could not be analysed.
#[derive(Debug, Clone)]
pub enum Broken {
    Syntax(SyntaxErrorAt),
    /// The byte offset of the first byte that is not UTF-8.
    NotUtf8(usize),
    Unreadable(String),
}

impl Broken {
    pub fn line(&self) -> usize {
        match self {
            Broken::Syntax(at) => at.line,
            _ => 0,
        }
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Syntax(at) => write!(
                f,
                "does not parse (syntax error at line {}, column {})",
                at.line, at.column
            ),
            Broken::NotUtf8(at) => write!(
                f,
                "is not UTF-8 text (byte {at} is the first that is not); never rewritten"
            ),
            Broken::Unreadable(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

/// One file's fate.
pub enum FileOutcome {
    /// No recipe's needle occurs in it: never parsed.
    Skipped,
    /// Parsed; the original bytes, the source and what the recipes found.
    Analyzed(Box<(Vec<u8>, Source)>, Analysis),
    Broken(Broken),
}

/// A file (relative to the install) and its fate.
pub type FileResult = (PathBuf, FileOutcome);

/// A file after reading and parsing, before matching.
enum Prepared {
    Skipped,
    Parsed(Vec<u8>, Source),
    Broken(Broken),
}

/// Analyse `files` (read, their paths absolute under `root`): prefilter by `needles` and parse
/// them on all cores while `load` validates the recipes alongside, then match. Results keep the order of `files`. With `partial`, only the statements around
/// needle hits are parsed (`outline`): enough to list sites, not to rewrite a file.
pub fn analyze_files<'c>(
    load: impl FnOnce() -> Result<&'c Catalog, RecipeErrors> + Send,
    needles: &[String],
    root: &Path,
    files: &[FileBytes],
    options: &PatchOptions,
    partial: bool,
) -> Result<(&'c Catalog, Vec<FileResult>), RecipeErrors> {
    let finder = finder(needles);
    std::thread::scope(|scope| {
        let loading = scope.spawn(load);
        let prepared = crate::parallel::map(files.iter().collect(), &|file: &FileBytes| {
            let rel = file
                .path
                .strip_prefix(root)
                .unwrap_or(&file.path)
                .to_path_buf();
            (rel, prepare(&finder, file, partial))
        });
        let catalog = loading.join().expect("loading the recipes panicked")?;
        let outcomes = crate::parallel::map(prepared, &|(rel, p): (PathBuf, Prepared)| {
            let outcome = match p {
                Prepared::Skipped => FileOutcome::Skipped,
                Prepared::Broken(why) => FileOutcome::Broken(why),
                Prepared::Parsed(bytes, src) => {
                    let analysis = engine::analyze(catalog, &src, &rel, options);
                    FileOutcome::Analyzed(Box::new((bytes, src)), analysis)
                }
            };
            (rel, outcome)
        });
        Ok((catalog, outcomes))
    })
}

fn prepare(finder: &AhoCorasick, file: &FileBytes, partial: bool) -> Prepared {
    let bytes = match &file.bytes {
        Ok(b) => b,
        Err(e) => return Prepared::Broken(Broken::Unreadable(e.clone())),
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // Only a file a recipe could match is worth a complaint.
        Err(e) => {
            return if finder.is_match(String::from_utf8_lossy(bytes).as_ref()) {
                Prepared::Broken(Broken::NotUtf8(e.valid_up_to()))
            } else {
                Prepared::Skipped
            };
        }
    };
    // Every start of every needle, overlapping ones included, in one pass.
    let mut hits: Vec<usize> = finder
        .find_overlapping_iter(text)
        .map(|m| m.start())
        .collect();
    if hits.is_empty() {
        return Prepared::Skipped;
    }
    if partial {
        // Only the statements around needle hits; anything unexpected means the whole file.
        hits.sort_unstable();
        hits.dedup();
        let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let hits: Vec<usize> = hits
            .into_iter()
            .filter_map(|h| h.checked_sub(offset))
            .collect();
        if let Some(regions) = outline::regions(&text[offset..], &hits) {
            let covered: usize = regions.iter().map(|r| r.len()).sum();
            if covered * 2 < text.len() {
                if let Some(src) = Source::parse_regions(bytes, &regions) {
                    if src.syntax_error().is_none() {
                        return Prepared::Parsed(bytes.to_vec(), src);
                    }
                }
            }
        }
    }
    let src = Source::parse(bytes).expect("checked UTF-8 above");
    match src.syntax_error() {
        Some(at) => Prepared::Broken(Broken::Syntax(at)),
        None => Prepared::Parsed(bytes.to_vec(), src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::site::{default_batch_size, SiteKind};
    use crate::patch::Action;
    use std::fs;

    #[test]
    fn face3d_training_options_are_never_the_batch_size() {
        // SadTalker's own tree has both: inference.py's Face Renderer flag and the 3D face
        // reconstruction's training options (upstream and the sadtalker-z package alike).
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("src/face3d/options")).unwrap();
        fs::create_dir_all(root.join("src/utils")).unwrap();
        fs::write(root.join("src/utils/init_path.py"), "").unwrap();
        let flag = "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--batch_size', type=int, default=BS)\n";
        fs::write(root.join("inference.py"), flag.replace("BS", "2")).unwrap();
        let training = root.join("src/face3d/options/train_options.py");
        fs::write(&training, flag.replace("BS", "32")).unwrap();
        let install = crate::install::locate(Some(root), root).unwrap();
        let sites = scan_install(&install).unwrap();
        assert_eq!(default_batch_size(&sites), Some(2));
        let face3d: Vec<_> = sites
            .iter()
            .filter(|s| s.kind == SiteKind::BatchSize && s.file.starts_with("src/face3d"))
            .collect();
        assert_eq!(face3d.len(), 1);
        assert_eq!(face3d[0].action, Action::ReportOnly);
    }
}
