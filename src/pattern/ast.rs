//! Compiled patterns: tree-sitter query text read into a tree of steps whose node kinds and
//! field names are already the grammar's numeric ids, so matching compares integers.

use regex::Regex;
use std::fmt;

/// The patterns of one query text, and the names of their captures (a capture's index is its
/// position in `capture_names`).
#[derive(Debug)]
pub struct Patterns {
    pub(super) list: Vec<Pattern>,
    pub(super) capture_names: Vec<String>,
}

/// One top-level pattern.
#[derive(Debug)]
pub struct Pattern {
    pub(super) root: Step,
    /// Every predicate written anywhere in the pattern; all must hold for a match.
    pub(super) predicates: Vec<Predicate>,
}

/// A pattern element with what follows it: its captures and whether it may be absent.
#[derive(Debug)]
pub struct Step {
    pub(super) elem: Elem,
    pub(super) captures: Vec<u32>,
    /// `?`: the step may match nothing (only as a child).
    pub(super) optional: bool,
}

#[derive(Debug)]
pub enum Elem {
    /// `(kind child...)`, or `(_ child...)` with no kinds: a named node. A supertype stands for
    /// its subtypes.
    Node {
        kinds: Vec<u16>,
        children: Vec<Child>,
        /// A `.` before the closing parenthesis: the last child matched is the last named one.
        anchored_end: bool,
        /// `!field`: the node has no child in these fields.
        absent_fields: Vec<u16>,
    },
    /// `"text"`: an anonymous node of that kind.
    Token(u16),
    /// `_`: any node, named or not.
    Any,
    /// `[a b ...]`: any one of these.
    Alt(Vec<Step>),
}

/// A child pattern of a node pattern.
#[derive(Debug)]
pub struct Child {
    /// `field: pattern`: the child is in this field.
    pub(super) field: Option<u16>,
    /// A `.` before it: it is the first named child (when first), or the named sibling right
    /// after the previous child's match.
    pub(super) anchored: bool,
    pub(super) step: Step,
}

/// A text predicate. `all`: every node of the capture must pass (the plain forms); otherwise
/// one must (the `any-` forms). A capture with no node passes.
#[derive(Debug)]
pub enum Predicate {
    Eq {
        capture: u32,
        text: String,
        positive: bool,
        all: bool,
    },
    EqCapture {
        left: u32,
        right: u32,
        positive: bool,
        all: bool,
    },
    Match {
        capture: u32,
        regex: Regex,
        positive: bool,
        all: bool,
    },
    AnyOf {
        capture: u32,
        values: Vec<String>,
        positive: bool,
    },
}

/// Why a query text does not compile: where (0-based row and column, as tree-sitter counts)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub row: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, column {}: {}",
            self.row + 1,
            self.column + 1,
            self.message
        )
    }
}

impl std::error::Error for PatternError {}

impl Patterns {
    pub fn pattern_count(&self) -> usize {
        self.list.len()
    }

    pub fn capture_names(&self) -> &[String] {
        &self.capture_names
    }

    pub fn capture_index_for_name(&self, name: &str) -> Option<u32> {
        self.capture_names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u32)
    }

    /// The node kinds a match of `pattern` can start at; `None`: any node.
    pub fn root_kinds(&self, pattern: usize) -> Option<Vec<u16>> {
        let mut kinds = Vec::new();
        root_kinds_of(&self.list[pattern].root, &mut kinds).then_some(kinds)
    }
}

/// Adds the kinds `step` can match to `kinds`; false when it can match any node.
fn root_kinds_of(step: &Step, kinds: &mut Vec<u16>) -> bool {
    match &step.elem {
        Elem::Node { kinds: k, .. } if !k.is_empty() => {
            kinds.extend(k);
            true
        }
        Elem::Token(id) => {
            kinds.push(*id);
            true
        }
        Elem::Alt(branches) => branches.iter().all(|b| root_kinds_of(b, kinds)),
        Elem::Node { .. } | Elem::Any => false,
    }
}
