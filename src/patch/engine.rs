//! One file through the recipes: the sites `scan` lists and, for the requested options, the
//! fixes `patch` applies, then the fixed text with the CUDA-check helper added where needed.

use super::edit::{self, Applied, Fix};
use super::helper;
use super::matcher;
use super::options::PatchOptions;
use super::recipe::{Applicability, Catalog};
use super::rewrite;
use super::site::{Action, Site};
use super::source::Source;
use std::path::Path;

/// What the recipes found in one file.
pub struct Analysis {
    pub sites: Vec<Site>,
    pub fixes: Vec<Fix>,
}

/// Run every recipe over `src`. Sites come from listed recipes; fixes from recipes whose
/// option is requested.
pub fn analyze(catalog: &Catalog, src: &Source, rel: &Path, options: &PatchOptions) -> Analysis {
    let mut sites: Vec<(std::ops::Range<usize>, Site)> = Vec::new();
    let mut fixes = Vec::new();
    let wants = |r: &super::recipe::Recipe| r.option.is_some_and(|o| options.wants(o));
    let buckets = matcher::find_all(catalog, src, &|r| r.listed || wants(r));
    for (recipe, matches) in catalog.recipes.iter().zip(buckets) {
        let training =
            recipe.kind == super::site::SiteKind::BatchSize && super::site::in_face3d(rel);
        let wanted = wants(recipe) && !training;
        for m in matches {
            let Some(site_node) = m.node(recipe.site) else {
                continue;
            };
            let line = site_node.start_position().row + 1;
            if recipe.listed {
                let value = m
                    .node(recipe.value)
                    .map(|n| one_line(src.node_text(n)))
                    .unwrap_or_default();
                sites.push((
                    site_node.byte_range(),
                    Site {
                        file: rel.to_path_buf(),
                        line,
                        kind: recipe.kind,
                        family: recipe.family.clone(),
                        value,
                        action: match recipe.action {
                            Action::Rewrite if training => Action::ReportOnly,
                            action => action,
                        },
                        recipe: Some(recipe.id.clone()),
                        note: if training {
                            super::site::FACE3D_BATCH.to_string()
                        } else {
                            recipe.note.clone()
                        },
                        gate: None,
                    },
                ));
            }
            if let (true, Some(rw)) = (wanted, &recipe.rewrite) {
                if let Some(edits) = rewrite::edits(rw, &m, src, options) {
                    fixes.push(Fix {
                        recipe: recipe.id.clone(),
                        applicability: recipe.applicability,
                        line,
                        edits,
                        needs_helper: rw.helper,
                    });
                }
            }
        }
    }
    // Two recipes that make the same edit make one fix: the first (in catalog order) names it.
    let mut seen: Vec<Vec<edit::Edit>> = Vec::new();
    fixes.retain(|f: &Fix| {
        let fresh = !seen.contains(&f.edits);
        seen.push(f.edits.clone());
        fresh
    });
    // One site per place and kind: the first recipe (in catalog order) names it.
    sites.sort_by_key(|(at, s)| (at.start, s.kind == super::site::SiteKind::BatchSize));
    sites.dedup_by(|a, b| a.0.start == b.0.start && a.1.kind == b.1.kind);
    // A selection whose check sadfix already bounded is listed once, as bounded (what scan and
    // doctor report); --force-gpu still rewrites it.
    let bounded: Vec<usize> = sites
        .iter()
        .filter(|(_, s)| s.action == Action::AlreadyBounded)
        .map(|(at, _)| at.start)
        .collect();
    sites.retain(|(at, s)| {
        s.action != Action::Rewrite
            || s.kind != super::site::SiteKind::Device
            || !bounded.iter().any(|b| at.contains(b))
    });
    Analysis {
        sites: sites.into_iter().map(|(_, s)| s).collect(),
        fixes,
    }
}

/// Apply the fixes that may be written; display-only fixes are reported as skipped, never
/// applied.
pub fn fix(src: &Source, fixes: Vec<Fix>) -> Applied {
    let (display, writable): (Vec<Fix>, Vec<Fix>) = fixes
        .into_iter()
        .partition(|f| f.applicability == Applicability::DisplayOnly);
    let mut applied = edit::apply(&src.text, writable);
    applied.skipped.extend(display);
    if applied.applied.iter().any(|f| f.needs_helper) && !helper::present(src) {
        // The helper goes in as one more edit on the original text, so every offset holds.
        let mut edits: Vec<edit::Edit> = applied
            .applied
            .iter()
            .flat_map(|f| f.edits.clone())
            .collect();
        let insert = helper::insertion(src);
        if edits
            .iter()
            .all(|e| e.range.start >= insert.range.end && e.range.start != insert.range.start)
        {
            edits.push(insert);
            applied.text = edit::splice(&src.text, edits);
        } else {
            // A call site before the imports end cannot see a helper defined after them.
            let (late, keep): (Vec<Fix>, Vec<Fix>) =
                applied.applied.drain(..).partition(|f| f.needs_helper);
            applied.skipped.extend(late);
            applied.applied = keep;
            let keep: Vec<edit::Edit> = applied
                .applied
                .iter()
                .flat_map(|f| f.edits.clone())
                .collect();
            applied.text = edit::splice(&src.text, keep);
        }
    }
    if !applied.applied.is_empty() && helper::present(src) {
        let fixed = src.reparse(applied.text.clone());
        if let Some(edit) = helper::removal(&fixed) {
            applied.text = edit::splice(&fixed.text, vec![edit]);
        }
    }
    applied
}

/// Collapse a multi-line value to one line for the listing.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > 80 {
        let cut: String = joined.chars().take(77).collect();
        format!("{cut}...")
    } else {
        joined
    }
}
