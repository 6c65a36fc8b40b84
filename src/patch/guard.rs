//! Guards: conditions a query match must also meet before it counts (text of a capture,
//! where the capture sits in the tree, what the file says elsewhere).

use super::cuda_check;
use super::mover;
use super::source::Source;
use regex::Regex;
use serde::Deserialize;
use std::sync::OnceLock;
use tree_sitter::Node;

/// A guard as written in YAML: `capture` plus exactly one test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    pub capture: Option<String>,
    pub equals: Option<String>,
    pub matches: Option<String>,
    pub not_matches: Option<String>,
    pub inside: Option<String>,
    pub not_inside: Option<String>,
    pub not_inside_branch_of: Option<String>,
    pub has_child: Option<String>,
    pub lacks_child: Option<String>,
    pub repeated: Option<bool>,
    pub file_matches: Option<String>,
    pub cuda_check: Option<String>,
    pub moved_by_to: Option<bool>,
}

/// A validated guard.
#[derive(Debug, Clone)]
pub enum Guard {
    /// The capture's text is exactly this.
    Equals(u32, String),
    Matches(u32, Pattern),
    NotMatches(u32, Pattern),
    /// An ancestor of the capture has this node kind.
    Inside(u32, String),
    NotInside(u32, String),
    /// No enclosing `if` has a condition (or `elif` condition) matching the pattern: the
    /// capture is not one branch of a device-selection if/else.
    NotInsideBranchOf(u32, Pattern),
    HasChild(u32, String),
    LacksChild(u32, String),
    /// `true`: the first of a run of identical sibling statements. `false`: no identical
    /// sibling on either side.
    Repeated(u32, bool),
    /// Somewhere in the file (e.g. `SIGALRM`).
    FileMatches(Pattern),
    /// Where torch's CUDA check sits in the capture, however it is spelled (`cuda_check.rs`).
    CudaCheck(u32, CheckAt),
    /// `true`: the capture assigns `self.<attr>` inside a class whose own `to(self, d)` sets
    /// `self.<attr> = d`, the way a model object is moved to the run's device (bfm.py's
    /// `ParametricFaceModel`). `false`: it does not.
    MovedByTo(u32, bool),
}

/// `cuda_check:` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckAt {
    /// The capture is the check itself.
    Whole,
    /// One term of an `and` (or `not check` of an `or`) that can be dropped, others kept.
    Droppable,
    /// Somewhere inside.
    Anywhere,
    /// Nowhere inside.
    Nowhere,
}

/// Validate one guard; `capture` resolves capture names, `kind_ok` checks node kinds.
pub fn validate(
    raw: &RawGuard,
    capture: &dyn Fn(&str) -> Option<u32>,
    kind_ok: &dyn Fn(&str) -> bool,
) -> Result<Guard, Vec<String>> {
    let mut errors = Vec::new();
    let tests = [
        raw.equals.is_some(),
        raw.matches.is_some(),
        raw.not_matches.is_some(),
        raw.inside.is_some(),
        raw.not_inside.is_some(),
        raw.not_inside_branch_of.is_some(),
        raw.has_child.is_some(),
        raw.lacks_child.is_some(),
        raw.repeated.is_some(),
        raw.file_matches.is_some(),
        raw.cuda_check.is_some(),
        raw.moved_by_to.is_some(),
    ];
    let count = tests.iter().filter(|t| **t).count();
    if count != 1 {
        errors.push(format!(
            "a guard needs exactly one test (equals, matches, not_matches, inside, not_inside, not_inside_branch_of, has_child, lacks_child, repeated, file_matches, cuda_check, moved_by_to); found {count}"
        ));
        return Err(errors);
    }
    if let Some(pattern) = &raw.file_matches {
        return regex(pattern).map(Guard::FileMatches).map_err(|e| vec![e]);
    }
    let Some(name) = &raw.capture else {
        return Err(vec!["this guard needs `capture`".into()]);
    };
    let Some(c) = capture(name) else {
        return Err(vec![format!("guard capture @{name} is not in the query")]);
    };
    let kind = |k: &String| {
        if kind_ok(k) {
            Ok(k.clone())
        } else {
            Err(vec![format!(
                "`{k}` is not a node kind of the Python grammar"
            )])
        }
    };
    let re = |p: &String| regex(p).map_err(|e| vec![e]);
    if let Some(t) = &raw.equals {
        Ok(Guard::Equals(c, t.clone()))
    } else if let Some(p) = &raw.matches {
        re(p).map(|r| Guard::Matches(c, r))
    } else if let Some(p) = &raw.not_matches {
        re(p).map(|r| Guard::NotMatches(c, r))
    } else if let Some(k) = &raw.inside {
        kind(k).map(|k| Guard::Inside(c, k))
    } else if let Some(k) = &raw.not_inside {
        kind(k).map(|k| Guard::NotInside(c, k))
    } else if let Some(p) = &raw.not_inside_branch_of {
        re(p).map(|r| Guard::NotInsideBranchOf(c, r))
    } else if let Some(k) = &raw.has_child {
        kind(k).map(|k| Guard::HasChild(c, k))
    } else if let Some(k) = &raw.lacks_child {
        kind(k).map(|k| Guard::LacksChild(c, k))
    } else if let Some(at) = &raw.cuda_check {
        match at.as_str() {
            "whole" => Ok(CheckAt::Whole),
            "droppable" => Ok(CheckAt::Droppable),
            "anywhere" => Ok(CheckAt::Anywhere),
            "nowhere" => Ok(CheckAt::Nowhere),
            other => Err(vec![format!(
                "cuda_check {other:?} is not one of whole, droppable, anywhere, nowhere"
            )]),
        }
        .map(|at| Guard::CudaCheck(c, at))
    } else if let Some(moved) = raw.moved_by_to {
        Ok(Guard::MovedByTo(c, moved))
    } else {
        Ok(Guard::Repeated(c, raw.repeated.unwrap_or(false)))
    }
}

