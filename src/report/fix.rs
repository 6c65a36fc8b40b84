//! The `sadfix fix` result as text: what the numbers are (simulated, GPU telemetry), the
//! before/after table, the verdict line with the speed-ups, the checks that decided it (with
//! the output lines that show a failed one), what was applied and what is left for the user.

use super::bench::{mb, provenance};
use super::fix_plan::{cuda_words, env_lines, yours};
use crate::bench::outcome::GpuTelemetry;
use crate::fix::judge::Outcome;
use crate::fix::outcome::{FixReport, Run, Verdict};
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

/// The verdict in one line: what happened and the speed-ups.
pub fn verdict_line(doc: &FixReport) -> String {
    let line = match doc.verdict {
        Verdict::Fixed => fixed_line(doc),
        Verdict::NotMeasured => {
            "applied, not measured (--no-measure): `sadfix bench` shows the effect".into()
        }
        Verdict::NothingToFix => {
            let env = doc.environment_fixes.len();
            if env == 0 {
                "nothing in the code to fix".into()
            } else {
                format!("nothing in the code to fix; {env} environment fix(es) are yours to run")
            }
        }
        Verdict::EnvironmentOnly => format!(
            "CUDA cannot work here: nothing changed; run the {} environment fix(es) above in order, then sadfix fix again",
            doc.environment_fixes.len()
        ),
        Verdict::DryRun => {
            let files: usize = doc.plans.iter().map(|p| p.changes.len()).sum();
            format!("dry run: {files} file(s) would change; nothing written, nothing run")
        }
        Verdict::Declined => "nothing written (not confirmed)".into(),
        Verdict::RolledBack => match doc.checks.iter().find(|c| c.outcome == Outcome::Fail) {
            Some(c) => format!("rolled back: {} failed: {}", c.id, c.detail),
            None => "rolled back".into(),
        },
        Verdict::RunFailed => {
            let cause = [&doc.after, &doc.before]
                .iter()
                .find_map(|r| r.as_ref().and_then(|r| r.bench.run.cause.clone()))
                .unwrap_or_else(|| "see the run's report".into());
            let undone = if doc.rolled_back.is_some() {
                "; everything applied was rolled back"
            } else {
                "; nothing changed"
            };
            format!("a run failed for a reason no code fix covers: {cause}{undone}")
        }
        Verdict::Interrupted => {
            "interrupted: nothing applied is left (rolled back, or not yet written)".into()
        }
    };
    if doc.simulated {
        format!("{line} [SIMULATED install]")
    } else {
        line
    }
}

fn fixed_line(doc: &FixReport) -> String {
    let device = |r: &Option<Run>| r.as_ref().map(|r| r.bench.device.device);
    let moved = device(&doc.before) != Some("cuda") && device(&doc.after) == Some("cuda");
    let head = if moved { "now on the GPU" } else { "kept" };
    let Some(s) = doc.speedup else {
        return format!("{head} (no before figure to compare)");
    };
    let x = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1}x"));
    let fr = match s.face_renderer {
        Some(v) if v >= 1.0 => format!("Face Renderer {} faster", x(Some(v))),
        Some(v) => format!("Face Renderer {} (within the noise)", x(Some(v))),
        None => "Face Renderer n/a".into(),
    };
    format!("{head}: {fr}, whole run {}", x(s.whole_run))
}

/// What the user still has to do, one line each (part of the JSON too).
pub fn left_for_user(doc: &FixReport) -> Vec<String> {
    let mut lines = yours(doc);
    if let Some(cmd) = doc
        .tune
        .as_ref()
        .and_then(|t| t.extra.parallel_command.as_ref())
    {
        lines.push(format!("to run several generations at once: {cmd}"));
    }
    lines
}

