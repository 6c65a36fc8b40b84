//! One Python file as the engine sees it: its text (without a UTF-8 BOM), its syntax tree, and
//! the writing conventions (line ending, indent unit) every replacement must follow.

use tree_sitter::{Node, Parser, Tree};

const BOM: &str = "\u{feff}";

/// A parsed Python file.
pub struct Source {
    /// The text after the BOM, if any. All byte offsets of edits are into this.
    pub text: String,
    pub bom: bool,
    pub tree: Tree,
}

/// Where a file fails to parse (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxErrorAt {
    pub line: usize,
    pub column: usize,
}

impl Source {
    /// Parse `bytes`; `None` when they are not UTF-8 (SadTalker's code always is).
    pub fn parse(bytes: &[u8]) -> Option<Source> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Some(Source {
            tree: parse_tree(text),
            text: text.to_string(),
            bom,
        })
    }

    /// Parse only `regions` of `bytes` (whole lines, see `outline`): byte offsets and lines stay
    /// those of the whole file. `None` when the bytes are not UTF-8.
    pub fn parse_regions(bytes: &[u8], regions: &[std::ops::Range<usize>]) -> Option<Source> {
        let mut src = Source::parse_text_only(bytes)?;
        let ranges: Vec<tree_sitter::Range> = regions
            .iter()
            .map(|r| tree_sitter::Range {
                start_byte: r.start,
                end_byte: r.end,
                start_point: point_at(&src.text, r.start),
                end_point: point_at(&src.text, r.end),
            })
            .collect();
        let mut parser = parser();
        parser.set_included_ranges(&ranges).ok()?;
        src.tree = parser.parse(&src.text, None)?;
        Some(src)
    }

    fn parse_text_only(bytes: &[u8]) -> Option<Source> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // An empty tree until the caller parses the parts it wants.
        Some(Source {
            tree: parse_tree(""),
            text: text.to_string(),
            bom,
        })
    }

    /// Parse edited text with the same BOM setting.
    pub fn reparse(&self, text: String) -> Source {
        Source {
            tree: parse_tree(&text),
            text,
            bom: self.bom,
        }
    }

    /// The file's bytes: the BOM (if it had one) and the text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        out.extend_from_slice(self.text.as_bytes());
        out
    }

    pub fn node_text(&self, node: Node<'_>) -> &str {
        &self.text[node.byte_range()]
    }

    /// The line ending the file uses: CRLF when its first line ends so.
    pub fn newline(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if i > 0 && self.text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }

    /// One indentation level: a tab when the file indents with tabs, else the smallest number
    /// of leading spaces seen (4 when nothing is indented).
    pub fn indent_unit(&self) -> String {
        let mut smallest = usize::MAX;
        for line in self.text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with('\t') {
                return "\t".into();
            }
            let spaces = line.len() - line.trim_start_matches(' ').len();
            if spaces > 0 {
                smallest = smallest.min(spaces);
            }
        }
        " ".repeat(if smallest == usize::MAX { 4 } else { smallest })
    }

    /// The whitespace before `byte` on its line, or `None` when code precedes it there.
    pub fn indent_before(&self, byte: usize) -> Option<&str> {
        let start = self.text[..byte].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &self.text[start..byte];
        prefix
            .chars()
            .all(|c| c == ' ' || c == '\t')
            .then_some(prefix)
    }

    /// The first ERROR or MISSING node, if the file does not parse cleanly.
    pub fn syntax_error(&self) -> Option<SyntaxErrorAt> {
        let root = self.tree.root_node();
        if !root.has_error() {
            return None;
        }
        let mut cursor = root.walk();
        loop {
            let node = cursor.node();
            if node.is_error() || node.is_missing() {
                let p = node.start_position();
                return Some(SyntaxErrorAt {
                    line: p.row + 1,
                    column: p.column + 1,
                });
            }
            // Descend only into subtrees that hold the error.
            if node.has_error() && cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    let p = root.start_position();
                    return Some(SyntaxErrorAt {
                        line: p.row + 1,
                        column: p.column + 1,
                    });
                }
            }
        }
    }
}

fn parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("the bundled Python grammar matches the tree-sitter version");
    parser
}

fn parse_tree(text: &str) -> Tree {
    parser()
        .parse(text, None)
        .expect("parsing without a timeout or cancellation always returns a tree")
}

/// The row and column of `byte` in `text`.
fn point_at(text: &str, byte: usize) -> tree_sitter::Point {
    let before = &text[..byte];
    let row = before.bytes().filter(|&c| c == b'\n').count();
    let column = byte - before.rfind('\n').map_or(0, |i| i + 1);
    tree_sitter::Point { row, column }
}

/// The Python grammar, for compiling queries and checking node kinds.
pub fn language() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_bom_and_finds_conventions() {
        let src = Source::parse(b"\xef\xbb\xbfif x:\r\n\tpass\r\n").unwrap();
        assert!(src.bom);
        assert_eq!(src.newline(), "\r\n");
        assert_eq!(src.indent_unit(), "\t");
        assert!(src.syntax_error().is_none());
        assert_eq!(src.to_bytes(), b"\xef\xbb\xbfif x:\r\n\tpass\r\n");
    }

    #[test]
    fn reports_the_line_of_a_syntax_error() {
        let src = Source::parse(b"import os\n\nif x\n    pass\n").unwrap();
        assert_eq!(src.syntax_error().unwrap().line, 3);
    }
}
