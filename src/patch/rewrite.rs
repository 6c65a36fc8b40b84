//! Turning a recipe match into edits: replace a capture with a rendered template, unwrap an
//! `if` into its block, or delete the identical copies that follow a statement.

use super::cuda_check;
use super::edit::Edit;
use super::matcher::Match;
use super::options::PatchOptions;
use super::recipe::{Rewrite, RewriteOp};
use super::source::Source;
use super::template::Layout;

/// The edits for one match, or `None` when the shape cannot be rewritten safely (e.g. a
/// one-line `if x: y` to unwrap).
pub fn edits(
    rewrite: &Rewrite,
    m: &Match<'_>,
    src: &Source,
    options: &PatchOptions,
) -> Option<Vec<Edit>> {
    let newline = src.newline();
    let unit = src.indent_unit();
    match &rewrite.op {
        RewriteOp::Replace { capture, with } => {
            let node = m.node(*capture)?;
            let base = line_indent(src, node.start_byte());
            let layout = Layout {
                newline,
                unit: &unit,
                base,
            };
            let text = with.render(
                &|c| {
                    m.node(c)
                        .map(|n| src.node_text(n).to_string())
                        .unwrap_or_default()
                },
                options,
                &layout,
            );
            Some(vec![Edit::new(node.byte_range(), text)])
        }
        RewriteOp::Edits(parts) => parts
            .iter()
            .map(|(capture, with)| {
                let node = m.node(*capture)?;
                let layout = Layout {
                    newline,
                    unit: &unit,
                    base: line_indent(src, node.start_byte()),
                };
                let text = with.render(&|c| capture_text(m, src, c), options, &layout);
                Some(Edit::new(node.byte_range(), text))
            })
            .collect(),
        RewriteOp::Unwrap { statement, body } => {
            let stmt = m.node(*statement)?;
            let block = m.node(*body)?;
            let outer = src.indent_before(stmt.start_byte())?;
            let inner = src.indent_before(block.start_byte())?;
            Some(vec![Edit::new(
                stmt.byte_range(),
                reindent(src.node_text(block), inner, outer),
            )])
        }
        RewriteOp::DropCudaCheck { capture } => {
            let cond = m.node(*capture)?;
            cuda_check::drop_edits(src, &cuda_check::Spellings::of(&src.text), cond)
        }
        RewriteOp::Dedupe { capture } => {
            let first = m.node(*capture)?;
            let text = src.node_text(first);
            let mut last = first;
            while let Some(next) = last.next_named_sibling() {
                let between = &src.text[last.end_byte()..next.start_byte()];
                if src.node_text(next) != text || !between.trim().is_empty() {
                    break;
                }
                last = next;
            }
            (last.id() != first.id())
                .then(|| vec![Edit::new(first.end_byte()..last.end_byte(), "")])
        }
    }
}

fn capture_text(m: &Match<'_>, src: &Source, c: u32) -> String {
    m.node(c)
        .map(|n| src.node_text(n).to_string())
        .unwrap_or_default()
}

/// The whitespace that starts the line holding `byte`.
fn line_indent(src: &Source, byte: usize) -> &str {
    let start = src.text[..byte].rfind('\n').map_or(0, |i| i + 1);
    let line = &src.text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Move a block's lines from indentation `from` to `to`. Its first line starts at the block's
/// first statement, so only the following lines carry the old indentation; lines that do not
/// (blank lines, continuation lines of a string) are left as they are.
fn reindent(block: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(block.len());
    for (n, line) in block.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
            match line.strip_prefix(from) {
                Some(rest) => {
                    out.push_str(to);
                    out.push_str(rest);
                }
                None => out.push_str(line),
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_keeps_crlf_and_moves_each_line() {
        let block = "device = \"cuda\"\r\n\t\tprint(device)";
        assert_eq!(
            reindent(block, "\t\t", "\t"),
            "device = \"cuda\"\r\n\tprint(device)"
        );
    }
}
