//! Expectation loading and judging.

use super::*;
use crate::bench::judge::{judge, Observed};
use crate::bench::stages::Tell;
use crate::bench::summary::{StageSummary, Stats};

fn renderer(gpu: Option<f64>, samples: usize) -> StageSummary {
    StageSummary {
        name: "face_renderer",
        label: "Face Renderer",
        start_s: 10.0,
        end_s: 40.0,
        duration_s: 30.0,
        done: Some(138),
        total: Some(138),
        rate: None,
        gpu_util_mean: gpu,
        gpu_util_p95: gpu,
        gpu_mem_peak_mb: None,
        cpu_mean: None,
        samples,
        id: StageId::FaceRenderer,
    }
}

static NO_DEVICE: crate::bench::device::DeviceUse = crate::bench::device::DeviceUse {
    device: "unknown",
    how: Vec::new(),
    claim_line: None,
    tree_gpu_mem_peak_mb: None,
};

fn observe<'a>(stages: &'a [StageSummary], overall: &'a Stats, tells: &'a [Tell]) -> Observed<'a> {
    Observed {
        stages,
        overall,
        wall_s: 45.0,
        audio_s: Some(11.0),
        cpu_tells: tells,
        output_video: None,
        gpu_unavailable: None,
        require_gpu: false,
        run_failed: false,
        device: &NO_DEVICE,
        unfinished: None,
    }
}

fn find<'a>(verdicts: &'a [Verdict], id: &str) -> &'a Verdict {
    verdicts.iter().find(|v| v.id == id).unwrap()
}

#[test]
fn the_builtin_expectations_hold_the_guides_numbers() {
    let e = Expectations::builtin();
    assert_eq!(e.reference_audio_s, 11.0);
    let renderer = e.list.iter().find(|x| x.id == "gpu.face_renderer").unwrap();
    assert_eq!(renderer.guide, "90");
    let enhancer = e.list.iter().find(|x| x.id == "gpu.face_enhancer").unwrap();
    assert!(enhancer.note.as_deref().unwrap().contains("20-25%"));
}

#[test]
fn a_renderer_at_three_percent_fails_with_the_cpu_hint() {
    let stages = [renderer(Some(3.0), 120)];
    let overall = Stats::default();
    let verdicts = judge(&Expectations::builtin(), &observe(&stages, &overall, &[]));
    let v = find(&verdicts, "gpu.face_renderer");
    assert_eq!(v.status, Status::Fail);
    assert_eq!(v.observed.as_deref(), Some("3%"));
    assert_eq!(
        v.hint.as_deref(),
        Some("Face Renderer at 3% GPU: the run used the CPU; run sadfix doctor")
    );
    let v = find(&verdicts, "gpu.face_renderer");
    assert!(v.expected.contains("guide 90%"));
    // Absent stages are skipped, not failed.
    assert_eq!(find(&verdicts, "gpu.face_enhancer").status, Status::Skip);
}

#[test]
fn half_busy_warns_about_the_batch_size_and_ninety_passes() {
    let overall = Stats::default();
    let stages = [renderer(Some(45.0), 120)];
    let v = judge(&Expectations::builtin(), &observe(&stages, &overall, &[]));
    assert_eq!(find(&v, "gpu.face_renderer").status, Status::Warn);
    assert!(find(&v, "gpu.face_renderer")
        .hint
        .as_deref()
        .unwrap()
        .contains("--batch-size 4"));
    let stages = [renderer(Some(91.0), 120)];
    let v = judge(&Expectations::builtin(), &observe(&stages, &overall, &[]));
    assert_eq!(find(&v, "gpu.face_renderer").status, Status::Pass);
    assert_eq!(find(&v, "gpu.face_renderer").hint, None);
}

