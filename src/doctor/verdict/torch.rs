//! Verdicts on torch and CUDA that cross the layers: the build torch is (CPU-only, CUDA x.y),
//! whether CUDA answers and works, and whether the driver is new enough for the build.

use super::admin::driver_install;
use super::arch;
use super::cause::{why_unavailable, wsl_loader_fix};
use super::driver::reinstall_fix;
use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::{CudaProbe, ProbeOutcome, COULD_NOT_START};

/// `torch.build`.
pub fn check_build(g: &Gathered) -> Check {
    let id = "torch.build";
    if let Some(error) = g.cuda_probe().and_then(|c| c.import_error.as_ref()) {
        let missing =
            g.package("torch").is_none() && g.facts().is_some_and(|f| f.torch_build.is_none());
        let stderr = match &g.cuda {
            ProbeOutcome::Done { stderr_tail, .. } => stderr_tail.clone(),
            _ => String::new(),
        };
        let summary = if missing {
            format!("torch is not installed for {}", g.python_cmd())
        } else {
            format!("import torch fails: {error}")
        };
        return Check::new(id, Area::Torch, Status::Fail, summary)
            .evidence_all(stderr.lines().map(str::to_string))
            .fix_opt(reinstall_fix(g));
    }
    let Some(build) = g.torch_build() else {
        let why = g
            .facts()
            .and_then(|f| f.torch_build_error.clone())
            .unwrap_or_else(|| {
                "both probes failed (see python.interpreter and cuda.available)".into()
            });
        return Check::new(
            id,
            Area::Torch,
            Status::Skip,
            format!("torch build unknown: {why}"),
        );
    };
    let evidence = format!(
        "torch.__version__ = {}, torch.version.cuda = {} (from {})",
        build.version,
        build.cuda.as_deref().unwrap_or("None"),
        build.source
    );
    let tag = match build.version.split_once('+') {
        Some((_, tag)) => format!("build tag +{tag}"),
        None => "no build tag in the version: judged from torch.version.cuda".to_string(),
    };
    if let Some(hip) = &build.hip {
        return Check::new(
            id,
            Area::Torch,
            Status::Warn,
            format!("torch {} is a ROCm (HIP {hip}) build", build.version),
        )
        .evidence(evidence)
        .evidence("SadTalker is only known to work with CUDA builds");
    }
    match &build.cuda {
        Some(cuda) => Check::new(
            id,
            Area::Torch,
            Status::Ok,
            format!("torch {} built for CUDA {cuda}", build.version),
        )
        .evidence(evidence)
        .evidence(tag),
        None => cpu_only(g, &build.version).evidence(evidence).evidence(tag),
    }
}

/// A build without CUDA: a failure where an NVIDIA GPU is known to be here.
fn cpu_only(g: &Gathered, version: &str) -> Check {
    let summary = format!("CPU-only torch build {version} (torch.version.cuda is None)");
    match g.nvidia_gpu_seen() {
        // The wheel must match the driver; with no driver to ask, the driver comes first.
        Some(gpu) => Check::new(
            "torch.build",
            Area::Torch,
            Status::Fail,
            format!("{summary} while the driver sees {gpu}"),
        )
        .fix(reinstall_fix(g).unwrap_or_else(|| {
            format!(
                "{}; then run `sadfix doctor` again for the torch wheel that matches the driver",
                driver_install(&g.system)
            )
        })),
        None => Check::new("torch.build", Area::Torch, Status::Warn, summary)
            .evidence("no NVIDIA GPU seen here; reinstall a CUDA build on a machine that has one"),
    }
}

