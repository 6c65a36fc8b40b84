//! Matching the catalog's recipes in a parsed file: one walk of the tree, only into nodes
//! around needle hits; at each node the patterns whose root can be that kind are tried
//! (`crate::pattern`: predicates first, then each recipe's guards). A match keeps the node of
//! every capture and lands in its recipe's bucket.

use super::recipe::{Catalog, Recipe};
use super::source::Source;
use crate::pattern;
use std::ops::Range;
use tree_sitter::Node;
/// One match of one recipe: the node of each capture index (the first node when a capture
/// matched several).
pub struct Match<'t> {
    nodes: Vec<Option<Node<'t>>>,
}

impl<'t> Match<'t> {
    pub fn node(&self, capture: u32) -> Option<Node<'t>> {
        self.nodes.get(capture as usize).copied().flatten()
    }
}

/// Whether the file's text holds one of the recipe's needles (a cheap test before querying).
pub fn worth_querying(recipe: &Recipe, text: &str) -> bool {
    recipe.needles.iter().any(|n| text.contains(n.as_str()))
}

/// The matches of every recipe `wanted` selects, one bucket per recipe (catalog order), each
/// in document order with one match per site node (the first, in the order the walk finds
/// them, whose guards hold).
pub fn find_all<'t>(
    catalog: &Catalog,
    src: &'t Source,
    wanted: &dyn Fn(&Recipe) -> bool,
) -> Vec<Vec<Match<'t>>> {
    let mut buckets: Vec<Vec<Match<'t>>> = catalog.recipes.iter().map(|_| Vec::new()).collect();
    let active: Vec<bool> = catalog
        .recipes
        .iter()
        .map(|r| wanted(r) && worth_querying(r, &src.text))
        .collect();
    if !active.contains(&true) {
        return buckets;
    }
    // Which (recipe, pattern) pairs can start at a node of each kind; `anywhere`: any kind.
    let kinds = src.tree.language().node_kind_count();
    let mut by_kind: Vec<Vec<(usize, usize)>> = vec![Vec::new(); kinds];
    let mut anywhere: Vec<(usize, usize)> = Vec::new();
    for (r, recipe) in catalog
        .recipes
        .iter()
        .enumerate()
        .filter(|(r, _)| active[*r])
    {
        for p in 0..recipe.query.pattern_count() {
            match recipe.query.root_kinds(p) {
                Some(ks) => {
                    for k in ks {
                        if let Some(list) = by_kind.get_mut(k as usize) {
                            if !list.contains(&(r, p)) {
                                list.push((r, p));
                            }
                        }
                    }
                }
                None => anywhere.push((r, p)),
            }
        }
    }
    // Every site contains one of its recipe's needles, so only nodes that overlap a needle hit
    // can hold one.
    let ranges = hit_ranges(catalog, &active, &src.text);
    let overlaps = |n: Node<'_>| {
        let i = ranges.partition_point(|r| r.end <= n.start_byte());
        ranges.get(i).is_some_and(|r| r.start < n.end_byte())
    };
    let mut cursor = src.tree.walk();
    'walk: loop {
        let node = cursor.node();
        let inside = overlaps(node);
        if inside {
            let here = by_kind
                .get(node.kind_id() as usize)
                .map_or(&[][..], |l| &l[..]);
            for &(r, p) in here.iter().chain(&anywhere) {
                let recipe = &catalog.recipes[r];
                let count = recipe.query.capture_names().len();
                pattern::matches_at(&recipe.query, p, node, &src.text, &mut |caps| {
                    let mut nodes = vec![None; count];
                    for &(c, n) in caps {
                        let slot = &mut nodes[c as usize];
                        if slot.is_none() {
                            *slot = Some(n);
                        }
                    }
                    let found = Match { nodes };
                    if recipe
                        .guards
                        .iter()
                        .all(|g| g.holds(src, &|c| found.node(c)))
                    {
                        buckets[r].push(found);
                    }
                });
            }
        }
        if inside && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    for (bucket, recipe) in buckets.iter_mut().zip(&catalog.recipes) {
        // One match per site: the first found.
        bucket.sort_by_key(|m| m.node(recipe.site).map(|n| (n.start_byte(), n.id())));
        bucket.dedup_by_key(|m| m.node(recipe.site).map(|n| n.id()));
    }
    buckets
}

/// The byte ranges of every needle hit of the active recipes, merged when close together.
fn hit_ranges(catalog: &Catalog, active: &[bool], text: &str) -> Vec<Range<usize>> {
    let mut hits: Vec<Range<usize>> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (recipe, _) in catalog.recipes.iter().zip(active).filter(|(_, a)| **a) {
        for needle in &recipe.needles {
            if seen.contains(&needle.as_str()) {
                continue;
            }
            seen.push(needle);
            hits.extend(
                text.match_indices(needle.as_str())
                    .map(|(at, n)| at..at + n.len()),
            );
        }
    }
    hits.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for hit in hits {
        match merged.last_mut() {
            Some(last) if hit.start <= last.end + 256 => last.end = last.end.max(hit.end),
            _ => merged.push(hit),
        }
    }
    merged
}