#[test]
fn without_gpu_telemetry_gpu_expectations_skip_unless_required() {
    let stages = [renderer(None, 120)];
    let overall = Stats::default();
    let mut obs = observe(&stages, &overall, &[]);
    obs.gpu_unavailable = Some("no driver");
    let v = judge(&Expectations::builtin(), &obs);
    let r = find(&v, "gpu.face_renderer");
    assert_eq!((r.status, r.observed.as_deref()), (Status::Skip, None));
    assert!(r
        .hint
        .as_deref()
        .unwrap()
        .contains("unavailable: no driver"));
    obs.require_gpu = true;
    let v = judge(&Expectations::builtin(), &obs);
    assert_eq!(find(&v, "gpu.face_renderer").status, Status::Fail);
    assert_eq!(find(&v, "gpu.overall").status, Status::Fail);
    // Not a GPU figure: still judged.
    assert_eq!(find(&v, "time.wall").status, Status::Pass);
}

#[test]
fn the_time_bound_scales_with_the_audio() {
    let overall = Stats::default();
    let mut obs = observe(&[], &overall, &[]);
    // 11 s of audio: 45 s is within 30-60 s.
    assert_eq!(
        find(&judge(&Expectations::builtin(), &obs), "time.wall").status,
        Status::Pass
    );
    // 5.5 s of audio: the bounds halve; 45 s is slow, 65 s is CPU speed.
    obs.audio_s = Some(5.5);
    assert_eq!(
        find(&judge(&Expectations::builtin(), &obs), "time.wall").status,
        Status::Warn
    );
    obs.wall_s = 65.0;
    let v = judge(&Expectations::builtin(), &obs);
    let t = find(&v, "time.wall");
    assert_eq!(t.status, Status::Fail);
    assert!(t.expected.contains("fail above 60.0 s"), "{}", t.expected);
    obs.audio_s = Some(2.0);
    assert_eq!(
        find(&judge(&Expectations::builtin(), &obs), "time.wall").status,
        Status::Skip
    );
}

#[test]
fn a_cpu_tell_fails_the_device_expectation() {
    let overall = Stats::default();
    let tells = [Tell {
        t: 3.0,
        what: "Face Renderer ran at 1.26 s/it".into(),
        line: String::new(),
    }];
    let v = judge(&Expectations::builtin(), &observe(&[], &overall, &tells));
    let d = find(&v, "device.cpu_tells");
    assert_eq!(d.status, Status::Fail);
    assert!(d
        .hint
        .as_deref()
        .unwrap()
        .ends_with("the run used the CPU; run sadfix doctor"));
}

#[test]
fn a_bad_expectations_file_names_every_problem() {
    let text = "version: 1\nreference_audio_s: 11\nexpectations:\n  - id: a\n    metric: nope\n    guide: 1\n    warn_below: 1\n  - id: b\n    metric: gpu_util_mean\n    stage: warp_drive\n    guide: 2\n    warn_below: 1\n  - id: c\n    metric: wall_s\n    guide: 3\n";
    let err = Expectations::parse(text, "mine.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown metric \"nope\""), "{err}");
    assert!(err.contains("unknown stage \"warp_drive\""), "{err}");
    assert!(err.contains("(c): needs at least one"), "{err}");
    let err = Expectations::parse("version: 1\nbogus: 2\n", "x.yaml").unwrap_err();
    assert!(matches!(err, ExpectError::Syntax { .. }));
}

#[test]
fn missing_fields_are_collected_with_the_other_problems() {
    let text = "reference_audio_s: 11\nexpectations:\n  - id: x\n    metric: wal_s\n    fail_above: 3\n  - id: y\n    guide: 1\n    warn_below: 1\n";
    let err = Expectations::parse(text, "mine.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("mine.yaml: 4 problem(s)"), "{err}");
    assert!(err.contains("version is missing"), "{err}");
    assert!(err.contains("(x): guide is missing"), "{err}");
    assert!(err.contains("(x): unknown metric \"wal_s\""), "{err}");
    assert!(err.contains("(y): metric is missing"), "{err}");
}
