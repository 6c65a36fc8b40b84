//! The bounded CUDA check that `--cuda-timeout` puts in place of `torch.cuda.is_available()`:
//! a child Python answers the question, so a hang inside the CUDA driver (seen under WSL) ends
//! at the deadline instead of hanging SadTalker. SIGALRM cannot do this: Python runs signal
//! handlers only between bytecodes, never inside the driver's C code.

use super::edit::Edit;
use super::source::Source;

/// The helper's name; calls to it mark the check as already bounded.
pub const NAME: &str = "_sadfix_cuda_available";

/// The helper's text, four-space indented and "\n" separated, as written into a file.
const TEXT: &str = r#"def _sadfix_cuda_available(timeout):
    # Added by sadfix (patch --cuda-timeout): ask a child Python whether CUDA works, with a
    # deadline, so that a hang inside the CUDA driver cannot hang this program.
    import subprocess
    import sys
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        print("sadfix: the CUDA check did not answer within %s s; using the CPU" % timeout)
        return False
    return done.stdout.strip() == "True""#;

/// Whether the file already defines the helper at module level.
pub fn present(src: &Source) -> bool {
    let root = src.tree.root_node();
    let mut cursor = root.walk();
    let found = root.named_children(&mut cursor).any(|n| {
        n.kind() == "function_definition"
            && n.child_by_field_name("name")
                .is_some_and(|name| src.node_text(name) == NAME)
    });
    found
}

/// The edit that inserts the helper after the module docstring, `from __future__` imports and
/// the leading run of imports, in the file's line ending and indent unit.
pub fn insertion(src: &Source) -> Edit {
    let root = src.tree.root_node();
    let mut cursor = root.walk();
    let mut after = None;
    let mut after_comments = None;
    for (i, node) in root.named_children(&mut cursor).enumerate() {
        let leading = match node.kind() {
            "import_statement" | "import_from_statement" | "future_import_statement" => true,
            "comment" => true,
            "expression_statement" => {
                i == 0 && node.named_child(0).is_some_and(|c| c.kind() == "string")
            }
            _ => false,
        };
        if !leading {
            break;
        }
        if node.kind() == "comment" {
            // A shebang or an encoding cookie must stay on the first lines.
            if after.is_none() {
                after_comments = Some(node.end_byte());
            }
        } else {
            after = Some(node.end_byte());
        }
    }
    // Go to the end of that line, so a trailing comment stays with its statement.
    let after = after.or(after_comments).map(|end| {
        let line_end = src.text[end..]
            .find('\n')
            .map_or(src.text.len(), |i| end + i);
        if line_end > end && src.text.as_bytes()[line_end - 1] == b'\r' {
            line_end - 1
        } else {
            line_end
        }
    });
    let nl = src.newline();
    let unit = src.indent_unit();
    let body: Vec<String> = TEXT
        .split('\n')
        .map(|line| {
            let trimmed = line.trim_start_matches(' ');
            let levels = (line.len() - trimmed.len()) / 4;
            let extra = " ".repeat((line.len() - trimmed.len()) % 4);
            format!("{}{extra}{trimmed}", unit.repeat(levels))
        })
        .collect();
    let body = body.join(nl);
    match after {
        // After the last leading import: end that line, two blank lines, the helper.
        Some(end) => Edit::new(end..end, format!("{nl}{nl}{nl}{body}")),
        None => Edit::new(0..0, format!("{body}{nl}{nl}{nl}")),
    }
}

/// The edit that takes the helper out again when no code refers to it any more (e.g. after
/// `--force-gpu` replaced every bounded check), with the blank lines `insertion` put around it,
/// so forcing bounded code gives the same text as forcing the original. `None` while it is used
/// or when the file does not define it.
pub fn removal(src: &Source) -> Option<Edit> {
    let root = src.tree.root_node();
    let mut cursor = root.walk();
    let def = root.named_children(&mut cursor).find(|n| {
        n.kind() == "function_definition"
            && n.child_by_field_name("name")
                .is_some_and(|name| src.node_text(name) == NAME)
    })?;
    if refers_to_helper(src, root, def.id()) {
        return None;
    }
    let nl = src.newline();
    let gap = nl.repeat(3);
    let (start, end) = (def.start_byte(), def.end_byte());
    let range = if src.text[..start].ends_with(&gap) {
        start - gap.len()..end
    } else if start == 0 && src.text[end..].starts_with(&gap) {
        0..end + gap.len()
    } else {
        let line_start = src.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let after = if src.text[end..].starts_with(nl) {
            nl.len()
        } else {
            0
        };
        line_start..end + after
    };
    Some(Edit::new(range, ""))
}

/// Whether any identifier outside the helper's own definition names the helper.
fn refers_to_helper(src: &Source, root: tree_sitter::Node<'_>, def: usize) -> bool {
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.id() == def {
            continue;
        }
        if node.kind() == "identifier" && src.node_text(node) == NAME {
            return true;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_after_docstring_future_and_imports() {
        let src = Source::parse(
            b"\"\"\"doc\"\"\"\nfrom __future__ import annotations\nimport torch\n\nx = 1\n",
        )
        .unwrap();
        assert!(!present(&src));
        let edit = insertion(&src);
        let at = src.text.find("import torch").unwrap() + "import torch".len();
        assert_eq!(edit.range, at..at);
        let out = super::super::edit::splice(&src.text, vec![edit]);
        let again = Source::parse(out.as_bytes()).unwrap();
        assert!(again.syntax_error().is_none());
        assert!(present(&again));
    }

    #[test]
    fn keeps_a_shebang_first_and_a_trailing_comment_on_its_line() {
        let src =
            Source::parse(b"#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n").unwrap();
        let at = src.text.find("x = 1").unwrap() - 1;
        assert_eq!(insertion(&src).range, at..at);
        let src = Source::parse(b"import torch  # the GPU\r\nx = 1\r\n").unwrap();
        let at = src.text.find("\r\nx").unwrap();
        assert_eq!(insertion(&src).range, at..at);
    }

    #[test]
    fn follows_tabs_and_crlf() {
        let src = Source::parse(b"import torch\r\nif x:\r\n\tpass\r\n").unwrap();
        let edit = insertion(&src);
        assert!(edit.replacement.contains("\r\n\timport subprocess"));
        assert!(!edit.replacement.contains("\n    "));
    }

    #[test]
    fn removal_undoes_insertion_once_nothing_calls_it() {
        for text in [
            "import torch\n\nx = 1\n",
            "x = 1\n",
            "import torch\r\nif x:\r\n\tpass\r\n",
        ] {
            let src = Source::parse(text.as_bytes()).unwrap();
            let with = super::super::edit::splice(&src.text, vec![insertion(&src)]);
            let with = src.reparse(with);
            let edit = removal(&with).expect("an unused helper is removed");
            assert_eq!(super::super::edit::splice(&with.text, vec![edit]), text);
        }
        let used = Source::parse(b"import torch\n\nok = _sadfix_cuda_available(5)\n").unwrap();
        let used = used.reparse(super::super::edit::splice(
            &used.text,
            vec![insertion(&used)],
        ));
        assert!(removal(&used).is_none());
    }
}
