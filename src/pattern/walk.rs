//! Matching a compiled pattern at one node by walking its children, the way tree-sitter's query
//! cursor matches: child patterns match children in order with any siblings between them (a
//! `.` anchor allows no named sibling between), a field pattern only a child in that field.
//! Every way the pattern can match is reported, earliest children first.

use super::ast::{Child, Elem, Patterns, Predicate, Step};
use tree_sitter::Node;

/// One captured node: the capture's index and the node.
pub type Capture<'t> = (u32, Node<'t>);

/// Calls `found` with the captures of every match of pattern `pattern` rooted at `node` whose
/// predicates hold (`text` is the text the tree was parsed from).
pub fn matches_at<'t>(
    patterns: &Patterns,
    pattern: usize,
    node: Node<'t>,
    text: &str,
    found: &mut dyn FnMut(&[Capture<'t>]),
) {
    let p = &patterns.list[pattern];
    let mut caps = Vec::new();
    step(&p.root, node, &mut caps, &mut |caps| {
        if p.predicates.iter().all(|pr| holds(pr, caps, text)) {
            found(caps);
        }
    });
}

type Next<'k, 't> = &'k mut dyn FnMut(&mut Vec<Capture<'t>>);

fn step<'t>(s: &Step, node: Node<'t>, caps: &mut Vec<Capture<'t>>, next: Next<'_, 't>) {
    elem(&s.elem, node, caps, &mut |caps| {
        let before = caps.len();
        caps.extend(s.captures.iter().map(|&c| (c, node)));
        next(caps);
        caps.truncate(before);
    });
}

fn elem<'t>(e: &Elem, node: Node<'t>, caps: &mut Vec<Capture<'t>>, next: Next<'_, 't>) {
    match e {
        Elem::Any => next(caps),
        Elem::Token(id) => {
            if !node.is_named() && node.kind_id() == *id {
                next(caps);
            }
        }
        Elem::Alt(branches) => {
            for b in branches {
                step(b, node, caps, next);
            }
        }
        Elem::Node {
            kinds,
            children,
            anchored_end,
            absent_fields,
        } => {
            if !node.is_named() || !(kinds.is_empty() || kinds.contains(&node.kind_id())) {
                return;
            }
            if absent_fields
                .iter()
                .any(|&f| node.child_by_field_id(f).is_some())
            {
                return;
            }
            if children.is_empty() && !anchored_end {
                next(caps);
                return;
            }
            let mut kids = Vec::with_capacity(node.child_count());
            let mut cursor = node.walk();
            if cursor.goto_first_child() {
                loop {
                    kids.push((cursor.node(), cursor.field_id().map(|f| f.get())));
                    if !cursor.goto_next_sibling() {
                        break;
                    }
                }
            }
            let seq = Seq {
                children,
                kids: &kids,
                anchored_end: *anchored_end,
            };
            seq.from(0, 0, None, caps, next);
        }
    }
}

/// Child patterns against a node's children.
struct Seq<'a, 't> {
    children: &'a [Child],
    kids: &'a [(Node<'t>, Option<u16>)],
    anchored_end: bool,
}

impl<'t> Seq<'_, 't> {
    /// Match child pattern `i` onwards against the children from `from` on; `last` is the
    /// child the previous pattern matched.
    fn from(
        &self,
        i: usize,
        from: usize,
        last: Option<usize>,
        caps: &mut Vec<Capture<'t>>,
        next: Next<'_, 't>,
    ) {
        let named_in =
            |range: std::ops::Range<usize>| self.kids[range].iter().any(|(n, _)| n.is_named());
        let Some(c) = self.children.get(i) else {
            let after = last.map_or(0, |l| l + 1);
            if !(self.anchored_end && named_in(after..self.kids.len())) {
                next(caps);
            }
            return;
        };
        if c.step.optional {
            self.from(i + 1, from, last, caps, next);
        }
        let lo = last.map_or(0, |l| l + 1);
        for j in from..self.kids.len() {
            if c.anchored && named_in(lo..j) {
                break;
            }
            let (kid, field) = self.kids[j];
            if c.field.is_some() && field != c.field {
                continue;
            }
            step(&c.step, kid, caps, &mut |caps| {
                self.from(i + 1, j + 1, Some(j), caps, next)
            });
        }
    }
}

fn holds(p: &Predicate, caps: &[Capture<'_>], text: &str) -> bool {
    let texts = |c: u32| {
        caps.iter()
            .filter(move |(i, _)| *i == c)
            .map(|(_, n)| &text[n.byte_range()])
    };
    // The plain forms: every node passes; the `any-` forms: one does. No node: passes.
    let judge = |c: u32, all: bool, positive: bool, test: &dyn Fn(&str) -> bool| {
        let mut seen = false;
        for t in texts(c) {
            seen = true;
            let ok = test(t) == positive;
            if all && !ok {
                return false;
            }
            if !all && ok {
                return true;
            }
        }
        all || !seen
    };
    match p {
        Predicate::Eq {
            capture,
            text: want,
            positive,
            all,
        } => judge(*capture, *all, *positive, &|t| t == want),
        Predicate::Match {
            capture,
            regex,
            positive,
            all,
        } => judge(*capture, *all, *positive, &|t| regex.is_match(t)),
        Predicate::AnyOf {
            capture,
            values,
            positive,
        } => judge(*capture, true, *positive, &|t| {
            values.iter().any(|v| v == t)
        }),
        Predicate::EqCapture {
            left,
            right,
            positive,
            all,
        } => {
            let mut l = texts(*left);
            let mut r = texts(*right);
            loop {
                match (l.next(), r.next()) {
                    (Some(a), Some(b)) => {
                        let ok = (a == b) == *positive;
                        if *all && !ok {
                            return false;
                        }
                        if !*all && ok {
                            return true;
                        }
                    }
                    (None, None) => return true,
                    _ => return false,
                }
            }
        }
    }
}
