//! Running a recipe's query over a parsed file: query predicates (`#eq?`, `#match?`) filter
//! first, then the recipe's guards. A match keeps the node of every capture.

use super::recipe::Recipe;
use super::source::Source;
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

/// Every match of `recipe` in `src` that passes its guards, in document order.
pub fn find<'t>(recipe: &Recipe, src: &'t Source) -> Vec<Match<'t>> {
    if !worth_querying(recipe, &src.text) {
        return Vec::new();
    }
    let mut cursor = QueryCursor::new();
    let mut out = Vec::new();
    let root = src.tree.root_node();
    let mut matches = cursor.matches(&recipe.query, root, src.text.as_bytes());
    let count = recipe.query.capture_names().len();
    while let Some(m) = matches.next() {
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
            out.push(found);
        }
    }
    out.sort_by_key(|m| m.node(recipe.site).map(|n| n.start_byte()));
    out.dedup_by_key(|m| m.node(recipe.site).map(|n| n.id()));
    out
}