pub fn render(doc: &FixReport) -> String {
    if matches!(doc.verdict, Verdict::DryRun | Verdict::Declined) {
        // The plan above already said everything else.
        return format!("\n{}\n", doc.summary);
    }
    // After a plan (which named the install) the result follows under its own head.
    let mut out = if doc.plans.is_empty() {
        format!("sadfix fix: {}\n", doc.install)
    } else {
        "\nsadfix fix: the result\n".to_string()
    };
    let runs: Vec<&Run> = [&doc.before, &doc.after]
        .into_iter()
        .filter_map(Option::as_ref)
        .collect();
    if let Some(last) = runs.last() {
        for line in provenance(&last.bench) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!("  {}\n\n", cuda_words(doc.cuda)));
    if doc.verdict == Verdict::EnvironmentOnly {
        out.push_str("no code was changed: forcing `cuda` now would crash SadTalker. Run these, in this order:\n");
        for line in env_lines(&doc.environment_fixes) {
            out.push_str(&format!("  {line}\n"));
        }
        for fix in doc.code_fixes.iter().filter(|f| f.status.is_failure()) {
            out.push_str(&format!(
                "then, once CUDA works, sadfix fix applies: {} ({})\n",
                fix.command, fix.check
            ));
        }
        out.push_str(&format!("\n{}\n", doc.summary));
        return out;
    }
    if !runs.is_empty() {
        out.push_str(&table(doc).to_string());
        out.push('\n');
    }
    out.push_str(&format!("\n{}\n", doc.summary));
    for check in &doc.checks {
        out.push_str(&format!(
            "  {:<4} {}: {}\n",
            outcome_word(check.outcome),
            check.id,
            check.detail
        ));
        if check.outcome == Outcome::Fail {
            for line in &check.lines {
                out.push_str(&format!("         | {line}\n"));
            }
        }
    }
    if let Some(rec) = doc.tune.as_ref().and_then(|t| t.recommendation.as_ref()) {
        let speedup = rec.speedup.map_or(String::new(), |s| {
            format!(", {s:.2}x the default's videos per minute")
        });
        out.push_str(&format!(
            "\nbatch size {} from sadfix tune's trials{speedup}{}\n",
            rec.batch_size,
            if rec.applied { " (applied)" } else { "" }
        ));
    }
    if !doc.applied.is_empty() {
        let verb = if doc.rolled_back.is_some() {
            "applied, then rolled back"
        } else {
            "applied"
        };
        out.push_str(&format!("\n{verb}:\n"));
        for f in &doc.applied {
            out.push_str(&format!(
                "  {}:{}: {}\n",
                f.file.display(),
                f.line,
                f.recipe
            ));
        }
        if doc.rolled_back.is_none() {
            out.push_str("  undo all of it: sadfix patch --revert\n");
        }
    }
    if !doc.left_for_user.is_empty() {
        out.push_str("\nleft for you:\n");
        for line in &doc.left_for_user {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "ok",
        Outcome::Fail => "FAIL",
        Outcome::Skip => "skip",
    }
}

/// Before and after side by side: device, each stage, the Face Renderer per frame, GPU use,
/// peak memory, wall time.
fn table(doc: &FixReport) -> Table {
    let cols: Vec<(&str, Option<&Run>)> = vec![
        ("before", doc.before.as_ref()),
        ("after", doc.after.as_ref()),
    ];
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec!["".to_string()];
    header.extend(cols.iter().map(|(l, _)| l.to_string()));
    t.set_header(header);
    let row = |t: &mut Table, name: &str, f: &dyn Fn(&Run) -> String| {
        let mut cells = vec![name.to_string()];
        cells.extend(cols.iter().map(|(_, r)| r.map_or("not measured".into(), f)));
        t.add_row(cells);
    };
    row(&mut t, "device", &|r| r.bench.device.device.to_string());
    let mut names: Vec<(&str, &str)> = Vec::new();
    for r in cols.iter().filter_map(|(_, r)| *r) {
        for s in &r.bench.stages {
            if !names.iter().any(|(k, _)| *k == s.name) {
                names.push((s.name, s.label));
            }
        }
    }
    for (key, label) in names {
        row(&mut t, label, &|r| {
            r.bench
                .stages
                .iter()
                .find(|s| s.name == key)
                .map_or("-".into(), |s| format!("{:.1} s", s.duration_s))
        });
    }
    row(&mut t, "Face Renderer per frame", &|r| {
        r.face_renderer.as_ref().map_or("n/a".into(), |f| {
            let noise = f
                .noise_s_per_frame
                .map_or(String::new(), |n| format!(" ± {n:.3}"));
            format!("{:.3} s{noise}", f.s_per_frame)
        })
    });
    row(&mut t, "GPU use (mean)", &|r| {
        let o = &r.bench.overall;
        match (o.proc_gpu_util_mean, o.gpu_util_mean) {
            (Some(v), _) => format!("{v:.0}% (run)"),
            (None, Some(v)) => format!("{v:.0}% (device)"),
            _ => "n/a".into(),
        }
    });
    row(&mut t, "GPU memory peak (run)", &|r| match (
        r.bench.device.tree_gpu_mem_peak_mb,
        r.bench.telemetry.gpu,
    ) {
        (None, GpuTelemetry::Nvml) => "none listed".into(),
        (v, _) => mb(v),
    });
    row(&mut t, "RAM peak (run)", &|r| {
        mb(r.bench.overall.rss_peak_mb)
    });
    row(&mut t, "wall time", &|r| format!("{:.1} s", r.bench.wall_s));
    row(&mut t, "run", &|r| {
        if r.bench.run.failed {
            "FAILED".into()
        } else {
            "ok".into()
        }
    });
    for i in 1..=2 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}
