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
    pub(super) drop_cuda_check: Option<String>,
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
    /// Take torch's CUDA check out of a condition, keeping its other terms (`cuda_check.rs`).
    DropCudaCheck { capture: u32 },
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
    /// The catalog shard whose query holds this recipe's patterns; capture indices are that
    /// query's.
    pub shard: usize,
    /// This recipe's patterns in its shard's query.
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

/// All recipes, their patterns compiled into a few combined queries (one per core, compiled in
/// parallel): tree-sitter pays a large cost per compiled query and per traversal, so each query
/// serves many recipes.
#[derive(Debug)]
pub struct Catalog {
    pub shards: Vec<Shard>,
    pub recipes: Vec<Recipe>,
}

/// One combined query.
#[derive(Debug)]
pub struct Shard {
    pub query: Query,
    /// The recipe (index into `Catalog::recipes`) each pattern of `query` belongs to.
    pub pattern_recipe: Vec<usize>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|r| r.id == id)
    }
}

/// Load every `(file name, YAML text)`; all errors are collected before returning.
pub fn load_all(files: &[(&str, &str)]) -> Result<Catalog, RecipeErrors> {
    load_where(files, &|_| true)
}

/// `load_all` for the recipes `keep` selects: the others cost no query compilation.
pub(super) fn load_where(
    files: &[(&str, &str)],
    keep: &dyn Fn(&RawRecipe) -> bool,
) -> Result<Catalog, RecipeErrors> {
    let mut errors = Vec::new();
    let mut raws: Vec<(String, RawRecipe)> = Vec::new();
    // Left out here, but still a recipe an `already_applied` may name.
    let mut left_out: Vec<String> = Vec::new();
    for (file, text) in files {
        match yaml_serde::from_str::<Vec<RawRecipe>>(text) {
            Ok(list) => {
                for r in list {
                    if keep(&r) {
                        raws.push((file.to_string(), r));
                    } else {
                        left_out.push(r.id);
                    }
                }
            }
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    // Balance the shards by query length; each compiles on its own thread.
    let count = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(raws.len().max(1));
    let mut load = vec![0usize; count];
    let mut sources = vec![String::new(); count];
    let mut place: Vec<(usize, Range<usize>)> = Vec::new();
    for (_, raw) in &raws {
        let s = (0..count).min_by_key(|&s| load[s]).unwrap_or(0);
        load[s] += raw.query.len();
        let start = sources[s].len();
        sources[s].push_str(&raw.query);
        sources[s].push('\n');
        place.push((s, start..sources[s].len()));
    }
    let compiled: Vec<Result<Query, tree_sitter::QueryError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sources
            .iter()
            .map(|src| scope.spawn(move || Query::new(&language(), src)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compiling a query panicked"))
            .collect()
    });
    let Ok(queries) = compiled.into_iter().collect::<Result<Vec<Query>, _>>() else {
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
    let shards: Vec<Shard> = queries
        .into_iter()
        .enumerate()
        .map(|(s, query)| {
            let pattern_recipe = (0..query.pattern_count())
                .map(|p| {
                    let at = query.start_byte_for_pattern(p);
                    place
                        .iter()
                        .position(|(shard, span)| *shard == s && span.contains(&at))
                        .expect("every pattern comes from a recipe")
                })
                .collect();
            Shard {
                query,
                pattern_recipe,
            }
        })
        .collect();
    let mut recipes = Vec::new();
    for (i, (file, raw)) in raws.into_iter().enumerate() {
        let id = raw.id.clone();
        let shard = &shards[place[i].0];
        let first = shard.pattern_recipe.iter().position(|r| *r == i);
        let n = shard.pattern_recipe.iter().filter(|r| **r == i).count();
        let patterns = first.map_or(0..0, |f| f..f + n);
        match validate(raw, Ok(&shard.query), patterns) {
            Ok(mut r) => {
                r.shard = place[i].0;
                recipes.push(r);
            }
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
            if !seen.contains(other.as_str()) && !left_out.contains(other) {
                errors.push(format!(
                    "{}: already_applied names unknown recipe {other}",
                    r.id
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(Catalog { shards, recipes })
    } else {
        Err(RecipeErrors(errors))
    }
}
