//! `sadfix doctor`: why SadTalker is not on the GPU, in bounded time, with the fix for each
//! finding. Gathering runs the probes, NVML and the file checks; the verdicts are pure functions
//! of what was gathered; `report::doctor` renders the result. Nothing here prints.

pub mod check;
pub mod code;
pub mod gathered;
pub mod options;
pub mod platform;
pub mod preflight;
pub mod probe;
pub mod shell;
pub mod system;
pub mod tools;
pub mod verdict;
pub mod weight_files;
pub mod weights;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::exit::{coded, ExitCode};
use crate::gpu::snapshot::GpuView;
use crate::install::{self, Install, PythonChoice};
use anyhow::Context;
use check::{DoctorReport, InstallSummary, PythonSummary};
use gathered::Gathered;
pub use options::{DoctorOptions, ReportFormat};
use probe::ProbeOutcome;
use std::path::Path;
use std::time::{Duration, Instant};

/// Run doctor from the command line: the arguments become `DoctorOptions`, then `run`.
pub fn command(global: &GlobalArgs, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let options = DoctorOptions::from_args(global, args, &cwd)?;
    run(&options, &cwd)
}

/// Diagnose the install `options` name (or the one around `cwd`) and print the report.
pub fn run(options: &DoctorOptions, cwd: &Path) -> anyhow::Result<ExitCode> {
    let (_, report) = diagnose(options, cwd)?;
    let text = match options.format {
        ReportFormat::Json => crate::report::to_json(&report),
        ReportFormat::Table => {
            crate::report::doctor::render(&report, crate::report::color_enabled())
        }
    };
    crate::report::emit(&text).context("cannot write the report")?;
    if let Some(path) = &options.metrics {
        let now = std::time::SystemTime::now();
        crate::report::metrics::write(path, &crate::report::metrics::doctor::doctor(&report, now))?;
    }
    Ok(if report.failed() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

/// Every check on the install `options` name (or the one around `cwd`), printing nothing:
/// what `doctor` prints, and what `fix` sorts into code and environment fixes.
pub fn diagnose(options: &DoctorOptions, cwd: &Path) -> anyhow::Result<(Gathered, DoctorReport)> {
    let started = Instant::now();
    let install = install::locate(options.root.as_deref(), cwd)?;
    // A bad --audio stops doctor before any probe runs.
    let audio = (options
        .audio
        .as_deref()
        .map(preflight::read_audio)
        .transpose())
    .map_err(|e| coded(ExitCode::Usage, e))?;
    // The probes run in process groups of their own, out of reach of the terminal's Ctrl-C: on
    // the first Ctrl-C or SIGTERM each probe's wait ends its group, the checks that rest on it
    // come out `interrupted`, the report is printed, and `interrupt::exit` re-raises the signal.
    crate::interrupt::Watch::start().context("cannot set up the Ctrl-C handler")?;
    let env = |var: &str| std::env::var(var).ok();
    // A recorded snapshot instead of NVML, for tests and bug reports; the report says so.
    let gpu = crate::gpu::view(&env)?;
    let python = install::choose_python(options.python.as_deref(), Some(&install), &env);
    let gathered = gather(install, python, options.timeout, gpu, &env);
    let mut report = build_report(&gathered, started);
    if let Some(audio) = &audio {
        let check = preflight::memory_check(audio, &gathered.gpu, &gathered.sites);
        report.checks.push(check);
    }
    if options.root.is_some() {
        // The fix commands must run from where doctor was run, not only from inside the install.
        let root = report.install.root.display().to_string();
        for check in &mut report.checks {
            if let Some(fix) = &mut check.fix {
                *fix = shell::with_root(fix, &root);
            }
        }
    }
    Ok((gathered, report))
}

/// Gather every input: the two probes and ffmpeg in parallel with the file and system reads.
pub fn gather(
    install: Install,
    python: Option<PythonChoice>,
    timeout: Duration,
    gpu: GpuView,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Gathered {
    let path_var = env("PATH").unwrap_or_default();
    let (facts, cuda, ffmpeg, sys, sites, numpy_aliases) = std::thread::scope(|scope| {
        let probes = scope.spawn(|| match &python {
            Some(choice) => probe::run_both(&choice.path, &install.root, timeout),
            None => not_run("no Python to probe"),
        });
        // Everything else runs beside the torch probe at a lower priority, so on a busy machine
        // it waits for the CPU rather than the import does.
        let ffmpeg = scope.spawn(|| {
            crate::process::yield_cpu_to_others();
            tools::probe_ffmpeg(&path_var, timeout.min(Duration::from_secs(10)))
        });
        let side = scope.spawn(|| {
            crate::process::yield_cpu_to_others();
            let mut sys = system::gather(&system::SystemInputs {
                env,
                fs_root: "/".into(),
            });
            sys.resources = system::resources();
            let sites = code::code_sites(&install);
            let numpy_aliases = verdict::packages::numpy_aliases(&install.root);
            (sys, sites, numpy_aliases)
        });
        let (facts, cuda) = probes
            .join()
            .unwrap_or_else(|_| not_run("the probe thread panicked"));
        let ffmpeg = ffmpeg.join().unwrap_or(tools::Ffmpeg::NotOnPath);
        let (sys, sites, numpy_aliases) = side.join().expect("doctor's checks panicked");
        (facts, cuda, ffmpeg, sys, sites, numpy_aliases)
    });
    Gathered {
        install,
        python,
        timeout,
        facts,
        cuda,
        gpu,
        system: sys,
        ffmpeg,
        sites,
        numpy_aliases,
    }
}

fn not_run<A, B>(reason: &str) -> (ProbeOutcome<A>, ProbeOutcome<B>) {
    let reason = reason.to_string();
    (
        ProbeOutcome::NotRun {
            reason: reason.clone(),
        },
        ProbeOutcome::NotRun { reason },
    )
}

/// Judge what was gathered and wrap it in the report.
pub fn build_report(g: &Gathered, started: Instant) -> DoctorReport {
    DoctorReport {
        schema_version: crate::report::SCHEMA_VERSION,
        install: InstallSummary {
            root: g.install.root.clone(),
            layout: g.install.layout.describe().to_string(),
            host: g.install.host.clone(),
        },
        python: g.python.as_ref().map(|p| PythonSummary {
            path: p.path.clone(),
            source: serde_json::to_value(p.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            reason: p.reason.clone(),
            shim: p.shim.clone(),
            version: g.facts().map(|f| f.python.version.clone()),
        }),
        gpu_source: g.gpu.source(),
        platform: g.platform(),
        checks: verdict::all(g),
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}