/// `cuda.available`.
pub fn check_available(g: &Gathered) -> Check {
    let id = "cuda.available";
    let probe = match &g.cuda {
        ProbeOutcome::TimedOut {
            after,
            needed_kill,
            stderr_tail,
        } => return timed_out(g, after.as_secs_f64(), *needed_kill, stderr_tail),
        // A Python that does not start is python.interpreter's failure; this check has nothing
        // to say about CUDA then, and "crashed" would point the user at the driver.
        ProbeOutcome::Failed { reason, .. } if reason.starts_with(COULD_NOT_START) => {
            return Check::new(
                id,
                Area::Torch,
                Status::Skip,
                format!("not checked: {reason} (see python.interpreter)"),
            )
        }
        ProbeOutcome::Failed {
            reason,
            stderr_tail,
        } => {
            return Check::new(
                id,
                Area::Torch,
                Status::Fail,
                format!("the CUDA check crashed: {reason}"),
            )
            .evidence_all(stderr_tail.lines().map(str::to_string))
        }
        ProbeOutcome::NotRun { reason } => {
            return Check::new(id, Area::Torch, Status::Skip, reason.clone())
        }
        // Worded in full by `interrupted::mark`.
        ProbeOutcome::Interrupted { .. } => {
            return Check::new(id, Area::Torch, Status::Interrupted, "not judged")
        }
        ProbeOutcome::Done { result, .. } => result,
    };
    if probe.import_error.is_some() {
        return Check::new(
            id,
            Area::Torch,
            Status::Skip,
            "not checked: import torch fails (see torch.build)",
        );
    }
    if let Some(error) = &probe.cuda_error {
        return Check::new(
            id,
            Area::Torch,
            Status::Fail,
            format!("torch.cuda.is_available() raised {error}"),
        );
    }
    let timing = format!(
        "import torch {:.0} ms, is_available() {:.0} ms",
        probe.import_ms.unwrap_or(0.0),
        probe.available_ms.unwrap_or(0.0)
    );
    if probe.is_available == Some(true) {
        return match arch::unsupported(g, probe) {
            Some(gpu) => unsupported_gpu(probe, gpu, timing),
            None => available(probe, timing),
        };
    }
    let cause = why_unavailable(g, probe);
    Check::new(id, Area::Torch, cause.status, cause.summary)
        .evidence_all(cause.evidence)
        .evidence(timing)
        .fix_opt(cause.fix)
}

/// CUDA answers, but the build has no kernels for the GPU: the first kernel fails.
fn unsupported_gpu(probe: &CudaProbe, gpu: arch::Unsupported, timing: String) -> Check {
    let failed = probe.tensor_op.as_ref().is_some_and(|op| !op.ok);
    let status = if failed { Status::Fail } else { Status::Warn };
    let mut check = Check::new(
        "cuda.available",
        Area::Torch,
        status,
        format!(
            "{} ({}) is not supported by this torch build",
            gpu.name, gpu.sm
        ),
    )
    .evidence(format!("torch.cuda.get_arch_list(): {}", gpu.arch_list));
    if let Some(error) = probe.tensor_op.as_ref().and_then(|op| op.error.clone()) {
        check = check.evidence(format!("tensor op on the GPU: {error}"));
    }
    check
        .evidence_all(probe.warnings.iter().map(|w| w.trim().to_string()))
        .evidence(timing)
        .fix(gpu.fix)
}

/// CUDA answered True: it works when the tensor operation did too.
fn available(probe: &CudaProbe, timing: String) -> Check {
    let devices: Vec<String> = probe
        .devices
        .iter()
        .map(|d| {
            let sm: String = d.capability.iter().map(u32::to_string).collect();
            format!("{} (sm_{sm})", d.name)
        })
        .collect();
    match &probe.tensor_op {
        Some(op) if op.ok => Check::new(
            "cuda.available",
            Area::Torch,
            Status::Ok,
            format!(
                "CUDA works: {} device(s): {}",
                probe.device_count.unwrap_or(0),
                devices.join(", ")
            ),
        )
        .evidence(timing)
        .evidence(format!(
            "tensor op on the GPU with synchronize: {:.0} ms",
            op.ms
        )),
        other => Check::new(
            "cuda.available",
            Area::Torch,
            Status::Fail,
            "CUDA is available but a tensor operation on the GPU failed",
        )
        .evidence(
            other
                .as_ref()
                .and_then(|op| op.error.clone())
                .unwrap_or_else(|| "no result".into()),
        )
        .evidence(timing),
    }
}

fn timed_out(g: &Gathered, after: f64, needed_kill: bool, stderr_tail: &str) -> Check {
    let fix = wsl_loader_fix(g).unwrap_or_else(|| "sadfix patch --cuda-timeout 10".into());
    Check::new(
        "cuda.available",
        Area::Torch,
        Status::Timeout,
        format!(
            "import torch + torch.cuda.is_available() did not answer within {} s",
            g.timeout.as_secs_f64()
        ),
    )
    .evidence(format!("stopped after {after:.1} s"))
    .evidence(if needed_kill {
        "the probe ignored SIGTERM and was killed with SIGKILL (a hang inside the driver)"
    } else {
        "the probe was stopped with SIGTERM"
    })
    .evidence("SadTalker would hang the same way, or fall back to CPU; `sadfix patch --force-gpu` skips the check")
    .evidence_all(stderr_tail.lines().map(str::to_string))
    .fix(fix)
}
