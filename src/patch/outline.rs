//! The statement outline of a Python file, from a light tokenizer (strings, brackets, comments,
//! continuations): which bytes `scan` must parse to see every statement around a needle hit.
//!
//! A hit keeps its whole statement, every enclosing `if`/`try`/`for`/`while`/`with` (guards look
//! at those), and only the header line of an enclosing `def` or `class`. The rest of a big
//! module is never parsed. When anything looks odd the caller parses the whole file instead.

use std::ops::Range;

/// What a logical line starts with, as far as nesting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    DefOrClass,
    /// `if`, `try`, `for`, `while`, `with`, `match`: may be followed by a chain.
    Opener,
    /// `elif`, `else`, `except`, `finally`: continues the opener above it.
    Chain,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    indent: usize,
    head: Head,
}

/// The byte ranges to parse so every statement holding one of `hits` is complete, or `None`
/// when the outline is unsure (then parse everything).
pub fn regions(text: &str, hits: &[usize]) -> Option<Vec<Range<usize>>> {
    let lines = logical_lines(text);
    let mut out: Vec<Range<usize>> = Vec::new();
    for &hit in hits {
        let Some(k) = lines.iter().position(|l| l.start <= hit && hit < l.end) else {
            continue; // in a comment or blank line: no statement there
        };
        let (mut cur, range) = statement(&lines, k)?;
        out.push(range);
        loop {
            let indent = lines[cur].indent;
            let Some(p) = (0..cur).rev().find(|&p| lines[p].indent < indent) else {
                break;
            };
            match lines[p].head {
                Head::DefOrClass => {
                    out.push(lines[p].start..lines[p].end);
                    cur = p;
                }
                Head::Opener | Head::Chain => {
                    let (opener, range) = statement(&lines, p)?;
                    out.push(range);
                    cur = opener;
                }
                Head::Other => return None,
            }
        }
    }
    out.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in out {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    Some(merged)
}

/// The whole statement line `k` belongs to (an if/elif/else chain in full), and the index of
/// its first line.
fn statement(lines: &[Line], k: usize) -> Option<(usize, Range<usize>)> {
    let mut first = k;
    if lines[k].head == Head::Chain {
        let indent = lines[k].indent;
        first = (0..k).rev().find(|&p| {
            lines[p].indent == indent && lines[p].head == Head::Opener || lines[p].indent < indent
        })?;
        if lines[first].indent != indent {
            return None;
        }
    }
    let mut last = block_end(lines, first);
    if lines[first].head == Head::Opener {
        while last + 1 < lines.len()
            && lines[last + 1].indent == lines[first].indent
            && lines[last + 1].head == Head::Chain
        {
            last = block_end(lines, last + 1);
        }
    }
    Some((first, lines[first].start..lines[last].end))
}

/// The last line of the block that line `k` heads (itself for a simple statement).
fn block_end(lines: &[Line], k: usize) -> usize {
    let indent = lines[k].indent;
    let mut last = k;
    while last + 1 < lines.len() && lines[last + 1].indent > indent {
        last += 1;
    }
    last
}

/// Logical lines, without blank and comment-only lines.
fn logical_lines(text: &str) -> Vec<Line> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut indent = 0;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            indent = if b[i] == b'\t' {
                indent / 8 * 8 + 8
            } else {
                indent + 1
            };
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if matches!(b[i], b'\n' | b'\r' | b'#' | b'\x0c') {
            i = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n + 1);
            continue;
        }
        let head = head_of(&text[i..]);
        let mut depth = 0i32;
        while i < b.len() {
            match b[i] {
                b'#' => {
                    i = b[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(b.len(), |n| i + n);
                    continue;
                }
                b'\'' | b'"' => {
                    i = skip_string(b, i);
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b'\\' if b.get(i + 1) == Some(&b'\n') => i += 1,
                b'\\' if b.get(i + 1) == Some(&b'\r') => i += 2,
                b'\n' if depth <= 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        lines.push(Line {
            start,
            end: i.min(b.len()),
            indent,
            head,
        });
    }
    lines
}

/// The index after the string literal whose quote is at `i`.
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
    let mut k = if triple { i + 3 } else { i + 1 };
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            c if c == q && !triple => return k + 1,
            c if c == q && b.len() >= k + 3 && b[k + 1] == q && b[k + 2] == q => return k + 3,
            b'\n' if !triple => return k,
            _ => k += 1,
        }
    }
    b.len()
}

fn head_of(line: &str) -> Head {
    let word: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let next = line[word.len()..].trim_start();
    match word.as_str() {
        "def" | "class" => Head::DefOrClass,
        "async" if next.starts_with("def") => Head::DefOrClass,
        "async" => Head::Opener,
        "if" | "try" | "for" | "while" | "with" | "match" => Head::Opener,
        "elif" | "else" | "except" | "finally" => Head::Chain,
        _ => Head::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "import torch\n\n\nclass A:\n    \"\"\"doc\n# not a comment\n\"\"\"\n    def f(self, device='cuda'):\n        return (1,\n# inside brackets\n2)\n\n    def g(self):\n        if x:\n            pass\n        else:\n            y = 'cpu'\n        z = 1\n\n\ndef h():\n    pass\n";

    #[test]
    fn a_hit_keeps_its_statement_its_branches_and_only_the_headers_above() {
        let hit = CODE.find("'cpu'").unwrap();
        let got: Vec<&str> = regions(CODE, &[hit])
            .unwrap()
            .into_iter()
            .map(|r| &CODE[r])
            .collect();
        assert_eq!(got, ["class A:\n", "    def g(self):\n        if x:\n            pass\n        else:\n            y = 'cpu'\n"]);
    }

    #[test]
    fn strings_and_brackets_do_not_start_lines() {
        let hit = CODE.find("'cuda'").unwrap();
        let got: Vec<&str> = regions(CODE, &[hit])
            .unwrap()
            .into_iter()
            .map(|r| &CODE[r])
            .collect();
        assert_eq!(
            got,
            [
                "class A:\n",
                "    def f(self, device='cuda'):\n        return (1,\n# inside brackets\n2)\n"
            ]
        );
    }
}
