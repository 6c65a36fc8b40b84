//! Running the catalog's combined queries over a parsed file, one pass per shard: query predicates
//! (`#eq?`, `#match?`) filter first, then each recipe's guards. A match keeps the node of every
//! capture and lands in its recipe's bucket.

use super::recipe::{Catalog, Recipe};
use super::source::Source;
use std::ops::Range;
use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, QueryCursor};

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
/// in document order with one match per site node.
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
    // Every site contains one of its recipe's needles, so the query only needs to look at the
    // nodes around needle hits: a match that overlaps a range is returned whole.
    let ranges = hit_ranges(catalog, &active, &src.text);
    let mut cursor = QueryCursor::new();
    for (s, shard) in catalog.shards.iter().enumerate() {
        let in_shard = |r: usize| active[r] && catalog.recipes[r].shard == s;
        if !(0..catalog.recipes.len()).any(in_shard) {
            continue;
        }
        let count = shard.query.capture_names().len();
        for range in &ranges {
            cursor.set_byte_range(range.clone());
            let mut matches =
                cursor.matches(&shard.query, src.tree.root_node(), src.text.as_bytes());
            while let Some(m) = matches.next() {
                let r = shard.pattern_recipe[m.pattern_index];
                if !active[r] {
                    continue;
                }
                let recipe = &catalog.recipes[r];
                let mut nodes = vec![None; count];
                for cap in m.captures {
                    let slot = &mut nodes[cap.index as usize];
                    if slot.is_none() {
                        *slot = Some(cap.node);
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
            }
        }
    }
    for (bucket, recipe) in buckets.iter_mut().zip(&catalog.recipes) {
        // A match seen from two ranges is one match.
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
