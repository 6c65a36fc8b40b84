//! Recipes: YAML read into raw serde types (unknown fields are errors), then validated into
//! typed `Recipe`s with compiled queries. Validation collects every error of every recipe.

use super::rule::RawRecipe;
pub use super::rule::{AlreadyApplied, Applicability, Recipe, RecipeErrors, Rewrite, RewriteOp};
use super::source::language;
use super::validate::validate;
use std::collections::HashSet;
use std::ops::Range;
use tree_sitter::Query;

/// All recipes, their patterns compiled into a few combined queries (`Shards`): tree-sitter
/// analyses every query against the grammar, and a combined query shares that analysis between
/// its patterns, so fewer shards cost less CPU and more shards less wall time.
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

/// How many combined queries to compile, each on its own thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    /// One per core (up to 4): the whole catalog, which `patch` compiles, in the least wall time.
    PerCore,
    /// One, compiled while other threads read and parse the files (`scan`'s few recipes): on
    /// `sadtalker-z`'s tree one query cost about 10% less CPU than two and no more wall time.
    One,
}

/// Load every `(file name, YAML text)`; all errors are collected before returning.
pub fn load_all(files: &[(&str, &str)]) -> Result<Catalog, RecipeErrors> {
    load_where(files, &|_| true, Shards::PerCore)
}

/// `load_all` for the recipes `keep` selects: the others cost no query compilation.
pub(super) fn load_where(
    files: &[(&str, &str)],
    keep: &dyn Fn(&RawRecipe) -> bool,
    shards: Shards,
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
    let count = match shards {
        Shards::One => 1,
        Shards::PerCore => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4),
    }
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
