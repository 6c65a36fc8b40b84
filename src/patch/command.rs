//! `sadfix scan` and `sadfix patch`: resolve the install, run the engine, hand values to `report`.

use super::apply::commit;
use super::options::PatchOptions;
use super::outcome::{Mode, PatchDocument, RevertDocument, ScanDocument};
use super::{plan, revert, scan};
use crate::cli::{GlobalArgs, PatchArgs, ScanArgs};
use crate::exit::{coded, ExitCode};
use crate::install::{locate, Install};
use crate::report::{self, emit, to_json, SCHEMA_VERSION};
use anyhow::Context;

fn find_install(global: &GlobalArgs) -> anyhow::Result<Install> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    Ok(locate(global.root.as_deref(), &cwd)?)
}

pub fn scan(global: &GlobalArgs, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let install = find_install(global)?;
    let found = scan::scan_report(&install)?;
    let doc = ScanDocument::new(&install, found);
    if args.json {
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
    let options = PatchOptions {
        force_gpu: args.force_gpu,
        batch_size: args.batch_size,
        cuda_timeout: args.cuda_timeout,
    };
    if args.revert && (args.dry_run || args.check) {
        return Err(coded(
            ExitCode::Usage,
            "--revert cannot be combined with --dry-run or --check; run `sadfix patch --revert` alone",
        ));
    }
    if !args.revert && options.is_empty() {
        return Err(coded(
            ExitCode::Usage,
            "say what to change: --force-gpu, --batch-size N, --cuda-timeout SECONDS, or --revert",
        ));
    }
    let install = find_install(global)?;
    if args.revert {
        let outcome = revert::revert(&install, args.force)?;
        let doc = RevertDocument {
            schema_version: SCHEMA_VERSION,
            install: (&install).into(),
            outcome,
        };
        emit(&if args.json {
            to_json(&doc)
        } else {
            report::patch::render_revert(&doc)
        })?;
        return Ok(ExitCode::Ok);
    }
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    let planned = plan::plan(&install, &options)?;
    if mode == Mode::Apply {
        commit(&install, &planned)?;
    }
    let doc = PatchDocument::new(&install, &planned, mode);
    if args.json {
        emit(&to_json(&doc))?;
    } else {
        emit(&report::patch::render_diff(
            &planned,
            report::color_enabled(),
        ))?;
        for line in report::patch::summary(&doc, &options) {
            report::note(&line);
        }
    }
    Ok(if mode == Mode::Check && !planned.changes.is_empty() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}
