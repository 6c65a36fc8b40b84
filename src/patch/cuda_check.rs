//! Recognising torch's CUDA check however a file spells it (`torch.cuda.is_available()`, through
//! an import alias, compared with `True`, in parentheses), and taking it out of a condition
//! while keeping every other term, the comments on their own lines and the layout.

use super::edit::Edit;
use super::source::Source;
use regex::Regex;
use std::sync::OnceLock;
use tree_sitter::Node;

/// The dotted names that call torch's CUDA check in a file (whitespace removed).
pub struct Spellings(Vec<String>);

impl Spellings {
    /// Read the file's imports of torch (by text: a partial parse may not hold them).
    pub fn of(text: &str) -> Spellings {
        static IMPORTS: OnceLock<Regex> = OnceLock::new();
        let imports = IMPORTS.get_or_init(|| {
            Regex::new(
                r"(?m)^[ \t]*(?:import[ \t]+(torch(?:\.cuda)?)[ \t]+as[ \t]+(\w+)|from[ \t]+(torch(?:\.cuda)?)[ \t]+import[ \t]+\(?([^)#\r\n]*))",
            )
            .expect("a valid regular expression")
        });
        let mut names = vec![
            "torch.cuda.is_available".to_string(),
            "_sadfix_cuda_available".to_string(),
        ];
        for c in imports.captures_iter(text) {
            if let (Some(module), Some(alias)) = (c.get(1), c.get(2)) {
                let suffix = if module.as_str() == "torch" {
                    ".cuda.is_available"
                } else {
                    ".is_available"
                };
                names.push(format!("{}{suffix}", alias.as_str()));
            }
            if let (Some(module), Some(list)) = (c.get(3), c.get(4)) {
                let wanted = if module.as_str() == "torch" {
                    "cuda"
                } else {
                    "is_available"
                };
                for item in list.as_str().split(',') {
                    let words: Vec<&str> = item.split_whitespace().collect();
                    let local = match words.as_slice() {
                        [name] if *name == wanted => *name,
                        [name, "as", alias] if *name == wanted => *alias,
                        _ => continue,
                    };
                    names.push(match wanted {
                        "cuda" => format!("{local}.is_available"),
                        _ => local.to_string(),
                    });
                }
            }
        }
        names.sort();
        names.dedup();
        Spellings(names)
    }

    fn calls_check(&self, src: &Source, call: Node<'_>) -> bool {
        let Some(function) = call.child_by_field_name("function") else {
            return false;
        };
        let name: String = src
            .node_text(function)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        self.0.contains(&name)
    }
}

/// The expression inside any number of parentheses.
pub fn unparenthesized(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match named(node).next() {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// Named children that are not comments.
fn named<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    (0..node.named_child_count())
        .filter_map(move |i| node.named_child(i))
        .filter(|c| c.kind() != "comment")
}

/// Whether `node` is the CUDA check: the call, `== True`, `is True`, in parentheses or not.
pub fn is_check(src: &Source, sp: &Spellings, node: Node<'_>) -> bool {
    let node = unparenthesized(node);
    match node.kind() {
        "call" => sp.calls_check(src, node),
        "comparison_operator" => {
            let sides: Vec<Node<'_>> = named(node).collect();
            let op = node.child(1).map(|o| o.kind());
            sides.len() == 2
                && matches!(op, Some("==") | Some("is"))
                && ((is_check(src, sp, sides[0]) && unparenthesized(sides[1]).kind() == "true")
                    || (unparenthesized(sides[0]).kind() == "true" && is_check(src, sp, sides[1])))
        }
        _ => false,
    }
}

/// Whether the CUDA check is called anywhere inside `node`.
pub fn contains_check(src: &Source, sp: &Spellings, node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "call" && sp.calls_check(src, n) {
            return true;
        }
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// A condition split into the terms of one `and` (or one `or`) chain, and which of them are
/// the CUDA check (`and`) or its negation (`or`): the terms the check can be dropped from.
pub struct Split<'t> {
    pub terms: Vec<Node<'t>>,
    pub checks: Vec<bool>,
}

/// Split `cond` when dropping the check keeps its meaning otherwise: the check is a term of
/// an `and` chain (or `not check` a term of an `or` chain), some other term remains, and no
/// remaining term calls the check.
pub fn droppable<'t>(src: &Source, sp: &Spellings, cond: Node<'t>) -> Option<Split<'t>> {
    let top = unparenthesized(cond);
    if top.kind() != "boolean_operator" {
        return None;
    }
    let op = top.child_by_field_name("operator")?.kind();
    let mut terms = Vec::new();
    flatten(top, op, &mut terms);
    let checks: Vec<bool> = terms
        .iter()
        .map(|t| match op {
            "and" => is_check(src, sp, *t),
            _ => {
                let t = unparenthesized(*t);
                t.kind() == "not_operator"
                    && t.child_by_field_name("argument")
                        .is_some_and(|a| is_check(src, sp, a))
            }
        })
        .collect();
    let kept_clean = terms
        .iter()
        .zip(&checks)
        .all(|(t, c)| *c || !contains_check(src, sp, *t));
    (checks.contains(&true) && checks.contains(&false) && kept_clean)
        .then_some(Split { terms, checks })
}

fn flatten<'t>(node: Node<'t>, op: &str, out: &mut Vec<Node<'t>>) {
    let same = node.kind() == "boolean_operator"
        && node
            .child_by_field_name("operator")
            .is_some_and(|o| o.kind() == op);
    match (
        same,
        node.child_by_field_name("left"),
        node.child_by_field_name("right"),
    ) {
        (true, Some(l), Some(r)) => {
            flatten(l, op, out);
            flatten(r, op, out);
        }
        _ => out.push(node),
    }
}

