//! Edits and fixes: an edit is a byte range plus its replacement; a fix is the edits of one
//! recipe match. Fixes are applied in order; one that overlaps an accepted fix is skipped,
//! never merged or guessed. A fix's `Applicability` lives here, below the recipes that name it,
//! so the files that build edits never import the recipe types back.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How far a fix may be trusted (as in ruff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps every behaviour the code had except the one asked for.
    Safe,
    /// Applied when asked, but drops a fallback (e.g. the CPU branch): flagged for review.
    Unsafe,
    /// Shown in the diff, never written.
    DisplayOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn new(range: Range<usize>, replacement: impl Into<String>) -> Self {
        Edit {
            range,
            replacement: replacement.into(),
        }
    }

    fn overlaps(&self, other: &Edit) -> bool {
        // Two insertions at one point, or an insertion inside a replaced range, conflict too.
        self.range.start < other.range.end && other.range.start < self.range.end
            || (self.range.start == other.range.start)
    }
}

/// The edits one recipe match makes.
#[derive(Debug, Clone)]
pub struct Fix {
    pub recipe: String,
    pub applicability: Applicability,
    /// 1-based line of the site.
    pub line: usize,
    pub edits: Vec<Edit>,
    /// The fix calls the bounded CUDA check helper, which must exist in the file.
    pub needs_helper: bool,
}

/// The outcome of applying fixes to one text.
#[derive(Debug, Clone)]
pub struct Applied {
    pub text: String,
    pub applied: Vec<Fix>,
    /// Fixes left out because they overlap an earlier one.
    pub skipped: Vec<Fix>,
}

/// Drop no-op edits, order fixes by position, skip overlapping ones, and apply the rest.
pub fn apply(text: &str, fixes: Vec<Fix>) -> Applied {
    let mut fixes: Vec<Fix> = fixes
        .into_iter()
        .map(|mut f| {
            f.edits
                .retain(|e| text[e.range.clone()] != *e.replacement || e.range.is_empty());
            f.edits
                .retain(|e| !(e.range.is_empty() && e.replacement.is_empty()));
            f.edits.sort_by_key(|e| (e.range.start, e.range.end));
            f
        })
        .filter(|f| !f.edits.is_empty())
        .collect();
    fixes.sort_by_key(|f| (f.edits[0].range.start, f.edits[0].range.end));
    let mut accepted: Vec<Edit> = Vec::new();
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    for fix in fixes {
        if fix
            .edits
            .iter()
            .any(|e| accepted.iter().any(|a| a.overlaps(e)))
        {
            skipped.push(fix);
        } else {
            accepted.extend(fix.edits.iter().cloned());
            applied.push(fix);
        }
    }
    Applied {
        text: splice(text, accepted),
        applied,
        skipped,
    }
}

/// Apply non-overlapping edits (any order).
pub fn splice(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.range.start]);
        out.push_str(&e.replacement);
        at = e.range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(name: &str, range: Range<usize>, with: &str) -> Fix {
        Fix {
            recipe: name.into(),
            applicability: Applicability::Safe,
            line: 1,
            edits: vec![Edit::new(range, with)],
            needs_helper: false,
        }
    }

    #[test]
    fn overlapping_fixes_are_skipped_not_merged() {
        let out = apply(
            "abcdef",
            vec![
                fix("late", 3..5, "X"),
                fix("first", 1..4, "Y"),
                fix("far", 5..6, "Z"),
            ],
        );
        assert_eq!(out.text, "aYeZ");
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].recipe, "late");
    }

    #[test]
    fn edits_that_change_nothing_are_dropped() {
        let out = apply("a = 2", vec![fix("same", 4..5, "2")]);
        assert!(out.applied.is_empty());
        assert_eq!(out.text, "a = 2");
    }
}
