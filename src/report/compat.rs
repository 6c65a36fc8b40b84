//! The part of `sadfix patch`'s summary about `--compat` and `--offload-frames`: which compat
//! sites belong to the flags given, the site-packages changes, where the versions came from,
//! and the pip commands.

use crate::patch::outcome::PatchDocument;
use crate::patch::{PatchOptions, Site, SiteKind};

/// Whether a site is about what was asked: each kind by the flag that applies it.
pub fn asked_about(site: &Site, options: &PatchOptions) -> bool {
    match site.kind {
        SiteKind::Device => options.force_gpu || options.cuda_timeout.is_some(),
        SiteKind::BatchSize => options.batch_size.is_some(),
        SiteKind::Compat => options.compat,
        SiteKind::OffloadFrames => options.offload_frames,
    }
}

/// Site-packages changes, the versions the gates read, and the pip commands.
pub fn lines(doc: &PatchDocument, options: &PatchOptions) -> Vec<String> {
    let mut lines = Vec::new();
    let verb = if doc.outside_written {
        "patched"
    } else if options.site_packages {
        "would patch"
    } else {
        "needs --site-packages:"
    };
    for c in &doc.outside {
        for f in &c.fixes {
            lines.push(format!(
                "{verb} {}:{}: {}",
                c.file.display(),
                f.line,
                f.recipe
            ));
        }
    }
    if !doc.outside.is_empty() && !options.site_packages {
        lines.push(
            "the fix above is in the install Python's site-packages: run `sadfix patch --compat --site-packages` to apply it (backed up under the install's .sadfix/, undone by --revert)".into(),
        );
    }
    if doc.outside_written {
        lines.push(format!(
            "patched {} file(s) in site-packages; backups in .sadfix/site-packages/",
            doc.outside.len()
        ));
    }
    if let Some(compat) = &doc.compat {
        if let Some(warning) = &compat.wrong_python {
            lines.push(format!("warning: {warning}"));
        }
        if let Some(from) = &compat.packages_from {
            lines.push(format!("compat gates read from {from}"));
        }
        if let Some(why) = &compat.packages_unknown {
            lines.push(format!(
                "package versions unknown, no gated fix applied: {why}"
            ));
        }
        for p in &compat.pip {
            lines.push(format!("{}: run `{}`", p.why, p.command));
        }
    }
    lines
}
