//! Reading tree-sitter query text into `Patterns`: node kinds and field names are looked up in
//! the grammar once, here, with an error that says where a name is unknown. Supported: node
//! patterns with fields, `(_)`, `_`, `"token"`, alternations, `.` anchors, `!field`, the `?`
//! quantifier, captures, and the text predicates `#eq?`, `#match?`, `#any-of?` with their
//! `not-` and `any-` forms. Grouped sibling sequences and the `*` and `+` quantifiers are
//! refused with an error rather than matched differently from tree-sitter.

use super::ast::{Child, Elem, Pattern, PatternError, Patterns, Predicate, Step};
use regex::Regex;
use tree_sitter::Language;

/// Compile `source` for `language`.
pub fn compile(language: &Language, source: &str) -> Result<Patterns, PatternError> {
    let mut p = Parser {
        lang: language,
        text: source,
        at: 0,
        capture_names: Vec::new(),
        predicates: Vec::new(),
        used: Vec::new(),
        pending: Vec::new(),
    };
    let mut list = Vec::new();
    loop {
        p.skip_space();
        if p.at >= source.len() {
            break;
        }
        let root = p.step(true)?;
        let used = std::mem::take(&mut p.used);
        for (at, capture) in std::mem::take(&mut p.pending) {
            if !used.contains(&capture) {
                return Err(p.error_at(
                    at,
                    format!(
                        "@{} is not captured in this pattern",
                        p.capture_names[capture as usize]
                    ),
                ));
            }
        }
        list.push(Pattern {
            root,
            predicates: std::mem::take(&mut p.predicates),
        });
    }
    Ok(Patterns {
        list,
        capture_names: p.capture_names,
    })
}

