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
}
