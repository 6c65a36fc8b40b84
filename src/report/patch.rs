//! Rendering `sadfix patch`: a unified diff of every change (stdout), then a summary of what
//! was applied, skipped and left alone (stderr).

use super::scan::action_label;
use crate::patch::outcome::{Mode, PatchDocument, RevertDocument};
use crate::patch::plan::Plan;
use crate::patch::{Action, Applicability};
use similar::TextDiff;

/// The unified diff of every change, `a/` and `b/` prefixed like git's.
pub fn render_diff(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let rel = change.rel.display();
        let diff = TextDiff::from_lines(&change.before, &change.after);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{rel}"), &format!("b/{rel}"))
            .to_string();
        for line in text.split_inclusive('\n') {
            out.push_str(&paint(line, color));
        }
        if !out.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
    out
}

fn paint(line: &str, color: bool) -> String {
    if !color {
        return line.to_string();
    }
    let code = if line.starts_with("+++") || line.starts_with("---") {
        "1"
    } else if line.starts_with('+') {
        "32"
    } else if line.starts_with('-') {
        "31"
    } else if line.starts_with("@@") {
        "36"
    } else {
        return line.to_string();
    };
    let body = line.trim_end_matches(['\r', '\n']);
    format!("\x1b[{code}m{body}\x1b[0m{}", &line[body.len()..])
}

/// The lines after the diff: what changed, what was skipped, what is reported only.
pub fn summary(doc: &PatchDocument) -> Vec<String> {
    let mut lines = Vec::new();
    let verb = if doc.mode == Mode::Apply {
        "patched"
    } else {
        "would patch"
    };
    for c in &doc.changed {
        for f in &c.fixes {
            let review = if f.applicability == Applicability::Unsafe {
                " (drops the CPU fallback: review it)"
            } else {
                ""
            };
            lines.push(format!(
                "{verb} {}:{}: {}{review}",
                c.file.display(),
                f.line,
                f.recipe
            ));
        }
    }
    for f in &doc.skipped {
        lines.push(format!(
            "skipped {}:{}: {} (overlaps another fix or is display-only)",
            f.file.display(),
            f.line,
            f.recipe
        ));
    }
    for s in doc
        .sites
        .iter()
        .filter(|s| !matches!(s.action, Action::Rewrite | Action::Repair))
    {
        lines.push(format!(
            "not edited {}:{}: {} {} ({}): {}",
            s.file.display(),
            s.line,
            super::scan::kind_label(s.kind),
            s.family,
            action_label(s.action),
            s.note
        ));
    }
    for u in &doc.unparsed {
        lines.push(format!(
            "not scanned {}: {}",
            super::scan::place(u),
            u.reason
        ));
    }
    let n = doc.changed.len();
    lines.push(match (doc.mode, n) {
        (_, 0) => "nothing to do: the code already is as asked".into(),
        (Mode::Apply, _) => {
            format!("patched {n} file(s); backups in .sadfix/ (undo: sadfix patch --revert)")
        }
        (Mode::DryRun, _) => format!("dry run: {n} file(s) would change; nothing written"),
        (Mode::Check, _) => format!("check: {n} file(s) would change; nothing written"),
    });
    if !doc.compile_checked && n > 0 {
        lines.push(
            "python3 is not on PATH: results were checked by parsing only, not compiled".into(),
        );
    }
    lines
}

/// What `--revert` did (stdout).
pub fn render_revert(doc: &RevertDocument) -> String {
    let o = &doc.outcome;
    let mut out = String::new();
    for f in &o.restored {
        out.push_str(&format!("restored {}\n", f.display()));
    }
    for f in &o.forced {
        out.push_str(&format!(
            "restored {} (it had changed since sadfix wrote it; --force)\n",
            f.display()
        ));
    }
    for f in &o.already_original {
        out.push_str(&format!("{} already had its original bytes\n", f.display()));
    }
    if out.is_empty() {
        out.push_str("nothing to revert: sadfix has not changed this install\n");
    }
    out
}
