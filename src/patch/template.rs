//! Rewrite templates: literal text with `{capture}`, `{capture:quote}` (the quote character of a
//! captured string, so `'cpu'` becomes `'cuda'`), `{batch_size}` and `{timeout}`.

use super::options::PatchOptions;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Capture(u32),
    Quote(u32),
    BatchSize,
    Timeout,
}

/// A parsed template. Multi-line templates are re-indented where they are placed: four
/// leading spaces in the recipe stand for one indent level of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// Parse `text`; `capture` maps a capture name to its index. Every problem is returned.
pub fn parse(text: &str, capture: &dyn Fn(&str) -> Option<u32>) -> Result<Template, Vec<String>> {
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let Some(close) = rest[open..].find('}') else {
            errors.push(format!("unclosed `{{` in template {text:?}"));
            return Err(errors);
        };
        let name = &rest[open + 1..open + close];
        let (base, quote) = match name.strip_suffix(":quote") {
            Some(base) => (base, true),
            None => (name, false),
        };
        match (base, quote, capture(base)) {
            ("batch_size", false, _) => parts.push(Part::BatchSize),
            ("timeout", false, _) => parts.push(Part::Timeout),
            (_, false, Some(i)) => parts.push(Part::Capture(i)),
            (_, true, Some(i)) => parts.push(Part::Quote(i)),
            _ => errors.push(format!(
                "template placeholder {{{name}}} names no capture of the query (nor batch_size or timeout)"
            )),
        }
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    if errors.is_empty() {
        Ok(Template { parts })
    } else {
        Err(errors)
    }
}

impl Template {
    pub fn uses(&self, part: &Part) -> bool {
        self.parts.contains(part)
    }

    /// Render with `capture` giving each capture's text. Line breaks of the template become
    /// `newline`; each line after the first gets `base` plus `unit` per four template spaces.
    /// Captured text keeps its own line breaks and indentation, which is right because a
    /// capture only moves to the same nesting depth.
    pub fn render(
        &self,
        capture: &dyn Fn(u32) -> String,
        options: &PatchOptions,
        layout: &Layout<'_>,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => {
                    for (n, piece) in t.split('\n').enumerate() {
                        if n > 0 {
                            out.push_str(layout.newline);
                            let trimmed = piece.trim_start_matches(' ');
                            let levels = (piece.len() - trimmed.len()) / 4;
                            out.push_str(layout.base);
                            out.push_str(&layout.unit.repeat(levels));
                            out.push_str(trimmed);
                        } else {
                            out.push_str(piece);
                        }
                    }
                }
                Part::Capture(i) => out.push_str(&capture(*i)),
                Part::Quote(i) => out.push(quote_of(&capture(*i))),
                Part::BatchSize => out.push_str(&options.batch_size.unwrap_or(0).to_string()),
                Part::Timeout => out.push_str(&options.cuda_timeout.unwrap_or(0).to_string()),
            }
        }
        out
    }
}

/// The quote character of a Python string literal's text (after any prefix such as `r` or `f`).
pub fn quote_of(literal: &str) -> char {
    literal
        .chars()
        .find(|c| *c == '"' || *c == '\'')
        .unwrap_or('"')
}

/// Where a rendered template goes: the file's line ending, one indent level, and the
/// indentation of the line the replacement starts on.
pub struct Layout<'a> {
    pub newline: &'a str,
    pub unit: &'a str,
    pub base: &'a str,
}
