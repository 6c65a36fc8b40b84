//! `sadfix fix`: the whole procedure in one command. Diagnose with doctor's checks, sort the
//! findings into code and environment fixes, show the plan, measure a short run through
//! bench's runner, apply every code fix through the patch engine into one journal (with
//! `--tune`, tune's winner too), measure again, and keep the change only when the after run
//! proves it; otherwise roll back through the journal's revert.
//!
//! `FixArgs` -> `FixOptions` -> diagnosis -> plan -> before -> apply -> after -> judgement
//! -> `FixReport` -> `report::fix`.

pub mod change;
pub mod consent;
pub mod findings;
pub mod judge;
pub mod measure;
pub mod noise;
pub mod options;
pub mod outcome;
pub mod tuning;

use crate::bench::markers::FailureKind;
use crate::cli::{FixArgs, GlobalArgs};
use crate::doctor::DoctorOptions;
use crate::exit::{coded, ExitCode};
use crate::install::Install;
use crate::report;
use anyhow::Context;
use change::Planned;
use consent::Answer;
use findings::{CudaState, Scope};
use measure::{Measured, Trial};
use options::{Consent, FixOptions};
use outcome::{FixReport, Run, Verdict};
use std::path::Path;
use std::time::Duration;

/// Doctor's own default deadline for each probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

pub fn command(global: &GlobalArgs, args: &FixArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let options =
        FixOptions::from_args(global, args, &cwd).map_err(|e| coded(ExitCode::Usage, e))?;
    let doc = run(&options, &cwd)?;
    report::emit(&report::fix::render(&doc)).context("cannot write the report")?;
    if let Some(path) = &options.json {
        write_file(path, &report::to_json(&doc))?;
    }
    if let Some(path) = &options.svg {
        write_file(path, &report::fix_svg::chart(&doc))?;
    }
    if let Some(path) = &options.metrics {
        let now = std::time::SystemTime::now();
        report::metrics::write(path, &report::metrics::fix::fix(&doc, now))?;
    }
    Ok(doc.exit_code())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The procedure, up to the result; the plan is printed before anything is written.
pub fn run(options: &FixOptions, cwd: &Path) -> anyhow::Result<FixReport> {
    let doctor_options = DoctorOptions {
        root: options.root.clone(),
        python: options.python.clone(),
        timeout: PROBE_TIMEOUT,
        format: crate::doctor::ReportFormat::Table,
        audio: options.audio.clone(),
        metrics: None,
    };
    report::note("sadfix fix: diagnosing with sadfix doctor's checks");
    let (gathered, diagnosis) = crate::doctor::diagnose(&doctor_options, cwd)?;
    let install = gathered.install.clone();
    let cuda = CudaState::of(&gathered);
    let scope = Scope {
        site_packages: options.site_packages,
        tune: options.tune,
    };
    let sorted = findings::sort(&diagnosis, &scope);
    let mut doc = FixReport::new(install.root.display().to_string(), cuda);
    doc.environment_fixes = sorted.environment.clone();
    doc.code_fixes = sorted.code.clone();
    if cuda == CudaState::CannotWork {
        // Forcing `cuda` now would crash SadTalker: nothing in the code can help yet.
        doc.verdict = Verdict::EnvironmentOnly;
        return Ok(finished(doc));
    }
    let wanted = sorted.to_apply();
    let planned = if wanted.is_empty() {
        None
    } else {
        Some(change::plan(&install, &wanted, options.python.as_deref())?)
    };
    let planned = planned.filter(|p| !p.is_empty());
    if let Some(p) = &planned {
        doc.plans = p.shown();
    }
    if planned.is_none() && !options.tune {
        doc.verdict = Verdict::NothingToFix;
        return Ok(finished(doc));
    }
    report::emit(&report::fix_plan::render(&doc, options.tune)).context("cannot write the plan")?;
    let answer = consent::obtain(options.consent, "apply these changes and measure them?")?;
    if options.consent == Consent::DryRun || answer == Answer::No {
        doc.verdict = if options.consent == Consent::DryRun {
            Verdict::DryRun
        } else {
            Verdict::Declined
        };
        return Ok(finished(doc));
    }
    if !change::journal_is_empty(&install)? {
        return Err(coded(
            ExitCode::Refused,
            format!(
                "{}: sadfix already changed this install (its journal lists changes), and a rollback through it would undo those too; run `sadfix patch --root {} --revert` first, then `sadfix fix` again",
                install.root.display(),
                crate::doctor::shell::quote(&install.root.display().to_string())
            ),
        ));
    }
    crate::interrupt::Watch::start().context("cannot set up the Ctrl-C handler")?;
    // Under WSL and in containers NVML lists no process of the run, whatever it holds.
    let per_process = gathered.system.wsl.is_none() && gathered.system.container.is_empty();
    let setup = Setup {
        install: &install,
        options,
        per_process,
    };
    prove(&setup, planned.as_ref(), doc)
}

/// What the proving steps share.
struct Setup<'a> {
    install: &'a Install,
    options: &'a FixOptions,
    /// Whether NVML can list the run's processes here.
    per_process: bool,
}