struct Parser<'a> {
    lang: &'a Language,
    text: &'a str,
    at: usize,
    capture_names: Vec<String>,
    /// The current pattern's predicates.
    predicates: Vec<Predicate>,
    /// The captures the current pattern's steps name.
    used: Vec<u32>,
    /// Captures a predicate names (with where), checked against `used` at the pattern's end.
    pending: Vec<(usize, u32)>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn error_at(&self, at: usize, message: String) -> PatternError {
        let before = &self.text[..at.min(self.text.len())];
        let row = before.matches('\n').count();
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
        PatternError {
            row,
            column,
            message,
        }
    }

    fn error(&self, message: impl Into<String>) -> PatternError {
        self.error_at(self.at, message.into())
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.at += 1;
            } else if c == b';' {
                while let Some(c) = self.peek() {
                    self.at += 1;
                    if c == b'\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// A name: node kind, field, capture or predicate (letters, digits, `_`, `-`, `.`, `?`,
    /// `!`, `/`, as tree-sitter allows).
    fn name(&mut self) -> &str {
        let start = self.at;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'?' | b'!' | b'/') {
                self.at += 1;
            } else {
                break;
            }
        }
        &self.text[start..self.at]
    }

    fn string(&mut self) -> Result<String, PatternError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('0') => out.push('\0'),
                    Some(other) => out.push(other),
                    None => break,
                },
                _ => out.push(c),
            }
        }
        Err(self.error_at(start, "unterminated string".into()))
    }

    fn capture(&mut self, name: &str) -> u32 {
        match self.capture_names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.capture_names.push(name.to_string());
                (self.capture_names.len() - 1) as u32
            }
        }
    }

    /// Whether a `(` at the cursor opens a predicate.
    fn at_predicate(&self) -> bool {
        self.text[self.at + 1..].trim_start().starts_with('#')
    }

    fn step(&mut self, top: bool) -> Result<Step, PatternError> {
        self.skip_space();
        let elem = match self.peek() {
            Some(b'(') if self.at_predicate() => {
                return Err(self.error("a predicate must be inside a pattern"));
            }
            Some(b'(') => self.node()?,
            Some(b'[') => {
                self.at += 1;
                let mut branches = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b']') => {
                            self.at += 1;
                            break;
                        }
                        Some(b'(') if self.at_predicate() => self.predicate()?,
                        Some(_) => branches.push(self.step(false)?),
                        None => return Err(self.error("unclosed [")),
                    }
                }
                if branches.is_empty() {
                    return Err(self.error("an empty alternation"));
                }
                Elem::Alt(branches)
            }
            Some(b'"') => {
                let at = self.at;
                let text = self.string()?;
                match self.lang.id_for_node_kind(&text, false) {
                    0 => return Err(self.error_at(at, format!("invalid node type {text:?}"))),
                    id => Elem::Token(id),
                }
            }
            Some(b'_') if !self.text[self.at + 1..].starts_with(|c: char| is_name_char(c)) => {
                self.at += 1;
                Elem::Any
            }
            Some(b'@') => return Err(self.error("a capture must follow a pattern")),
            Some(b')') => return Err(self.error("unexpected )")),
            Some(_) => return Err(self.error("expected a pattern: (, [, \" or _")),
            None => return Err(self.error("unexpected end of query")),
        };
        let mut step = Step {
            elem,
            captures: Vec::new(),
            optional: false,
        };
        loop {
            self.skip_space();
            match self.peek() {
                Some(b'?') if !top => {
                    self.at += 1;
                    step.optional = true;
                }
                Some(b'?' | b'*' | b'+') => {
                    return Err(self.error(
                        "quantifiers * and + (and ? on a whole pattern) are not supported",
                    ));
                }
                Some(b'@') => {
                    self.at += 1;
                    let name = self.name().to_string();
                    if name.is_empty() {
                        return Err(self.error("a capture needs a name"));
                    }
                    let c = self.capture(&name);
                    step.captures.push(c);
                    self.used.push(c);
                }
                _ => break,
            }
        }
        Ok(step)
    }

    /// `(kind children...)`, the cursor on `(`.
    fn node(&mut self) -> Result<Elem, PatternError> {
        self.at += 1;
        self.skip_space();
        if matches!(self.peek(), Some(b'(' | b'[' | b'"')) {
            return Err(self.error("grouped sibling patterns are not supported"));
        }
        let at = self.at;
        let name = self.name().to_string();
        let kinds = match name.as_str() {
            "" => return Err(self.error("expected a node type")),
            "_" => Vec::new(),
            // `supertype/subtype`: the subtype.
            n => self.kind(n.rsplit('/').next().unwrap_or(n), at)?,
        };
        let mut children = Vec::new();
        let mut absent_fields = Vec::new();
        let mut anchor = false;
        loop {
            self.skip_space();
            match self.peek() {
                Some(b')') => {
                    self.at += 1;
                    break;
                }
                Some(b'.') => {
                    self.at += 1;
                    anchor = true;
                }
                Some(b'!') => {
                    self.at += 1;
                    let at = self.at;
                    let field = self.name().to_string();
                    absent_fields.push(self.field(&field, at)?);
                }
                Some(b'(') if self.at_predicate() => self.predicate()?,
                Some(_) => {
                    let back = self.at;
                    let name = self.name().to_string();
                    self.skip_space();
                    let field = if !name.is_empty() && self.peek() == Some(b':') {
                        self.at += 1;
                        Some(self.field(&name, back)?)
                    } else {
                        self.at = back;
                        None
                    };
                    let step = self.step(false)?;
                    children.push(Child {
                        field,
                        anchored: anchor,
                        step,
                    });
                    anchor = false;
                }
                None => return Err(self.error(format!("unclosed ({name}"))),
            }
        }
        Ok(Elem::Node {
            kinds,
            children,
            anchored_end: anchor,
            absent_fields,
        })
    }

    /// The kind ids a named node kind stands for (a supertype: its subtypes).
    fn kind(&self, name: &str, at: usize) -> Result<Vec<u16>, PatternError> {
        let id = self.lang.id_for_node_kind(name, true);
        if id == 0 {
            return Err(self.error_at(at, format!("invalid node type {name}")));
        }
        let mut kinds = Vec::new();
        let mut todo = vec![id];
        while let Some(k) = todo.pop() {
            if self.lang.node_kind_is_supertype(k) {
                todo.extend(self.lang.subtypes_for_supertype(k));
            } else if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        Ok(kinds)
    }

    fn field(&self, name: &str, at: usize) -> Result<u16, PatternError> {
        self.lang
            .field_id_for_name(name)
            .map(|f| f.get())
            .ok_or_else(|| self.error_at(at, format!("invalid field name {name}")))
    }

    /// `(#name? args...)`, the cursor on `(`.
    fn predicate(&mut self) -> Result<(), PatternError> {
        let start = self.at;
        self.at += 1;
        self.skip_space();
        self.at += 1; // '#'
        let op = self.name().to_string();
        enum Arg {
            Capture(u32),
            Text(String),
        }
        let mut args = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(b')') => {
                    self.at += 1;
                    break;
                }
                Some(b'@') => {
                    let at = self.at;
                    self.at += 1;
                    let name = self.name().to_string();
                    let c = self.capture(&name);
                    self.pending.push((at, c));
                    args.push(Arg::Capture(c));
                }
                Some(b'"') => args.push(Arg::Text(self.string()?)),
                Some(_) => {
                    let name = self.name().to_string();
                    if name.is_empty() {
                        return Err(self.error("unexpected character in a predicate"));
                    }
                    args.push(Arg::Text(name));
                }
                None => return Err(self.error("unclosed predicate")),
            }
        }
        let bad = |p: &Self, why: &str| Err(p.error_at(start, format!("#{op}: {why}")));
        let (base, positive, all) =
            match op.as_str() {
                "eq?" | "match?" => (op.as_str(), true, true),
                "not-eq?" | "not-match?" => (&op[4..], false, true),
                "any-eq?" | "any-match?" => (&op[4..], true, false),
                "any-not-eq?" | "any-not-match?" => (&op[8..], false, false),
                "any-of?" => ("any-of?", true, true),
                "not-any-of?" => ("any-of?", false, true),
                _ => return bad(
                    self,
                    "unknown predicate (eq?, match?, any-of? and their not-/any- forms are known)",
                ),
            };
        let predicate = match (base, args.as_slice()) {
            ("eq?", [Arg::Capture(c), Arg::Text(t)]) => Predicate::Eq {
                capture: *c,
                text: t.clone(),
                positive,
                all,
            },
            ("eq?", [Arg::Capture(l), Arg::Capture(r)]) => Predicate::EqCapture {
                left: *l,
                right: *r,
                positive,
                all,
            },
            ("match?", [Arg::Capture(c), Arg::Text(t)]) => match Regex::new(t) {
                Ok(regex) => Predicate::Match {
                    capture: *c,
                    regex,
                    positive,
                    all,
                },
                Err(e) => return bad(self, &format!("bad regular expression: {e}")),
            },
            ("any-of?", [Arg::Capture(c), rest @ ..]) if !rest.is_empty() => {
                let mut values = Vec::new();
                for a in rest {
                    match a {
                        Arg::Text(t) => values.push(t.clone()),
                        Arg::Capture(_) => return bad(self, "the values must be strings"),
                    }
                }
                Predicate::AnyOf {
                    capture: *c,
                    values,
                    positive,
                }
            }
            _ => {
                return bad(
                    self,
                    "wrong arguments (a capture, then a string or capture)",
                )
            }
        };
        self.predicates.push(predicate);
        Ok(())
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '?' | '!' | '/')
}
