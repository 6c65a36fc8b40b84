//! `sadfix scan` and `sadfix patch`: turn the flags into a typed request, resolve the install
//! (and, for the compat gates, what its Python has installed), run the engine, hand values to
//! `report`.

use super::apply::commit;
use super::gate::Installed;
use super::options::PatchOptions;
use super::outcome::{CompatDocument, Mode, PatchDocument, RevertDocument, ScanDocument};
use super::request::{Output, PatchRequest, ScanRequest};
use super::site_packages::{self, SitePlan};
use super::{installed, judge, plan, revert, scan};
use crate::cli::{GlobalArgs, PatchArgs, ScanArgs};
use crate::exit::ExitCode;
use crate::install::{locate, Install};
use crate::report::{self, emit, to_json, SCHEMA_VERSION};
use anyhow::Context;
use std::path::Path;

fn find_install(global: &GlobalArgs) -> anyhow::Result<Install> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    Ok(locate(global.root.as_deref(), &cwd)?)
}

/// The installed packages, or why they are unknown (then every gated fix is left alone).
fn read_installed(install: &Install, python: Option<&Path>) -> (Installed, Option<String>) {
    match installed::read(install, python) {
        Ok(found) => (found, None),
        Err(e) => (Installed::default(), Some(e.to_string())),
    }
}

pub fn scan(global: &GlobalArgs, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let request = ScanRequest::from(args);
    let install = find_install(global)?;
    let (mut found, catalog) = scan::scan_with_catalog(&install)?;
    let mut compat = None;
    // Only an install with a gated compat site (every SadTalker checkout has some) costs a
    // start of its Python, which reads the packages from metadata as doctor does.
    let gated = found.sites.iter().any(|s| {
        s.recipe
            .as_deref()
            .and_then(super::catalog::meta)
            .is_some_and(|m| m.gated)
    });
    if gated {
        let (installed, why) = read_installed(&install, request.python.as_deref());
        judge::judge_sites(catalog, &mut found.sites, &installed);
        if let Some(site) = site_packages::plan(&PatchOptions::NONE, &installed)? {
            found.sites.extend(site.shown().sites);
        }
        compat = CompatDocument::new(&installed, why);
    }
    let doc = ScanDocument::new(&install, found).with_compat(compat);
    if request.output == Output::Json {
        emit(&to_json(&doc))?;
    } else {
        emit(&report::scan::render(&doc))?;
        for line in report::scan::hints(&doc) {
            report::note(&line);
        }
    }
    Ok(ExitCode::Ok)
}

pub fn patch(global: &GlobalArgs, args: &PatchArgs) -> anyhow::Result<ExitCode> {
    let request = PatchRequest::from_args(args)?;
    let install = find_install(global)?;
    let (options, mode, output, python, verbose) = match request {
        PatchRequest::Revert { force, output } => return revert_all(&install, force, output),
        PatchRequest::Change {
            options,
            mode,
            output,
            python,
            verbose,
        } => (options, mode, output, python, verbose),
    };
    let (installed, why) = if options.compat {
        read_installed(&install, python.as_deref())
    } else {
        (Installed::default(), None)
    };
    let mut planned = plan::plan_gated(&install, &options, &installed)?;
    let outside = if options.compat {
        site_packages::plan(&options, &installed)?
    } else {
        None
    };
    if mode == Mode::Apply {
        commit(&install, &planned)?;
        if let (true, Some(site)) = (options.site_packages, &outside) {
            site_packages::commit(&install, site)?;
        }
    }
    let outside_changes = outside.as_ref().map(SitePlan::shown);
    let compat = if options.compat {
        CompatDocument::new(&installed, why)
    } else {
        None
    };
    if let Some(shown) = &outside_changes {
        planned.sites.extend(shown.sites.iter().cloned());
    }
    let mut doc = PatchDocument::new(&install, &planned, mode).with_compat(compat);
    if let Some(shown) = &outside_changes {
        doc.add_outside(shown, options.site_packages && mode == Mode::Apply);
    }
    let changes_left = !planned.changes.is_empty()
        || outside_changes
            .as_ref()
            .is_some_and(|p| !p.changes.is_empty() && !options.site_packages);
    if output == Output::Json {
        emit(&to_json(&doc))?;
    } else {
        let mut diff = report::patch::render_diff(&planned, report::color_enabled());
        if let Some(shown) = &outside_changes {
            diff.push_str(&report::patch::render_diff(shown, report::color_enabled()));
        }
        emit(&diff)?;
        for line in report::patch::summary(&doc, &options, verbose) {
            report::note(&line);
        }
    }
    Ok(if mode == Mode::Check && changes_left {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

fn revert_all(install: &Install, force: bool, output: Output) -> anyhow::Result<ExitCode> {
    let outcome = revert::revert(install, force)?;
    let doc = RevertDocument {
        schema_version: SCHEMA_VERSION,
        install: install.into(),
        outcome,
    };
    emit(&if output == Output::Json {
        to_json(&doc)
    } else {
        report::patch::render_revert(&doc)
    })?;
    Ok(ExitCode::Ok)
}
