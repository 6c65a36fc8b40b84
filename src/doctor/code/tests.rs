//! Verdicts on constructed scan sites, one per state of the code.

use super::*;
use std::path::PathBuf;

fn device(family: &str, action: Action, value: &str) -> Site {
    Site {
        file: PathBuf::from("inference.py"),
        line: 139,
        kind: SiteKind::Device,
        family: family.into(),
        value: value.into(),
        action,
        recipe: None,
        note: "test site".into(),
        gate: None,
    }
}

fn batch(value: &str) -> Site {
    Site {
        kind: SiteKind::BatchSize,
        family: "argparse".into(),
        line: 80,
        ..device("", Action::Rewrite, value)
    }
}

#[test]
fn unpatched_selection_warns_when_cuda_works_and_fails_when_it_timed_out() {
    let sites = Ok(vec![device(
        "A",
        Action::Rewrite,
        "torch.cuda.is_available() and not args.cpu",
    )]);
    let works = check_device_selection(&sites, CudaState::Works);
    assert_eq!(works.status, Status::Warn);
    assert_eq!(works.fix.as_deref(), Some("sadfix patch --force-gpu"));
    let hung = check_device_selection(&sites, CudaState::TimedOut);
    assert_eq!(hung.status, Status::Fail);
    assert_eq!(hung.fix.as_deref(), Some("sadfix patch --force-gpu"));
    let no_cuda = check_device_selection(&sites, CudaState::Unavailable);
    assert_eq!(no_cuda.status, Status::Warn);
    assert_eq!(
        no_cuda.fix, None,
        "forcing the GPU cannot help without CUDA"
    );
}

#[test]
fn forced_and_bounded_selection_is_ok() {
    for (action, words) in [
        (Action::AlreadyForced, "forced"),
        (Action::AlreadyBounded, "bounded"),
    ] {
        let check = check_device_selection(
            &Ok(vec![device("H", action, "not args.cpu")]),
            CudaState::Works,
        );
        assert_eq!(check.status, Status::Ok);
        assert!(check.summary.contains(words), "{}", check.summary);
        assert_eq!(check.fix, None);
    }
}

#[test]
fn the_repeated_block_fails_and_patch_repairs_it() {
    let sites = Ok(vec![
        device("HxN", Action::Repair, "forced block x4"),
        device("L", Action::ReportOnly, "gfpgan"),
    ]);
    let check = check_device_selection(&sites, CudaState::Works);
    assert_eq!(check.status, Status::Fail);
    assert!(check.summary.contains("repeated"));
    assert_eq!(check.fix.as_deref(), Some("sadfix patch --force-gpu"));
    assert_eq!(check.evidence.len(), 2);
}

#[test]
fn hard_coded_cpu_is_a_fallback_although_cuda_works() {
    let check = check_device_selection(
        &Ok(vec![device("G", Action::Rewrite, "'cpu'")]),
        CudaState::Works,
    );
    assert_eq!(check.status, Status::Fail);
    assert!(check
        .summary
        .contains("falls back to CPU although CUDA works"));
}

#[test]
fn without_a_scan_both_code_checks_are_skipped() {
    let none: Result<Vec<Site>, String> = Err("code scan unavailable in this build".into());
    assert_eq!(
        check_device_selection(&none, CudaState::Works).status,
        Status::Skip
    );
    assert_eq!(check_batch_size(&none, None).status, Status::Skip);
}

#[test]
fn batch_size_two_on_a_large_gpu_suggests_a_larger_one() {
    let sites = Ok(vec![batch("2")]);
    let small = check_batch_size(&sites, Some(8 << 30));
    assert_eq!(small.status, Status::Ok);
    assert_eq!(small.summary, "batch size default 2 (inference.py:80)");
    let large = check_batch_size(&sites, Some(24 << 30));
    assert_eq!(large.status, Status::Warn);
    assert_eq!(large.fix.as_deref(), Some("sadfix patch --batch-size 4"));
    assert_eq!(
        check_batch_size(&Ok(vec![batch("8")]), Some(24 << 30)).status,
        Status::Ok
    );
}

#[test]
fn an_alarm_timeout_and_non_pytorch_code_are_reported_not_forced() {
    let alarm = check_device_selection(
        &Ok(vec![device(
            "I",
            Action::ReportOnly,
            "cuda_available and not args.cpu",
        )]),
        CudaState::Works,
    );
    assert_eq!(alarm.status, Status::Warn);
    assert_eq!(alarm.fix.as_deref(), Some("sadfix patch --cuda-timeout 10"));
    let other = check_device_selection(
        &Ok(vec![device(
            "K",
            Action::Unsupported,
            "device_target='GPU'",
        )]),
        CudaState::Works,
    );
    assert_eq!(other.status, Status::Warn);
    assert_eq!(other.fix, None);
    assert!(other.summary.contains("not PyTorch"));
}