/// The edits that take the check out of `cond`: each dropped term goes with the operator that
/// joins it to its neighbour; a comment on a line of its own in that span stays.
pub fn drop_edits(src: &Source, sp: &Spellings, cond: Node<'_>) -> Option<Vec<Edit>> {
    if let Some(split) = droppable(src, sp, cond) {
        return Some(drop_terms(src, cond, &split));
    }
    elif_to_else(src, sp, cond)
}

fn drop_terms(src: &Source, cond: Node<'_>, split: &Split<'_>) -> Vec<Edit> {
    let t = &split.terms;
    let last_kept = split.checks.iter().rposition(|c| !c).unwrap_or(0);
    let mut edits = Vec::new();
    for (i, _) in split.checks.iter().enumerate().filter(|(_, c)| **c) {
        let (range, before_next) = if i < last_kept {
            (t[i].start_byte()..t[i + 1].start_byte(), true)
        } else {
            (t[i - 1].end_byte()..t[i].end_byte(), false)
        };
        let kept = own_line_comments(src, cond, range.clone());
        let mut with = String::new();
        for c in kept {
            let indent = src.indent_before(c.start_byte()).unwrap_or("");
            if before_next {
                with.push_str(src.node_text(c));
                with.push_str(src.newline());
                with.push_str(indent);
            } else {
                with.push_str(src.newline());
                with.push_str(indent);
                with.push_str(src.node_text(c));
            }
        }
        edits.push(Edit::new(range, with));
    }
    edits
}

/// The comments inside `range` that start a line.
fn own_line_comments<'t>(
    src: &Source,
    cond: Node<'t>,
    range: std::ops::Range<usize>,
) -> Vec<Node<'t>> {
    let mut found = Vec::new();
    let mut cursor = cond.walk();
    let mut stack = vec![cond];
    while let Some(n) = stack.pop() {
        if n.kind() == "comment"
            && range.contains(&n.start_byte())
            && n.end_byte() <= range.end
            && src.indent_before(n.start_byte()).is_some()
        {
            found.push(n);
        }
        stack.extend(n.children(&mut cursor));
    }
    found.sort_by_key(|n| n.start_byte());
    found
}

/// `elif <check>: A else: B` becomes `else: A` when the `else` directly follows.
fn elif_to_else(src: &Source, sp: &Spellings, cond: Node<'_>) -> Option<Vec<Edit>> {
    let elif = cond.parent().filter(|p| p.kind() == "elif_clause")?;
    let otherwise = elif
        .next_named_sibling()
        .filter(|s| s.kind() == "else_clause")?;
    if !is_check(src, sp, cond) || otherwise.next_named_sibling().is_some() {
        return None;
    }
    let colon = (0..elif.child_count())
        .filter_map(|i| elif.child(i))
        .find(|c| c.kind() == ":")?;
    Some(vec![
        Edit::new(elif.start_byte()..colon.end_byte(), "else:"),
        Edit::new(elif.end_byte()..otherwise.end_byte(), ""),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropped(code: &str) -> Option<String> {
        let src = Source::parse(code.as_bytes()).unwrap();
        let sp = Spellings::of(&src.text);
        let if_node = src
            .tree
            .root_node()
            .named_child(src.tree.root_node().named_child_count() - 1)?;
        let cond = if_node.child_by_field_name("condition")?;
        let edits = drop_edits(&src, &sp, cond)?;
        Some(super::super::edit::splice(&src.text, edits))
    }

    #[test]
    fn aliases_are_followed() {
        let sp = Spellings::of("import torch as th\nfrom torch import (cuda as c, nn)\nfrom torch.cuda import is_available as ok\n");
        for name in [
            "th.cuda.is_available",
            "c.is_available",
            "ok",
            "torch.cuda.is_available",
        ] {
            assert!(sp.0.iter().any(|n| n == name), "{name}: {:?}", sp.0);
        }
    }

    #[test]
    fn the_check_goes_and_every_other_term_stays() {
        let a =
            "if not args.cpu and torch.cuda.is_available() == True and args.gpu:\n    d = 'cuda'\n";
        assert_eq!(
            dropped(a).unwrap(),
            "if not args.cpu and args.gpu:\n    d = 'cuda'\n"
        );
        let or =
            "import torch as th\nif args.cpu or not (th.cuda.is_available()):\n    d = 'cpu'\n";
        assert_eq!(
            dropped(or).unwrap(),
            "import torch as th\nif args.cpu:\n    d = 'cpu'\n"
        );
        let split = "if (\n    torch.cuda.is_available()\n    # honour --cpu\n    and not args.cpu\n):\n    d = 'cuda'\n";
        assert_eq!(
            dropped(split).unwrap(),
            "if (\n    # honour --cpu\n    not args.cpu\n):\n    d = 'cuda'\n"
        );
    }

    #[test]
    fn a_check_that_would_change_meaning_is_not_dropped() {
        assert!(dropped("if args.gpu or torch.cuda.is_available():\n    pass\n").is_none());
        assert!(dropped(
            "if torch.cuda.is_available() and (x or torch.cuda.is_available()):\n    pass\n"
        )
        .is_none());
        assert!(dropped("if torch.cuda.is_available():\n    pass\n").is_none());
    }
}
