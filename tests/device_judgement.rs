//! The run's device, judged where it is decided: on an unmodified upstream tree (`bfm.py`'s
//! model starts on 'cpu' and is moved by its own `to(device)`) doctor finds no device FAIL, scan
//! lists bfm.py as report only, and `patch --force-gpu` rewrites only the CUDA checks; an
//! arguments object hard-wired to the CPU (sadtalker-z's `aiy.py`) stays a FAIL and is rewritten.

mod util;

use sadfix::doctor::check::{DoctorReport, Status};
use sadfix::patch::outcome::{PatchDocument, ScanDocument};
use sadfix::patch::{Action, SiteKind};
use std::fs;
use std::path::Path;
use std::path::PathBuf;
use util::{copy_fixture, copy_tree, fake_torch, fixtures, sadfix};

/// An unmodified upstream tree: the standalone clone with the 3D face model of `src/face3d/`.
fn upstream() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = copy_fixture("installs/standalone");
    copy_tree(&fixtures().join("device/face3d"), &root);
    (tmp, root)
}

/// `sadfix patch --force-gpu --json` on `root`, read back.
fn force_gpu(root: &Path) -> PatchDocument {
    let out = sadfix(root)
        .args(["patch", "--force-gpu", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn json<T: serde::de::DeserializeOwned>(out: &[u8]) -> T {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

fn device_sites(root: &Path) -> Vec<(String, String, Action)> {
    let out = sadfix(root).args(["scan", "--json"]).output().unwrap();
    let doc: ScanDocument = json(&out.stdout);
    doc.sites
        .into_iter()
        .filter(|s| s.kind == SiteKind::Device)
        .map(|s| (s.file.display().to_string(), s.family, s.action))
        .collect()
}

fn doctor_json(root: &Path, mode: &str) -> DoctorReport {
    let out = sadfix(root)
        .env_clear()
        .envs(fake_torch::env(mode, "packages-pinned"))
        .env(
            "SADFIX_GPU_REPLAY",
            fixtures().join("doctor/gpu/rtx3090-driver-550.json"),
        )
        .args(["doctor", "--json", "--python"])
        .arg(fake_torch::python())
        .output()
        .unwrap();
    json(&out.stdout)
}

#[test]
fn upstream_bfm_model_is_listed_as_report_only_because_its_to_moves_it() {
    let (_tmp, root) = upstream();
    assert_eq!(
        device_sites(&root),
        vec![
            ("inference.py".into(), "A".into(), Action::Rewrite),
            (
                "src/face3d/models/bfm.py".into(),
                "G".into(),
                Action::ReportOnly
            ),
            ("src/gradio_demo.py".into(), "C".into(), Action::Rewrite),
        ]
    );
}

#[test]
fn the_report_only_note_names_where_the_caller_moves_the_model() {
    let (_tmp, root) = upstream();
    let out = sadfix(&root).args(["scan", "--json"]).output().unwrap();
    let doc: ScanDocument = json(&out.stdout);
    let bfm = doc
        .sites
        .iter()
        .find(|s| s.file == Path::new("src/face3d/models/bfm.py"))
        .unwrap();
    assert!(
        bfm.note
            .ends_with("(ParametricFaceModel is moved at src/face3d/models/facerecon_model.py:17)"),
        "{bfm:?}"
    );
}

#[test]
fn unmodified_upstream_with_working_cuda_gets_no_device_fail() {
    let (_tmp, root) = upstream();
    let report = doctor_json(&root, "cuda");
    let check = report.check("code.device_selection").unwrap();
    assert_eq!(check.status, Status::Warn, "{check:?}");
    assert!(check.summary.contains("inference.py"), "{check:?}");
    assert!(!check.summary.contains("bfm.py"), "{check:?}");
    assert_eq!(check.fix.as_deref(), Some("sadfix patch --force-gpu"));
}

#[test]
fn force_gpu_on_upstream_rewrites_only_the_cuda_checks() {
    let (_tmp, root) = upstream();
    let bfm = root.join("src/face3d/models/bfm.py");
    let before = fs::read(&bfm).unwrap();
    let doc = force_gpu(&root);
    let mut changed: Vec<String> = doc
        .changed
        .iter()
        .map(|c| c.file.display().to_string())
        .collect();
    changed.sort();
    assert_eq!(changed, ["inference.py", "src/gradio_demo.py"]);
    assert_eq!(fs::read(&bfm).unwrap(), before);
}

/// A tree whose arguments object is sadtalker-z's `SadTalkerArgs`.
fn aiy_install() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = upstream();
    fs::copy(fixtures().join("device/aiy.py"), root.join("aiy.py")).unwrap();
    (tmp, root)
}

#[test]
fn an_arguments_object_hard_wired_to_the_cpu_is_still_a_fail() {
    let (_tmp, root) = aiy_install();
    let sites = device_sites(&root);
    assert!(
        sites.contains(&("aiy.py".into(), "G".into(), Action::Rewrite)),
        "{sites:?}"
    );
    let report = doctor_json(&root, "cuda");
    let check = report.check("code.device_selection").unwrap();
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert!(check.summary.contains("aiy.py:13"), "{check:?}");
}

#[test]
fn force_gpu_rewrites_the_hard_wired_arguments_object() {
    let (_tmp, root) = aiy_install();
    force_gpu(&root);
    let aiy = fs::read_to_string(root.join("aiy.py")).unwrap();
    assert!(aiy.contains("self.device = 'cuda'"), "{aiy}");
    assert!(aiy.contains("self.batch_size = 2"), "{aiy}");
    let bfm = fs::read_to_string(root.join("src/face3d/models/bfm.py")).unwrap();
    assert!(bfm.contains("self.device = 'cpu'"), "{bfm}");
}