fn regex(pattern: &str) -> Result<Pattern, String> {
    Pattern::new(pattern)
}

/// A guard's regular expression: its syntax is checked when the recipe loads, its automaton is
/// built on the first match that reaches the guard. Most guards of a scan never run, and
/// building an automaton (Unicode `\w` and `\b` above all) costs far more than checking the
/// syntax: on SadTalker's tree, building them all was about a tenth of `scan`'s CPU time.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    built: OnceLock<Regex>,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        regex_syntax::Parser::new()
            .parse(text)
            .map_err(|e| format!("bad regular expression {text:?}: {e}"))?;
        Ok(Pattern {
            text: text.to_string(),
            built: OnceLock::new(),
        })
    }

    /// The automaton; an error here is one of size, never of syntax, and every shipped
    /// pattern is built by a test.
    pub fn regex(&self) -> &Regex {
        self.built.get_or_init(|| {
            Regex::new(&self.text).unwrap_or_else(|e| panic!("{:?} does not build: {e}", self.text))
        })
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex().is_match(haystack)
    }
}

impl Guard {
    /// Whether the match passes; `node` gives the node a capture index matched.
    pub fn holds<'t>(&self, src: &'t Source, node: &dyn Fn(u32) -> Option<Node<'t>>) -> bool {
        if let Guard::FileMatches(r) = self {
            return r.is_match(&src.text);
        }
        let c = match self {
            Guard::Equals(c, _)
            | Guard::Matches(c, _)
            | Guard::NotMatches(c, _)
            | Guard::Inside(c, _)
            | Guard::NotInside(c, _)
            | Guard::NotInsideBranchOf(c, _)
            | Guard::HasChild(c, _)
            | Guard::LacksChild(c, _)
            | Guard::Repeated(c, _)
            | Guard::CudaCheck(c, _)
            | Guard::MovedByTo(c, _) => *c,
            Guard::FileMatches(_) => unreachable!("handled above"),
        };
        let Some(n) = node(c) else {
            return false;
        };
        let text = src.node_text(n);
        match self {
            Guard::Equals(_, t) => text == t,
            Guard::Matches(_, r) => r.is_match(text),
            Guard::NotMatches(_, r) => !r.is_match(text),
            Guard::Inside(_, k) => ancestors(n).any(|a| a.kind() == k),
            Guard::NotInside(_, k) => !ancestors(n).any(|a| a.kind() == k),
            Guard::NotInsideBranchOf(_, r) => !ancestors(n)
                .filter(|a| a.kind() == "if_statement")
                .any(|a| branch_conditions(a).any(|c| r.is_match(src.node_text(c)))),
            Guard::HasChild(_, k) => children(n).any(|ch| ch.kind() == k),
            Guard::LacksChild(_, k) => !children(n).any(|ch| ch.kind() == k),
            Guard::Repeated(_, first_of_run) => {
                // Only whitespace between: in a partial parse, statements that were left out
                // must not make two distant copies look adjacent.
                let same = |a: Node<'_>, b: Node<'_>| {
                    src.node_text(a) == src.node_text(b)
                        && src.text[a.end_byte()..b.start_byte()].trim().is_empty()
                };
                let before = n.prev_named_sibling().is_some_and(|p| same(p, n));
                let after = n.next_named_sibling().is_some_and(|x| same(n, x));
                if *first_of_run {
                    after && !before
                } else {
                    !after && !before
                }
            }
            Guard::CudaCheck(_, at) => {
                let sp = cuda_check::Spellings::of(&src.text);
                match at {
                    CheckAt::Whole => cuda_check::is_check(src, &sp, n),
                    CheckAt::Droppable => cuda_check::droppable(src, &sp, n).is_some(),
                    CheckAt::Anywhere => cuda_check::contains_check(src, &sp, n),
                    CheckAt::Nowhere => !cuda_check::contains_check(src, &sp, n),
                }
            }
            Guard::MovedByTo(_, moved) => {
                let target = n
                    .child_by_field_name("left")
                    .map(|l| src.node_text(l))
                    .unwrap_or(text);
                mover::reassigned_by_to(&src.text, n.start_byte(), target) == *moved
            }
            Guard::FileMatches(_) => unreachable!("handled above"),
        }
    }
}

fn ancestors(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    std::iter::successors(node.parent(), |n| n.parent())
}

fn children(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    (0..node.named_child_count()).filter_map(move |i| node.named_child(i))
}

/// The condition of an `if` and of each of its `elif`s.
fn branch_conditions(if_node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let elifs = children(if_node)
        .filter(|c| c.kind() == "elif_clause")
        .filter_map(|c| c.child_by_field_name("condition"));
    if_node
        .child_by_field_name("condition")
        .into_iter()
        .chain(elifs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_pattern_builds_and_bad_syntax_fails_at_load() {
        let catalog = super::super::catalog::shipped().unwrap();
        let mut built = 0;
        for guard in catalog.recipes.iter().flat_map(|r| &r.guards) {
            if let Guard::Matches(_, p)
            | Guard::NotMatches(_, p)
            | Guard::NotInsideBranchOf(_, p)
            | Guard::FileMatches(p) = guard
            {
                p.regex();
                built += 1;
            }
        }
        assert!(built > 20, "only {built} patterns");
        let error = Pattern::new("(").unwrap_err();
        assert!(error.contains("bad regular expression"), "{error}");
        assert!(Pattern::new(r"\bnot\s+\w+").unwrap().is_match("not x"));
    }
}
