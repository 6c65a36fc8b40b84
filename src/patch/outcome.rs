//! The documents `scan` and `patch` report: plain values that derive Serialize, so they are the
//! JSON schema (and Deserialize, so tests and other tools read them back).

use super::gate::Installed;
use super::pip::{advice, PipAdvice};
use super::plan::{FixSummary, Plan};
use super::revert::RevertOutcome;
use super::scan::{ScanReport, Unparsed};
use super::site::Site;
use crate::install::Install;
use crate::report::SCHEMA_VERSION;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which install was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSummary {
    pub root: PathBuf,
    /// `standalone`, `webui_extension`, `vendored`, `comfy_node` or `cli_wrapper`.
    pub layout: String,
    pub host: Option<PathBuf>,
}

impl From<&Install> for InstallSummary {
    fn from(install: &Install) -> Self {
        let layout = serde_json::to_value(install.layout)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        InstallSummary {
            root: install.root.clone(),
            layout,
            host: install.host.clone(),
        }
    }
}

/// `sadfix scan --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanDocument {
    pub schema_version: u32,
    pub install: InstallSummary,
    pub sites: Vec<Site>,
    pub unparsed: Vec<Unparsed>,
    /// What gated the compat sites; absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<CompatDocument>,
}

/// What the compat gates were judged on, and the version changes no code fix replaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompatDocument {
    /// Where the package versions were read ("/x/venv/bin/python (package metadata)").
    pub packages_from: Option<String>,
    /// Why they could not be read (then no gated fix is applied).
    pub packages_unknown: Option<String>,
    pub pip: Vec<PipAdvice>,
    /// Read, but none of the packages the gates look at is installed there: probably not the
    /// Python SadTalker runs with. The warning, naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrong_python: Option<String>,
}

impl CompatDocument {
    pub fn new(installed: &Installed, unknown: Option<String>) -> Option<Self> {
        Some(CompatDocument {
            packages_from: installed.known().then(|| installed.source.clone()),
            packages_unknown: unknown,
            pip: advice(installed),
            wrong_python: wrong_python(installed),
        })
    }
}

/// The warning when the versions were read and none of the gated packages is there.
fn wrong_python(installed: &Installed) -> Option<String> {
    if !installed.known() {
        return None;
    }
    let mut gated: Vec<&str> = super::catalog::metadata()
        .iter()
        .flat_map(|m| m.gate_packages.iter().map(String::as_str))
        .collect();
    gated.sort_unstable();
    gated.dedup();
    if gated.iter().any(|p| installed.version(p).is_some()) {
        return None;
    }
    let python = installed
        .python
        .as_ref()
        .map_or(installed.source.clone(), |p| p.display().to_string());
    Some(format!(
        "none of the packages the compat fixes depend on ({}) is installed for {python}: it is probably not the Python SadTalker runs with, so every gated fix reads as not needed; pass --python with the interpreter of the venv SadTalker runs in (e.g. venv/bin/python in the install or its host app)",
        gated.join(", ")
    ))
}

impl ScanDocument {
    pub fn with_compat(mut self, compat: Option<CompatDocument>) -> Self {
        self.compat = compat;
        self
    }

    pub fn new(install: &Install, report: ScanReport) -> Self {
        ScanDocument {
            schema_version: SCHEMA_VERSION,
            install: install.into(),
            sites: report.sites,
            unparsed: report.unparsed,
            compat: None,
        }
    }
}

/// How `patch` ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Apply,
    DryRun,
    Check,
}

/// One file `patch` changed (or would change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub file: PathBuf,
    pub fixes: Vec<FixSummary>,
}

/// `sadfix patch --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchDocument {
    pub schema_version: u32,
    pub install: InstallSummary,
    pub mode: Mode,
    /// Whether the files were written (only in `apply` mode, and only when something changed).
    pub written: bool,
    pub changed: Vec<ChangedFile>,
    /// Fixes that were not applied (overlapping another fix, display-only).
    pub skipped: Vec<FixSummary>,
    /// Every site found before patching, with what patch does with it.
    pub sites: Vec<Site>,
    pub unparsed: Vec<Unparsed>,
    /// Whether `python3 -m py_compile` checked the results (false: python3 not on PATH).
    pub compile_checked: bool,
    /// Files outside the install (site-packages, full paths) that `--compat` changes or would
    /// change with `--site-packages`.
    #[serde(default)]
    pub outside: Vec<ChangedFile>,
    /// Whether those were written (`--site-packages` in apply mode).
    #[serde(default)]
    pub outside_written: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<CompatDocument>,
}

impl PatchDocument {
    pub fn new(install: &Install, plan: &Plan, mode: Mode) -> Self {
        PatchDocument {
            schema_version: SCHEMA_VERSION,
            install: install.into(),
            mode,
            written: mode == Mode::Apply && !plan.changes.is_empty(),
            changed: plan
                .changes
                .iter()
                .map(|c| ChangedFile {
                    file: c.rel.clone(),
                    fixes: c.fixes.clone(),
                })
                .collect(),
            skipped: plan.skipped.clone(),
            sites: plan.sites.clone(),
            unparsed: plan.unparsed.clone(),
            compile_checked: plan.compiled == super::verify::Compiled::Yes,
            outside: Vec::new(),
            outside_written: false,
            compat: None,
        }
    }

    pub fn with_compat(mut self, compat: Option<CompatDocument>) -> Self {
        self.compat = compat;
        self
    }

    /// Add a site-packages plan (paths already made full).
    pub fn add_outside(&mut self, plan: &Plan, written: bool) {
        self.outside = plan
            .changes
            .iter()
            .map(|c| ChangedFile {
                file: c.rel.clone(),
                fixes: c.fixes.clone(),
            })
            .collect();
        self.outside_written = written && !self.outside.is_empty();
        self.skipped.extend(plan.skipped.iter().cloned());
        self.unparsed.extend(plan.unparsed.iter().cloned());
        if plan.compiled != super::verify::Compiled::Yes {
            self.compile_checked = false;
        }
    }
}

/// `sadfix patch --revert --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevertDocument {
    pub schema_version: u32,
    pub install: InstallSummary,
    #[serde(flatten)]
    pub outcome: RevertOutcome,
}
