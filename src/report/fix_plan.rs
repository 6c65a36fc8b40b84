//! `sadfix fix` before it writes: the diagnosis sorted into code and environment fixes, the
//! diff, the question, and the progress notes of the two runs.

use super::patch::render_diff;
use crate::fix::findings::{CodeFix, CudaState, EnvFix};
use crate::fix::measure::{Clip, Measured};
use crate::fix::outcome::FixReport;
use std::io::Write;

/// What doctor found about CUDA, in words.
pub fn cuda_words(cuda: CudaState) -> &'static str {
    match cuda {
        CudaState::Works => "CUDA works (doctor's probe ran a tensor operation on the GPU)",
        CudaState::Hangs => "the CUDA check hangs (doctor's probe ran past its deadline)",
        CudaState::CannotWork => "CUDA cannot work here (see the environment fixes)",
    }
}

/// The plan: what will change in the code (cause, command, recipes, diff) and what stays the
/// user's to do.
pub fn render(doc: &FixReport, tune: bool) -> String {
    let mut out = format!("sadfix fix: {}\n", doc.install);
    out.push_str(&format!("  diagnosis: {}\n\n", cuda_words(doc.cuda)));
    let applied: Vec<&CodeFix> = doc
        .code_fixes
        .iter()
        .filter(|f| f.not_applied.is_none())
        .collect();
    if !applied.is_empty() || tune {
        out.push_str("will change (code, through the patch engine):\n");
    }
    for fix in &applied {
        out.push_str(&format!(
            "  {}: {}\n    {}\n",
            fix.check, fix.cause, fix.command
        ));
    }
    for plan in &doc.plans {
        for change in &plan.changes {
            for f in &change.fixes {
                out.push_str(&format!(
                    "    recipe {} at {}:{}\n",
                    f.recipe,
                    f.file.display(),
                    f.line
                ));
            }
        }
    }
    if tune {
        out.push_str("  batch size: sadfix tune's trials after the device fix; the fastest that fits is applied\n");
    }
    out.push('\n');
    for plan in &doc.plans {
        out.push_str(&render_diff(plan, super::color_enabled()));
    }
    let left = yours(doc);
    if !left.is_empty() {
        out.push_str("\nstays yours to do:\n");
        for line in left {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// The environment fixes in order, then the code fixes this run leaves alone.
pub fn yours(doc: &FixReport) -> Vec<String> {
    let mut lines = env_lines(&doc.environment_fixes);
    for fix in doc.code_fixes.iter().filter(|f| f.not_applied.is_some()) {
        lines.push(format!(
            "{} ({}: {})",
            fix.command,
            fix.check,
            fix.not_applied.as_deref().unwrap_or_default()
        ));
    }
    lines
}

/// Numbered environment fixes, each with the finding it answers.
pub fn env_lines(fixes: &[EnvFix]) -> Vec<String> {
    fixes
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{}. {}   ({}: {})", i + 1, f.command, f.check, f.cause))
        .collect()
}

/// Ask on stderr, without a line break, so the answer follows on the same line.
pub fn prompt(question: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
}

pub fn measuring(label: &str, clip: &Clip) -> String {
    format!(
        "sadfix fix: measuring {label}: the first {:.1} s of {} ({} frames) through sadfix bench's runner",
        clip.seconds, clip.source, clip.frames
    )
}

pub fn measured(label: &str, m: &Measured) -> String {
    let r = &m.report;
    let how = if r.run.failed {
        format!(
            "FAILED ({})",
            r.run.cause.as_deref().unwrap_or("see the report")
        )
    } else {
        "ok".into()
    };
    format!(
        "sadfix fix: {label}: {how}, device {}, {:.1} s",
        r.device.device, r.wall_s
    )
}
