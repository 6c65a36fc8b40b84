//! Recipes: YAML read into raw serde types (unknown fields are errors), then validated into
//! typed `Recipe`s with compiled queries. Validation collects every error of every recipe.

use super::guard::{self, Guard, RawGuard};
use super::options::PatchOption;
use super::site::{Action, SiteKind};
use super::source::language;
use super::template::{self, Template};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Range;
use tree_sitter::{CaptureQuantifier, Query};

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
struct RawRecipe {
    id: String,
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    kind: String,
    family: String,
    action: String,
    option: Option<String>,
    applicability: Option<String>,
    needles: Vec<String>,
    query: String,
    site: Option<String>,
    value: String,
    #[serde(default)]
    guards: Vec<RawGuard>,
    rewrite: Option<RawRewrite>,
    already_applied: Option<RawApplied>,
    note: String,
    listed: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    replace: Option<String>,
    with: Option<String>,
    unwrap: Option<String>,
    body: Option<String>,
    dedupe: Option<String>,
    helper: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplied {
    recipe: Option<String>,
    unchanged: Option<bool>,
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

fn validate(
    raw: RawRecipe,
    query: Result<&Query, String>,
    patterns: Range<usize>,
) -> Result<Recipe, Vec<String>> {
    let mut errors = Vec::new();
    if raw.id.is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push("id must be lower-case letters, digits and dashes".into());
    }
    let kind = match raw.kind.as_str() {
        "device" => Some(SiteKind::Device),
        "batch_size" => Some(SiteKind::BatchSize),
        other => {
            errors.push(format!("kind {other:?} is not device or batch_size"));
            None
        }
    };
    let action = parse_action(&raw.action).map_err(|e| errors.push(e)).ok();
    let option = raw.option.as_deref().and_then(|o| {
        let parsed = PatchOption::parse(o);
        if parsed.is_none() {
            errors.push(format!(
                "option {o:?} is not force-gpu, cuda-timeout or batch-size"
            ));
        }
        parsed
    });
    let applicability = match raw.applicability.as_deref().unwrap_or("safe") {
        "safe" => Applicability::Safe,
        "unsafe" => Applicability::Unsafe,
        "display-only" => Applicability::DisplayOnly,
        other => {
            errors.push(format!(
                "applicability {other:?} is not safe, unsafe or display-only"
            ));
            Applicability::Safe
        }
    };
    if raw.needles.is_empty() {
        errors.push("needles must list at least one string the file must contain".into());
    }
    let query = match query {
        Ok(q) if !patterns.is_empty() => q,
        Ok(_) => {
            errors.push("query holds no pattern".into());
            return Err(errors);
        }
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    // A capture counts only when one of this recipe's own patterns has it.
    let capture = |name: &str| {
        query.capture_index_for_name(name).filter(|&c| {
            patterns
                .clone()
                .any(|p| query.capture_quantifiers(p)[c as usize] != CaptureQuantifier::Zero)
        })
    };
    let mut need = |name: &str, what: &str| -> u32 {
        capture(name).unwrap_or_else(|| {
            errors.push(format!("{what} capture @{name} is not in the query"));
            0
        })
    };
    let site = need(raw.site.as_deref().unwrap_or("site"), "site");
    let value = need(&raw.value, "value");
    let lang = language();
    let kind_ok = |k: &str| lang.id_for_node_kind(k, true) != 0;
    let mut guards = Vec::new();
    for g in &raw.guards {
        match guard::validate(g, &capture, &kind_ok) {
            Ok(g) => guards.push(g),
            Err(e) => errors.extend(e),
        }
    }
    let rewrite = raw.rewrite.as_ref().and_then(|rw| {
        validate_rewrite(rw, &capture, option)
            .map_err(|e| errors.extend(e))
            .ok()
    });
    if option.is_some() != raw.rewrite.is_some() {
        errors.push(
            "`option` and `rewrite` go together: a rewrite needs the flag that triggers it".into(),
        );
    }
    let already_applied = match &raw.already_applied {
        None if raw.rewrite.is_some() => {
            errors.push(
                "a recipe with a rewrite needs already_applied (recipe: ID or unchanged: true)"
                    .into(),
            );
            None
        }
        None => None,
        Some(RawApplied {
            recipe: Some(r),
            unchanged: None,
        }) => Some(AlreadyApplied::Recipe(r.clone())),
        Some(RawApplied {
            recipe: None,
            unchanged: Some(true),
        }) => Some(AlreadyApplied::Unchanged),
        Some(_) => {
            errors.push(
                "already_applied takes exactly one of `recipe: ID` or `unchanged: true`".into(),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Recipe {
        id: raw.id,
        title: raw.title,
        tags: raw.tags,
        kind: kind.expect("checked"),
        family: raw.family,
        action: action.expect("checked"),
        option,
        applicability,
        needles: raw.needles,
        site,
        value,
        guards,
        rewrite,
        already_applied,
        note: raw.note,
        listed: raw.listed.unwrap_or(true),
        patterns,
    })
}

fn validate_rewrite(
    rw: &RawRewrite,
    capture: &dyn Fn(&str) -> Option<u32>,
    option: Option<PatchOption>,
) -> Result<Rewrite, Vec<String>> {
    let mut errors = Vec::new();
    let cap = |name: &str| {
        capture(name).ok_or_else(|| format!("rewrite capture @{name} is not in the query"))
    };
    let op = match (&rw.replace, &rw.with, &rw.unwrap, &rw.body, &rw.dedupe) {
        (Some(c), Some(w), None, None, None) => {
            let with = template::parse(w, capture)
                .map_err(|e| errors.extend(e))
                .ok();
            let uses_batch = with
                .as_ref()
                .is_some_and(|t| t.uses(&template::Part::BatchSize));
            let uses_timeout = with
                .as_ref()
                .is_some_and(|t| t.uses(&template::Part::Timeout));
            if uses_batch && option != Some(PatchOption::BatchSize) {
                errors.push("{batch_size} is only known to batch-size recipes".into());
            }
            if uses_timeout && option != Some(PatchOption::CudaTimeout) {
                errors.push("{timeout} is only known to cuda-timeout recipes".into());
            }
            match (cap(c), with) {
                (Ok(capture), Some(with)) => Some(RewriteOp::Replace { capture, with }),
                (Err(e), _) => {
                    errors.push(e);
                    None
                }
                _ => None,
            }
        }
        (None, None, Some(s), Some(b), None) => match (cap(s), cap(b)) {
            (Ok(statement), Ok(body)) => Some(RewriteOp::Unwrap { statement, body }),
            (a, b) => {
                errors.extend(a.err().into_iter().chain(b.err()));
                None
            }
        },
        (None, None, None, None, Some(d)) => match cap(d) {
            Ok(capture) => Some(RewriteOp::Dedupe { capture }),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        _ => {
            errors.push(
                "rewrite takes one of: `replace` + `with`, `unwrap` + `body`, or `dedupe`".into(),
            );
            None
        }
    };
    let helper = match rw.helper.as_deref() {
        None => false,
        Some("cuda_available") => true,
        Some(other) => {
            errors.push(format!(
                "helper {other:?} is unknown (the one helper is cuda_available)"
            ));
            false
        }
    };
    match op {
        Some(op) if errors.is_empty() => Ok(Rewrite { op, helper }),
        _ => Err(errors),
    }
}

fn parse_action(text: &str) -> Result<Action, String> {
    Ok(match text {
        "rewrite" => Action::Rewrite,
        "repair" => Action::Repair,
        "already_forced" => Action::AlreadyForced,
        "already_gpu" => Action::AlreadyGpu,
        "already_bounded" => Action::AlreadyBounded,
        "report_only" => Action::ReportOnly,
        "unsupported" => Action::Unsupported,
        other => return Err(format!("action {other:?} is not one of rewrite, repair, already_forced, already_gpu, already_bounded, report_only, unsupported")),
    })
}