/// Measure before, apply, measure after, judge; roll back on a failed check, an error or an
/// interrupt, so no half-proven change is left.
fn prove(
    setup: &Setup,
    planned: Option<&Planned>,
    mut doc: FixReport,
) -> anyhow::Result<FixReport> {
    let (install, options) = (setup.install, setup.options);
    // The clip and every run's results live in a temporary folder: fix writes nothing outside
    // the install but the --json and --svg files asked for.
    let scratch = tempfile::tempdir().context("cannot create a folder for the trials")?;
    let work_dir = scratch.path().join("runs");
    let clip = if options.measure {
        Some(measure::clip(install, options, scratch.path())?)
    } else {
        None
    };
    doc.clip = clip.clone();
    let trial = clip.as_ref().map(|clip| Trial {
        install,
        options,
        clip,
        work_dir: &work_dir,
    });
    let before = match &trial {
        Some(t) => Some(measured("before", t)?),
        None => None,
    };
    doc.before = before.as_ref().map(run_of);
    if crate::interrupted::received().is_some() {
        doc.verdict = Verdict::Interrupted;
        return Ok(finished(doc));
    }
    if let Some(kind) = before.as_ref().and_then(uncovered_failure) {
        doc.verdict = Verdict::RunFailed;
        doc.left_for_user.push(format!(
            "the run before any change failed ({kind:?}): no code fix covers it"
        ));
        return Ok(finished(doc));
    }
    if let Some(p) = planned {
        change::commit(install, p)?;
        doc.applied = p.fixes();
    }
    match apply_rest_and_judge(
        setup,
        scratch.path(),
        trial.as_ref(),
        before.as_ref(),
        &mut doc,
    ) {
        Ok(()) => Ok(finished(doc)),
        Err(e) => {
            // Never leave a half-applied fix: undo first, then say what went wrong.
            let undone = change::roll_back(install);
            Err(match undone {
                Ok(_) => e.context("everything fix applied was rolled back"),
                Err(r) => e.context(format!("and the rollback failed too: {r}")),
            })
        }
    }
}

/// tune (with `--tune`), the after run and the judgement; rolls back when a check fails.
fn apply_rest_and_judge(
    setup: &Setup,
    scratch: &Path,
    trial: Option<&Trial>,
    before: Option<&Measured>,
    doc: &mut FixReport,
) -> anyhow::Result<()> {
    let (install, options) = (setup.install, setup.options);
    if options.tune {
        report::note("sadfix fix: measuring batch sizes with sadfix tune's trials");
        let tuned = tuning::run(install, options, scratch)?;
        if let Some(plan) = &tuned.extra.applied {
            doc.applied
                .extend(plan.changes.iter().flat_map(|c| c.fixes.iter().cloned()));
            doc.plans.push(plan.clone());
        }
        doc.tune = Some(tuned);
    }
    let Some(trial) = trial else {
        doc.verdict = Verdict::NotMeasured;
        return Ok(());
    };
    let after = measured("after", trial)?;
    doc.checks = judge::judge(before, &after, setup.per_process);
    doc.speedup = judge::speedup(before, &after);
    doc.after = Some(run_of(&after));
    let interrupted = crate::interrupted::received().is_some();
    if judge::keep(&doc.checks) && !interrupted {
        doc.verdict = Verdict::Fixed;
        return Ok(());
    }
    doc.rolled_back = Some(change::roll_back(install)?);
    doc.verdict = if interrupted {
        Verdict::Interrupted
    } else if after.report.run.failed && before.is_some_and(|b| b.report.run.failed) {
        Verdict::RunFailed
    } else {
        Verdict::RolledBack
    };
    Ok(())
}

fn measured(label: &str, trial: &Trial) -> anyhow::Result<Measured> {
    report::note(&report::fix_plan::measuring(label, trial.clip));
    let m = measure::run(trial, label, &mut |_| {})?;
    report::note(&report::fix_plan::measured(label, &m));
    Ok(m)
}

fn run_of(m: &Measured) -> Run {
    Run {
        bench: m.report.clone(),
        face_renderer: m.render.clone(),
    }
}

/// A failure of the run before any change that no code fix covers.
fn uncovered_failure(before: &Measured) -> Option<FailureKind> {
    let run = &before.report.run;
    run.failure_kind
        .filter(|k| run.failed && matches!(k, FailureKind::NoFace | FailureKind::FfmpegMissing))
}

/// The summary line, the simulated flag and what is left for the user, from what happened.
fn finished(mut doc: FixReport) -> FixReport {
    doc.simulated = [&doc.before, &doc.after]
        .iter()
        .any(|r| r.as_ref().is_some_and(|r| r.bench.simulated));
    doc.summary = report::fix::verdict_line(&doc);
    let mut left = report::fix::left_for_user(&doc);
    left.append(&mut doc.left_for_user);
    doc.left_for_user = left;
    doc
}
