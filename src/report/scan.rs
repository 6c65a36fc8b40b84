//! Rendering `sadfix scan`: one table row per site, then the files that could not be parsed.

use crate::patch::outcome::ScanDocument;
use crate::patch::{Action, Site, SiteKind};
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, ColumnConstraint, ContentArrangement, Table, Width,
};

/// How an action reads in a table.
pub fn action_label(action: Action) -> &'static str {
    match action {
        Action::Rewrite => "rewrite",
        Action::Repair => "repair",
        Action::AlreadyForced => "already forced",
        Action::AlreadyGpu => "already GPU",
        Action::AlreadyBounded => "already bounded",
        Action::ReportOnly => "report only",
        Action::Unsupported => "unsupported: not PyTorch",
        Action::AlreadyFixed => "already fixed",
        Action::NotNeeded => "not needed",
        Action::GateUnknown => "gate unknown",
    }
}

pub fn kind_label(kind: SiteKind) -> &'static str {
    match kind {
        SiteKind::Device => "device",
        SiteKind::BatchSize => "batch size",
        SiteKind::Compat => "compat",
        SiteKind::OffloadFrames => "offload frames",
    }
}

/// The table of sites (stdout).
pub fn render(doc: &ScanDocument) -> String {
    let mut out = format!(
        "install: {} ({})\n",
        doc.install.root.display(),
        doc.install.layout.replace('_', " ")
    );
    if doc.sites.is_empty() {
        out.push_str("no device-selection or batch-size sites found\n");
    } else {
        out.push_str(&table(&doc.sites));
        out.push('\n');
    }
    for u in &doc.unparsed {
        out.push_str(&format!("not scanned: {}: {}\n", place(u), u.reason));
    }
    out
}

/// A table of sites: file, line, kind, family, value, action (and the gate, when a compat
/// site has one), laid out to the terminal's width (long text wrapped in its column).
pub fn table(sites: &[Site]) -> String {
    table_at(sites, super::width::columns())
}

fn table_at(sites: &[Site], width: u16) -> String {
    let mut table = Table::new();
    let gated = sites.iter().any(|s| s.gate.is_some());
    let mut header = vec!["file", "line", "kind", "family", "value", "action"];
    if gated {
        header.push("gate");
    }
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header);
    for s in sites {
        let mut row = vec![
            super::width::short_path(&s.file),
            s.line.to_string(),
            kind_label(s.kind).to_string(),
            s.family.clone(),
            s.value.clone(),
            action_label(s.action).to_string(),
        ];
        if gated {
            row.push(s.gate.clone().unwrap_or_default());
        }
        table.add_row(row);
    }
    // Short columns keep their content width; a file path wraps only past 30 characters, so
    // the wrapping falls on the value and gate texts.
    let longest_file = sites
        .iter()
        .map(|s| super::width::short_path(&s.file).chars().count())
        .max()
        .unwrap_or(4);
    let file = u16::try_from(longest_file.min(30)).unwrap_or(30);
    let fixed = [
        (0, ColumnConstraint::LowerBoundary(Width::Fixed(file))),
        (1, ColumnConstraint::ContentWidth),
        (2, ColumnConstraint::ContentWidth),
        (5, ColumnConstraint::ContentWidth),
    ];
    if width >= 100 {
        for (i, c) in fixed {
            if let Some(column) = table.column_mut(i) {
                column.set_constraint(c);
            }
        }
    }
    table.to_string()
}

/// What to run next (stderr).
pub fn hints(doc: &ScanDocument) -> Vec<String> {
    let mut hints = Vec::new();
    let device = doc.sites.iter().any(|s| {
        s.kind == SiteKind::Device && matches!(s.action, Action::Rewrite | Action::Repair)
    });
    let batch = doc
        .sites
        .iter()
        .any(|s| s.kind == SiteKind::BatchSize && s.action == Action::Rewrite);
    if device {
        hints.push("fix the device selection: sadfix patch --force-gpu (or --cuda-timeout SECONDS to bound the CUDA check instead)".into());
    }
    if batch {
        hints.push("set the batch size: sadfix patch --batch-size N".into());
    }
    for s in doc.sites.iter().filter(|s| {
        matches!(s.action, Action::ReportOnly | Action::Unsupported) && s.kind == SiteKind::Device
    }) {
        hints.push(format!("{}:{}: {}", s.file.display(), s.line, s.note));
    }
    hints.extend(compat_hints(doc));
    hints
}

/// What to run for the compat sites: the patch flags, and the pip commands no code fix replaces.
fn compat_hints(doc: &ScanDocument) -> Vec<String> {
    let mut hints = Vec::new();
    let needs = |s: &&Site| {
        matches!(s.kind, SiteKind::Compat | SiteKind::OffloadFrames) && s.action == Action::Rewrite
    };
    let inside = doc.sites.iter().filter(needs).any(|s| s.file.is_relative());
    let outside = doc.sites.iter().filter(needs).any(|s| s.file.is_absolute());
    let offload = doc
        .sites
        .iter()
        .filter(needs)
        .any(|s| s.kind == SiteKind::OffloadFrames);
    if outside {
        hints.push("fix what newer packages break, including basicsr in site-packages: sadfix patch --compat --site-packages".into());
    } else if inside
        && doc
            .sites
            .iter()
            .filter(needs)
            .any(|s| s.kind == SiteKind::Compat)
    {
        hints.push("fix what newer packages break: sadfix patch --compat".into());
    }
    if offload {
        hints.push(
            "keep the rendered frames on the host (long clips): sadfix patch --offload-frames"
                .into(),
        );
    }
    if let Some(compat) = &doc.compat {
        if let Some(warning) = &compat.wrong_python {
            hints.push(format!("warning: {warning}"));
        }
        if let Some(why) = &compat.packages_unknown {
            hints.push(format!(
                "package versions unknown, compat gates not judged: {why}"
            ));
        }
        for p in &compat.pip {
            hints.push(format!("{}: run `{}`", p.why, p.command));
        }
    }
    hints
}

/// `file:line` of a file that could not be scanned, or just `file` when no line applies.
pub fn place(u: &crate::patch::scan::Unparsed) -> String {
    if u.line == 0 {
        u.file.display().to_string()
    } else {
        format!("{}:{}", u.file.display(), u.line)
    }
}
