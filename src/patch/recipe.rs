//! Recipes: YAML read into raw serde types (unknown fields are errors), then validated into
//! typed `Recipe`s, each query compiled by sadfix's pattern matcher (`crate::pattern`, which
//! costs microseconds where tree-sitter's query analysis cost most of a scan). Validation
//! collects every error of every recipe.

use super::rule::RawRecipe;
pub use super::rule::{AlreadyApplied, Applicability, Recipe, RecipeErrors, Rewrite, RewriteOp};
use super::source::language;
use super::validate::validate;
use std::collections::HashSet;

/// A set of validated recipes, in the order they are tried.
#[derive(Debug)]
pub struct Catalog {
    pub recipes: Vec<Recipe>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|r| r.id == id)
    }
}

/// The recipes of `(file name, YAML text)` files as written, and an error for each file that
/// does not parse.
pub(super) fn read(
    files: &[(&'static str, &str)],
) -> (Vec<(&'static str, RawRecipe)>, Vec<String>) {
    let mut raws = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in files {
        match yaml_serde::from_str::<Vec<RawRecipe>>(text) {
            Ok(list) => raws.extend(list.into_iter().map(|r| (*file, r))),
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    (raws, errors)
}

/// Load every `(file name, YAML text)`; all errors are collected before returning.
pub fn load_all(files: &[(&'static str, &str)]) -> Result<Catalog, RecipeErrors> {
    let (raws, errors) = read(files);
    load_where(&raws, &errors, &|_| true)
}

/// Validate the recipes of `raws` that `keep` selects (`errors`: the files that did not parse).
pub(super) fn load_where(
    raws: &[(&str, RawRecipe)],
    errors: &[String],
    keep: &dyn Fn(&RawRecipe) -> bool,
) -> Result<Catalog, RecipeErrors> {
    let mut errors = errors.to_vec();
    let lang = language();
    let mut recipes = Vec::new();
    // Left out here, but still a recipe an `already_applied` may name.
    let mut left_out: Vec<&str> = Vec::new();
    for (file, raw) in raws {
        if !keep(raw) {
            left_out.push(&raw.id);
            continue;
        }
        let query = crate::pattern::compile(&lang, &raw.query).map_err(|e| {
            format!(
                "query does not compile (row {}, column {}): {}",
                e.row + 1,
                e.column + 1,
                e.message
            )
        });
        match validate(raw.clone(), query) {
            Ok(r) => recipes.push(r),
            Err(errs) => {
                errors.extend(errs.into_iter().map(|e| format!("{file}: {}: {e}", raw.id)))
            }
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
            if !seen.contains(other.as_str()) && !left_out.contains(&other.as_str()) {
                errors.push(format!(
                    "{}: already_applied names unknown recipe {other}",
                    r.id
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(Catalog { recipes })
    } else {
        Err(RecipeErrors(errors))
    }
}
