//! Which listed recipes can match a tree, decided before any is validated: a recipe needs one
//! of its needles in a file, and, where its query is one plain pattern (no alternation, no
//! quantifier), every string its `#eq?` predicates compare a capture with, in that same file.
//! A recipe that cannot match is never validated, its guards' expressions never checked, and its
//! patterns never tried at a node.

use super::catalog::raw;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The strings to look for in each file, and what each listed recipe needs of them.
#[derive(Debug)]
pub struct Prefilter {
    /// Needles and literals, each once.
    pub strings: Vec<String>,
    recipes: Vec<Needs>,
}

#[derive(Debug)]
struct Needs {
    id: String,
    /// `device`, `batch_size` or `compat`, as the YAML says.
    kind: String,
    /// One of these (indices into `strings`) ...
    any: Vec<usize>,
    /// ... and all of these, in the same file.
    all: Vec<usize>,
}

/// The prefilter of the shipped listed recipes (read from the YAML once).
pub fn listed() -> &'static Prefilter {
    static PREFILTER: OnceLock<Prefilter> = OnceLock::new();
    PREFILTER.get_or_init(|| {
        let raws = raw()
            .0
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.listed != Some(false));
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut strings = Vec::new();
        let mut at = |s: &str| {
            *index.entry(s.to_string()).or_insert_with(|| {
                strings.push(s.to_string());
                strings.len() - 1
            })
        };
        let recipes = raws
            .map(|r| Needs {
                any: r.needles.iter().map(|n| at(n)).collect(),
                all: required_literals(&r.query).iter().map(|l| at(l)).collect(),
                id: r.id.clone(),
                kind: r.kind.clone(),
            })
            .collect();
        Prefilter { strings, recipes }
    })
}

impl Prefilter {
    /// The ids of the recipes that can match, given for each file which of `strings` it holds.
    pub fn recipes_for(&self, present: &[Vec<bool>]) -> Vec<String> {
        self.recipes_where(present, &|_, _| true)
    }

    /// `recipes_for`, of the recipes `keep(id, kind)` selects.
    pub fn recipes_where(
        &self,
        present: &[Vec<bool>],
        keep: &dyn Fn(&str, &str) -> bool,
    ) -> Vec<String> {
        self.recipes
            .iter()
            .filter(|r| keep(&r.id, &r.kind))
            .filter(|r| {
                present
                    .iter()
                    .any(|file| r.any.iter().any(|&i| file[i]) && r.all.iter().all(|&i| file[i]))
            })
            .map(|r| r.id.clone())
            .collect()
    }
}

/// The strings a match of `query` must contain: the literal of every `(#eq? @capture "text")`,
/// when the query is one pattern without alternations or quantifiers (otherwise a predicate may
/// belong to a branch that did not match, and nothing is required).
pub fn required_literals(query: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut depth = 0usize;
    let mut top_level = 0;
    let mut chars = query.char_indices().peekable();
    // The last tokens seen at this point: "(", "#eq?", "@capture".
    let mut recent: Vec<String> = Vec::new();
    while let Some((i, c)) = chars.next() {
        match c {
            ';' => {
                // A comment, to the end of the line.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut text = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(other) => text.push(other),
                            None => break,
                        },
                        '"' => break,
                        _ => text.push(c),
                    }
                }
                if let [.., open, eq, cap] = recent.as_slice() {
                    if open == "(" && eq == "#eq?" && cap.starts_with('@') && !text.is_empty() {
                        literals.push(text);
                    }
                }
                recent.push("\"".into());
            }
            '(' => {
                if depth == 0 {
                    top_level += 1;
                }
                depth += 1;
                recent.push("(".into());
            }
            ')' => {
                depth = depth.saturating_sub(1);
                recent.push(")".into());
            }
            '[' | '?' | '*' | '+' => return Vec::new(),
            c if c.is_whitespace() => {}
            _ => {
                let start = i;
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if n.is_whitespace() || "()[]\"".contains(n) {
                        break;
                    }
                    end = j + n.len_utf8();
                    chars.next();
                }
                let word = &query[start..end];
                // A quantifier written after a node or capture name (`@x?` is not valid, but
                // `(_)*` and `name?` are): any `?`, `*`, `+` outside a predicate name.
                if !word.starts_with('#') && word.contains(['?', '*', '+']) {
                    return Vec::new();
                }
                recent.push(word.to_string());
            }
        }
        if recent.len() > 3 {
            recent.remove(0);
        }
    }
    if top_level == 1 {
        literals
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_pattern_requires_its_eq_literals() {
        let q = r#"
            (call
              function: (attribute attribute: (identifier) @m (#eq? @m "append"))
              arguments: (argument_list
                . (call function: (attribute
                    object: (subscript subscript: (string) @key (#match? @key "^['\"]p['\"]$"))
                    attribute: (identifier) @cpu (#eq? @cpu "cpu"))) @value .)) @site
        "#;
        assert_eq!(required_literals(q), vec!["append", "cpu"]);
        assert_eq!(
            required_literals(r#"((identifier) @a (#eq? @a "say \"hi\""))"#),
            vec!["say \"hi\""]
        );
    }

    #[test]
    fn alternations_quantifiers_and_several_patterns_require_nothing() {
        for q in [
            r#"[(identifier) @a (#eq? @a "x") (string)] @site"#,
            r#"(block (expression_statement)* @s (identifier) @a (#eq? @a "x"))"#,
            r#"(call (identifier)? @a (#eq? @a "x"))"#,
            r#"((identifier) @a (#eq? @a "x")) ((identifier) @b (#eq? @b "y"))"#,
        ] {
            assert!(required_literals(q).is_empty(), "{q}");
        }
        // `#not-eq?`, `#match?` and a comparison of two captures require no text.
        let q = r#"((call (identifier) @a (identifier) @b) (#not-eq? @a "x") (#eq? @a @b))"#;
        assert!(required_literals(q).is_empty());
    }

    #[test]
    fn a_recipe_is_kept_only_where_one_file_has_a_needle_and_every_literal() {
        let p = listed();
        assert!(!p.strings.is_empty());
        let none = vec![vec![false; p.strings.len()]];
        assert!(p.recipes_for(&none).is_empty());
        let all = vec![vec![true; p.strings.len()]];
        assert_eq!(p.recipes_for(&all).len(), p.recipes.len());
    }
}
