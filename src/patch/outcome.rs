//! The documents `scan` and `patch` report: plain values that derive Serialize, so they are the
//! JSON schema (and Deserialize, so tests and other tools read them back).

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
}

impl ScanDocument {
    pub fn new(install: &Install, report: ScanReport) -> Self {
        ScanDocument {
            schema_version: SCHEMA_VERSION,
            install: install.into(),
            sites: report.sites,
            unparsed: report.unparsed,
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
