//! Recipes: YAML read into raw serde types (unknown fields are errors), then validated into
//! typed `Recipe`s with compiled queries. Validation collects every error of every recipe.

use super::guard::{Guard, RawGuard};
use super::options::PatchOption;
use super::site::{Action, SiteKind};
use super::source::language;
use super::template::Template;
use super::validate::validate;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Range;
use tree_sitter::Query;

/// How far a fix may be trusted (as in ruff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps every behaviour the code had except the one asked for.
    Safe,
    /// Applied when asked, but drops a fallback (e.g. the CPU branch): flagged for review.
    Unsafe,
    /// Shown in the diff, never written.
    DisplayOnly,
}

#[derive(Debug, Deserialize)]
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRewrite {
    pub(super) replace: Option<String>,
    pub(super) with: Option<String>,
    pub(super) unwrap: Option<String>,
    pub(super) body: Option<String>,
    pub(super) dedupe: Option<String>,
    pub(super) helper: Option<String>,
}

#[derive(Debug, Deserialize)]
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
    /// This recipe's patterns in the catalog's combined query.
    pub patterns: Range<usize>,
    pub site: u32,
    pub value: u32,
    pub guards: Vec<Guard>,
    pub rewrite: Option<Rewrite>,
    pub already_applied: Option<AlreadyApplied>,
    pub note: String,
    pub listed: bool,
}

/// Everything wrong with a set of recipes, each message prefixed with its file and recipe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} recipe error(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct RecipeErrors(pub Vec<String>);

/// All recipes, their patterns compiled into one query: tree-sitter pays a large fixed cost per
/// compiled query and per traversal, so one query serves every recipe.
#[derive(Debug)]
pub struct Catalog {
    pub query: Query,
    pub recipes: Vec<Recipe>,
    /// The recipe (index into `recipes`) each pattern of `query` belongs to.
    pub pattern_recipe: Vec<usize>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|r| r.id == id)
    }
}

/// Load every `(file name, YAML text)`; all errors are collected before returning.
pub fn load_all(files: &[(&str, &str)]) -> Result<Catalog, RecipeErrors> {
    let mut errors = Vec::new();
    let mut raws: Vec<(String, RawRecipe)> = Vec::new();
    for (file, text) in files {
        match yaml_serde::from_str::<Vec<RawRecipe>>(text) {
            Ok(list) => raws.extend(list.into_iter().map(|r| (file.to_string(), r))),
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    let mut combined = String::new();
    let mut spans = Vec::new();
    for (_, raw) in &raws {
        let start = combined.len();
        combined.push_str(&raw.query);
        combined.push('\n');
        spans.push(start..combined.len());
    }
    let Ok(query) = Query::new(&language(), &combined) else {
        // Find the culprits one by one (only on this error path: each compile is costly).
        for (file, raw) in raws {
            let id = raw.id.clone();
            let one = Query::new(&language(), &raw.query).map_err(|e| {
                format!(
                    "query does not compile (row {}, column {}): {}",
                    e.row + 1,
                    e.column + 1,
                    e.message
                )
            });
            let patterns = one.as_ref().map_or(0..0, |q| 0..q.pattern_count());
            if let Err(errs) = validate(raw, one.as_ref().map_err(Clone::clone), patterns) {
                errors.extend(errs.into_iter().map(|e| format!("{file}: {id}: {e}")));
            }
        }
        return Err(RecipeErrors(errors));
    };
    let pattern_recipe: Vec<usize> = (0..query.pattern_count())
        .map(|p| {
            let at = query.start_byte_for_pattern(p);
            spans
                .iter()
                .position(|s| s.contains(&at))
                .expect("every pattern comes from a recipe")
        })
        .collect();
    let mut recipes = Vec::new();
    for (i, (file, raw)) in raws.into_iter().enumerate() {
        let id = raw.id.clone();
        let first = pattern_recipe.iter().position(|r| *r == i);
        let count = pattern_recipe.iter().filter(|r| **r == i).count();
        let patterns = first.map_or(0..0, |f| f..f + count);
        match validate(raw, Ok(&query), patterns) {
            Ok(r) => recipes.push(r),
            Err(errs) => errors.extend(errs.into_iter().map(|e| format!("{file}: {id}: {e}"))),
        }
    }
    let mut seen = HashSet::new();
    for r in &recipes {
        if !seen.insert(r.id.as_str()) {
            errors.push(format!("recipe id {} is used twice", r.id));
        }
    }
    for r in &recipes {
        if let Some(AlreadyApplied::Recipe(other)) = &r.already_applied {
            if !seen.contains(other.as_str()) {
                errors.push(format!(
                    "{}: already_applied names unknown recipe {other}",
                    r.id
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(Catalog {
            query,
            recipes,
            pattern_recipe,
        })
    } else {
        Err(RecipeErrors(errors))
    }
}
