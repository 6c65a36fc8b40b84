//! Rendering `sadfix patch`: a unified diff of every change (stdout), then a summary of what
//! was applied, skipped and left alone (stderr).

use super::scan::action_label;
use crate::patch::outcome::{Mode, PatchDocument, RevertDocument};
use crate::patch::plan::Plan;
use crate::patch::{Action, Applicability, PatchOptions, Site};
use similar::TextDiff;

/// The unified diff of every change, `a/` and `b/` prefixed like git's.
pub fn render_diff(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let rel = change.rel.display();
        let diff = TextDiff::from_lines(&change.before, &change.after);
        // A file outside the install (site-packages) is named by its full path.
        let (old, new) = if change.rel.is_absolute() {
            (rel.to_string(), rel.to_string())
        } else {
            (format!("a/{rel}"), format!("b/{rel}"))
        };
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old, &new)
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
/// The lines after the diff; sites the flags given are not about only with `verbose`.
pub fn summary(doc: &PatchDocument, options: &PatchOptions, verbose: bool) -> Vec<String> {
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
        .filter(|s| verbose || super::compat::asked_about(s, options))
    {
        let gate = s
            .gate
            .as_deref()
            .map(|g| format!(" [{g}]"))
            .unwrap_or_default();
        lines.push(format!(
            "not edited {}:{}: {} {} ({}){gate}: {}",
            s.file.display(),
            s.line,
            super::scan::kind_label(s.kind),
            s.family,
            action_label(s.action),
            s.note
        ));
    }
    lines.extend(super::compat::lines(doc, options));
    for u in &doc.unparsed {
        lines.push(format!(
            "not scanned {}: {}",
            super::scan::place(u),
            u.reason
        ));
    }
    let n = doc.changed.len();
    lines.push(match (doc.mode, n) {
        (_, 0) if !doc.outside.is_empty() => {
            "nothing changed in the install itself (site-packages: see above)".into()
        }
        (_, 0) => nothing_changed(doc, options),
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

/// The last line when no file changes: "already as asked" only when nothing the options are
/// about is left (a skipped fix, or a site they cannot edit, such as a SIGALRM timeout under
/// `--force-gpu` or non-PyTorch code); otherwise what is left and what to run.
fn nothing_changed(doc: &PatchDocument, options: &PatchOptions) -> String {
    let left: Vec<&Site> = doc
        .sites
        .iter()
        .filter(|s| {
            matches!(
                s.action,
                Action::ReportOnly | Action::Unsupported | Action::GateUnknown
            )
        })
        .filter(|s| super::compat::asked_about(s, options))
        .collect();
    if left.is_empty() && doc.skipped.is_empty() {
        return "nothing to do: the code already is as asked".into();
    }
    let mut parts = Vec::new();
    if !doc.skipped.is_empty() {
        parts.push(format!("{} fix(es) skipped (see above)", doc.skipped.len()));
    }
    if !left.is_empty() {
        parts.push(format!(
            "{} site(s) listed as not edited are left that {} cannot change (see each note)",
            left.len(),
            flags(options)
        ));
        if options.cuda_timeout.is_none() && left.iter().any(|s| s.family == "I") {
            parts.push(
                "run `sadfix patch --cuda-timeout 10` for the SIGALRM timeout (family I)".into(),
            );
        }
    }
    format!("nothing changed: {}", parts.join("; "))
}

/// The patch flags given, as the user typed them.
fn flags(options: &PatchOptions) -> String {
    let mut given = Vec::new();
    if options.force_gpu {
        given.push("--force-gpu");
    }
    if options.batch_size.is_some() {
        given.push("--batch-size");
    }
    if options.cuda_timeout.is_some() {
        given.push("--cuda-timeout");
    }
    if options.compat {
        given.push("--compat");
    }
    if options.offload_frames {
        given.push("--offload-frames");
    }
    given.join(" and ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::outcome::InstallSummary;
    use crate::patch::plan::FixSummary;
    use crate::patch::SiteKind;
    use std::path::PathBuf;

    fn doc(sites: Vec<Site>, skipped: Vec<FixSummary>) -> PatchDocument {
        PatchDocument {
            schema_version: 1,
            install: InstallSummary {
                root: PathBuf::from("/x"),
                layout: "standalone".into(),
                host: None,
            },
            mode: Mode::Apply,
            written: false,
            changed: Vec::new(),
            skipped,
            sites,
            unparsed: Vec::new(),
            compile_checked: true,
            outside: Vec::new(),
            outside_written: false,
            compat: None,
        }
    }

    fn site(kind: SiteKind, family: &str, action: Action) -> Site {
        Site {
            file: PathBuf::from("inference.py"),
            line: 3,
            kind,
            family: family.into(),
            value: String::new(),
            action,
            recipe: None,
            note: String::new(),
            gate: None,
        }
    }

    const FORCE: PatchOptions = PatchOptions {
        force_gpu: true,
        ..PatchOptions::NONE
    };

    fn last(doc: &PatchDocument, options: &PatchOptions) -> String {
        summary(doc, options, false).pop().unwrap()
    }

    #[test]
    fn already_as_asked_only_when_nothing_is_left() {
        let settled = doc(
            vec![
                site(SiteKind::Device, "H", Action::AlreadyForced),
                // A batch-size shape is not what --force-gpu is about.
                site(SiteKind::BatchSize, "parameter", Action::ReportOnly),
            ],
            Vec::new(),
        );
        assert_eq!(
            last(&settled, &FORCE),
            "nothing to do: the code already is as asked"
        );
        let k = doc(
            vec![site(SiteKind::Device, "K", Action::Unsupported)],
            Vec::new(),
        );
        let line = last(&k, &FORCE);
        assert!(line.starts_with("nothing changed: 1 site(s)"), "{line}");
        assert!(line.ends_with("that --force-gpu cannot change (see each note)"));
        let skipped = doc(
            Vec::new(),
            vec![FixSummary {
                file: PathBuf::from("inference.py"),
                line: 3,
                recipe: "device-cuda-and-not-cpu".into(),
                applicability: Applicability::Safe,
            }],
        );
        assert_eq!(
            last(&skipped, &FORCE),
            "nothing changed: 1 fix(es) skipped (see above)"
        );
    }
}
