//! A recipe as written in YAML (raw serde types, unknown fields are errors) and as validated
//! (typed, with its compiled query).

pub use super::edit::Applicability;
use super::gate::{Gate, RawGate};
use super::guard::{Guard, RawGuard};
use super::options::PatchOption;
use super::site::{Action, SiteKind};
use super::template::Template;
use crate::pattern::Patterns;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipe {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    pub(super) kind: String,
    pub(super) family: String,
    pub(super) action: String,
    pub(super) option: Option<String>,
    pub(super) applicability: Option<String>,
    pub(super) needles: Vec<String>,
    pub(super) query: String,
    pub(super) site: Option<String>,
    pub(super) value: String,
    #[serde(default)]
    pub(super) guards: Vec<RawGuard>,
    pub(super) rewrite: Option<RawRewrite>,
    pub(super) already_applied: Option<RawApplied>,
    pub(super) note: String,
    pub(super) listed: Option<bool>,
    /// Compat recipes: the installed packages that make the fix needed (all must hold).
    #[serde(default)]
    pub(super) gates: Vec<RawGate>,
    /// `install` (default) or `site-packages` (files of the install's Python, edited only
    /// with `--site-packages`).
    pub(super) scope: Option<String>,
    /// With `scope: site-packages`: the files it looks at, relative to site-packages.
    #[serde(default)]
    pub(super) files: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRewrite {
    pub(super) replace: Option<String>,
    pub(super) with: Option<String>,
    pub(super) unwrap: Option<String>,
    pub(super) body: Option<String>,
    pub(super) dedupe: Option<String>,
    pub(super) helper: Option<String>,
    pub(super) drop_cuda_check: Option<String>,
    /// Several captures replaced at once (e.g. a closing parenthesis and a chained call).
    #[serde(default)]
    pub(super) edits: Vec<RawEdit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEdit {
    pub(super) replace: String,
    pub(super) with: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApplied {
    pub(super) recipe: Option<String>,
    pub(super) unchanged: Option<bool>,
}

/// A structural edit a recipe makes.
#[derive(Debug, Clone)]
pub enum RewriteOp {
    /// Replace a capture's text with a template.
    Replace { capture: u32, with: Template },
    /// Replace an `if` statement with the statements of one of its blocks, re-indented.
    Unwrap { statement: u32, body: u32 },
    /// Delete the identical copies that follow a statement.
    Dedupe { capture: u32 },
    /// Take torch's CUDA check out of a condition, keeping its other terms (`cuda_check.rs`).
    DropCudaCheck { capture: u32 },
    /// Replace several captures, each with its template, as one fix.
    Edits(Vec<(u32, Template)>),
}

#[derive(Debug, Clone)]
pub struct Rewrite {
    pub op: RewriteOp,
    /// Insert the bounded CUDA check helper once per file.
    pub helper: bool,
}

/// How to recognise that a recipe's rewrite is already in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlreadyApplied {
    /// What is left is a site of this other recipe (e.g. forced code is family H).
    Recipe(String),
    /// The rewrite reproduces the text already there (e.g. the batch size already is N).
    Unchanged,
}

/// A validated recipe.
#[derive(Debug)]
pub struct Recipe {
    pub id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub kind: SiteKind,
    pub family: String,
    pub action: Action,
    pub option: Option<PatchOption>,
    pub applicability: Applicability,
    pub needles: Vec<String>,
    /// The compiled query; capture indices are its.
    pub query: Patterns,
    pub site: u32,
    pub value: u32,
    pub guards: Vec<Guard>,
    pub rewrite: Option<Rewrite>,
    pub already_applied: Option<AlreadyApplied>,
    pub note: String,
    pub listed: bool,
    /// When the fix is needed (compat recipes); empty: always.
    pub gates: Vec<Gate>,
    pub scope: Scope,
    /// With `Scope::SitePackages`: the files, relative to site-packages.
    pub files: Vec<String>,
}

/// Where a recipe's files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Install,
    SitePackages,
}

/// Everything wrong with a set of recipes, each message prefixed with its file and recipe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} recipe error(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct RecipeErrors(pub Vec<String>);
