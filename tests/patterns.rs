//! sadfix's pattern matcher (`src/pattern/`) against tree-sitter's own query engine: every
//! shipped recipe's query, on every Python file of `fixtures/` (and of the tree
//! `SADFIX_PATTERN_TREE` names, which the real-SadTalker CI step sets to the installed package),
//! must give the same matches, capture for capture.

use sadfix::patch::catalog::SHIPPED;
use sadfix::pattern;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use streaming_iterator::StreamingIterator;
use tree_sitter::{Language, Parser, Query, QueryCursor};

/// A match as both engines can spell it: the pattern and each capture's name and byte range.
type Spelled = (usize, Vec<(String, usize, usize)>);

fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// A recipe's `id` and `query`; its other fields are skipped.
#[derive(serde::Deserialize)]
struct QueryOnly {
    id: String,
    query: String,
}

fn shipped_queries() -> Vec<(String, String)> {
    SHIPPED
        .iter()
        .flat_map(|(file, text)| {
            yaml_serde::from_str::<Vec<QueryOnly>>(text).unwrap_or_else(|e| panic!("{file}: {e}"))
        })
        .map(|r| (r.id, r.query))
        .collect()
}

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

fn by_tree_sitter(query: &Query, tree: &tree_sitter::Tree, text: &str) -> BTreeSet<Spelled> {
    let names = query.capture_names();
    let mut cursor = QueryCursor::new();
    let mut out = BTreeSet::new();
    let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
    while let Some(m) = matches.next() {
        let mut caps: Vec<(String, usize, usize)> = m
            .captures
            .iter()
            .map(|c| {
                (
                    names[c.index as usize].to_string(),
                    c.node.start_byte(),
                    c.node.end_byte(),
                )
            })
            .collect();
        caps.sort();
        out.insert((m.pattern_index, caps));
    }
    out
}

fn by_walk(
    patterns: &pattern::Patterns,
    tree: &tree_sitter::Tree,
    text: &str,
) -> BTreeSet<Spelled> {
    let names = patterns.capture_names();
    let mut out = BTreeSet::new();
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        for p in 0..patterns.pattern_count() {
            pattern::matches_at(patterns, p, node, text, &mut |caps| {
                let mut caps: Vec<(String, usize, usize)> = caps
                    .iter()
                    .map(|(c, n)| (names[*c as usize].clone(), n.start_byte(), n.end_byte()))
                    .collect();
                caps.sort();
                out.insert((p, caps));
            });
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

#[test]
fn the_walk_matches_what_tree_sitter_matches() {
    let mut files = Vec::new();
    python_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut files,
    );
    let extra = std::env::var_os("SADFIX_PATTERN_TREE");
    if let Some(dir) = &extra {
        let before = files.len();
        python_files(Path::new(dir), &mut files);
        assert!(files.len() > before, "no Python file under {dir:?}");
    }
    assert!(files.len() >= 100, "only {} fixture files", files.len());
    let lang = language();
    let queries: Vec<(String, Query, pattern::Patterns)> = shipped_queries()
        .into_iter()
        .map(|(id, text)| {
            let ts = Query::new(&lang, &text).unwrap_or_else(|e| panic!("{id}: {e}"));
            let ours = pattern::compile(&lang, &text).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(ts.pattern_count(), ours.pattern_count(), "{id}");
            (id, ts, ours)
        })
        .collect();
    let mut parser = Parser::new();
    parser.set_language(&lang).unwrap();
    let mut compared = 0usize;
    let mut matched = 0usize;
    let mut differences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let tree = parser.parse(&text, None).expect("parses");
        for (id, ts, ours) in &queries {
            let want = by_tree_sitter(ts, &tree, &text);
            let got = by_walk(ours, &tree, &text);
            compared += 1;
            matched += want.len();
            if want != got {
                differences.push(format!(
                    "{id} on {}:\n  tree-sitter only: {:?}\n  walk only: {:?}",
                    file.display(),
                    want.difference(&got).collect::<Vec<_>>(),
                    got.difference(&want).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {compared} (recipe, file) pairs differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
    // The comparison saw real matches, not only empty sets.
    assert!(matched >= 200, "only {matched} matches in {compared} pairs");
}

#[test]
fn errors_say_where_and_what() {
    let lang = language();
    let cases = [
        ("(if_statement", "unclosed"),
        ("(no_such_node)", "invalid node type no_such_node"),
        ("(call nowhere: (identifier))", "invalid field name nowhere"),
        (
            "(call \"nonsense-token\")",
            "invalid node type \"nonsense-token\"",
        ),
        ("(call (identifier)* @x)", "quantifiers"),
        ("((identifier) (identifier))", "grouped"),
        ("(identifier) @x (#frob? @x)", "a predicate must be inside"),
        (
            "(call function: (identifier) @x (#frob? @x))",
            "unknown predicate",
        ),
        (
            "(call function: (identifier) @x (#eq? @y \"a\"))",
            "@y is not captured",
        ),
        (
            "(call function: (identifier) @x (#match? @x \"(\"))",
            "bad regular expression",
        ),
    ];
    for (text, expected) in cases {
        let e = pattern::compile(&lang, text).expect_err(text);
        assert!(e.to_string().contains(expected), "{text}: {e}");
    }
    let e = pattern::compile(&lang, "(call\n  function: (nope))").unwrap_err();
    assert_eq!((e.row, e.column), (1, 13), "{e}");
}

#[test]
fn optional_children_anchors_and_absent_fields_match_like_tree_sitter() {
    let lang = language();
    let text = "f(a, b)\nf(a)\ng()\nx = [1, 2, 3]\ndef h(a, b=1): pass\ndef k(): pass\n";
    let mut parser = Parser::new();
    parser.set_language(&lang).unwrap();
    let tree = parser.parse(text, None).unwrap();
    for query in [
        "(call arguments: (argument_list (identifier)? @a . (identifier) @b .))",
        "(list . (integer) @first)",
        "(list (integer) @last .)",
        "(list (integer) @x . (integer) @y)",
        "(function_definition !return_type parameters: (parameters . (_) @p))",
        "(call function: _ @f arguments: (argument_list \")\" @close))",
        "[(call) @c (list) @l]",
        "(call function: (identifier) @f (#any-of? @f \"f\" \"g\"))",
        "(call function: (identifier) @f (#not-eq? @f \"f\"))",
        "(call (argument_list (identifier) @a (identifier) @b) (#not-eq? @a @b))",
        "(expression_statement (primary_expression/call) @c)",
        "(expression_statement (primary_expression) @c)",
    ] {
        let ts = Query::new(&lang, query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let ours = pattern::compile(&lang, query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let want = by_tree_sitter(&ts, &tree, text);
        assert!(
            !want.is_empty(),
            "{query} matches nothing: the case tests nothing"
        );
        assert_eq!(by_walk(&ours, &tree, text), want, "{query}");
    }
}

#[test]
fn any_cut_of_a_shipped_query_compiles_or_fails_without_panicking() {
    let lang = language();
    let mut refused = 0;
    for (id, text) in shipped_queries() {
        let cuts = (0..text.len()).filter(|&i| text.is_char_boundary(i));
        for cut in cuts {
            let part = &text[..cut];
            let result = std::panic::catch_unwind(|| pattern::compile(&lang, part).is_err());
            match result {
                Ok(failed) => refused += usize::from(failed),
                Err(_) => panic!("{id}: compiling the first {cut} bytes panicked:\n{part}"),
            }
        }
    }
    // Most cuts leave an unclosed pattern, which must be an error, not a pattern.
    assert!(refused > 1000, "only {refused} cuts refused");
}
