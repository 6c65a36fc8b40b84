//! `sadfix scan` and `sadfix patch --compat` as a new user runs them on a fixture install whose
//! package metadata says gradio 4, numpy 2.4, torchvision 0.17 and Pillow 10: the machine's
//! python3 reads the fake metadata through the doctor's facts probe (nothing is imported).

mod util;

use sadfix::patch::outcome::{PatchDocument, RevertDocument, ScanDocument};
use sadfix::patch::{Action, SiteKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use util::{copy_tree, fixtures, sadfix};

fn python() -> PathBuf {
    let out = StdCommand::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

struct World {
    _tmp: tempfile::TempDir,
    install: PathBuf,
    packages: PathBuf,
}

fn world(packages: &str) -> World {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("SadTalker");
    let site = tmp.path().join("site-packages");
    copy_tree(&fixtures().join("compat/SadTalker"), &install);
    copy_tree(&fixtures().join("compat").join(packages), &site);
    World {
        _tmp: tmp,
        install,
        packages: site,
    }
}

fn run(w: &World, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = sadfix(&w.install);
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/bin:/bin")
        .env("PYTHONPATH", &w.packages)
        .args(args)
        .arg("--python")
        .arg(python());
    cmd
}

fn scan_json(w: &World) -> ScanDocument {
    let out = run(w, &["scan", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn bytes_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".sadfix") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn scan_lists_each_breakage_with_its_gate() {
    let w = world("packages-new");
    let doc = scan_json(&w);
    let needed: Vec<(String, String)> = doc
        .sites
        .iter()
        .filter(|s| s.kind == SiteKind::Compat && s.action == Action::Rewrite)
        .map(|s| {
            (
                s.recipe.clone().unwrap(),
                s.gate.clone().unwrap_or_default(),
            )
        })
        .collect();
    for (recipe, gate) in [
        ("gradio-style-chain-empty", "gradio >= 4.0: gradio 4.0.0"),
        ("gradio-source-keyword", "gradio >= 4.0: gradio 4.0.0"),
        ("numpy-removed-alias", "numpy >= 1.24: numpy 2.4.0"),
        ("numpy-ragged-t", "numpy >= 1.24: numpy 2.4.0"),
        (
            "numpy-visible-deprecation-warning",
            "numpy >= 2.0: numpy 2.4.0",
        ),
        ("numpy-hsplit-items", "numpy >= 2.4: numpy 2.4.0"),
        ("pillow-antialias", "Pillow >= 10.0: Pillow 10.0.0"),
        (
            "basicsr-functional-tensor",
            "torchvision >= 0.17: torchvision 0.17.0",
        ),
    ] {
        assert!(
            needed.iter().any(|(r, g)| r == recipe && g == gate),
            "{recipe} with gate {gate:?} not in {needed:#?}"
        );
    }
    let basicsr = doc
        .sites
        .iter()
        .find(|s| s.recipe.as_deref() == Some("basicsr-functional-tensor"))
        .unwrap();
    assert_eq!(
        basicsr.file,
        w.packages.join("basicsr/data/degradations.py")
    );
    let tts = doc
        .sites
        .iter()
        .find(|s| s.recipe.as_deref() == Some("tts-optional"))
        .unwrap();
    assert_eq!(tts.action, Action::NotNeeded, "TTS 0.22 is installed");
    let compat = doc.compat.expect("the gates say where they were read");
    assert!(compat.packages_from.unwrap().contains("package metadata"));
    let pip: Vec<&str> = compat.pip.iter().map(|p| p.command.as_str()).collect();
    assert!(
        pip.iter()
            .any(|c| c.ends_with("-m pip install librosa==0.11.0")),
        "{pip:?}"
    );
    assert!(
        pip.iter()
            .any(|c| c.ends_with("-m pip install imageio-ffmpeg==0.4.7")),
        "{pip:?}"
    );
}

#[test]
fn patch_compat_site_packages_fixes_all_then_nothing_then_reverts_every_byte() {
    let w = world("packages-new");
    let inside = bytes_of(&w.install);
    let outside = bytes_of(&w.packages);

    let without = run(&w, &["patch", "--compat", "--dry-run"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&without.get_output().stderr).into_owned();
    assert!(
        stderr.contains("sadfix patch --compat --site-packages"),
        "says the flag is needed: {stderr}"
    );

    let first = run(&w, &["patch", "--compat", "--site-packages"])
        .assert()
        .success();
    let diff = String::from_utf8_lossy(&first.get_output().stdout).into_owned();
    assert!(
        diff.contains("+        with gr.Row(equal_height=False):"),
        "{diff}"
    );
    assert!(diff.contains("+from torchvision.transforms.functional import rgb_to_grayscale"));
    assert!(diff.contains(&format!(
        "+++ {}",
        w.packages.join("basicsr/data/degradations.py").display()
    )));
    assert!(
        std::fs::read_to_string(w.packages.join("basicsr/data/degradations.py"))
            .unwrap()
            .contains("torchvision.transforms.functional import")
    );
    assert!(w
        .install
        .join(".sadfix/site-packages/journal.json")
        .is_file());

    let again = run(&w, &["patch", "--compat", "--site-packages", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: PatchDocument = serde_json::from_slice(&again).unwrap();
    assert!(doc.changed.is_empty() && doc.outside.is_empty(), "{doc:?}");

    let reverted = run(&w, &["patch", "--revert", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: RevertDocument = serde_json::from_slice(&reverted).unwrap();
    assert!(doc
        .outcome
        .restored
        .contains(&w.packages.join("basicsr/data/degradations.py")));
    assert_eq!(bytes_of(&w.install), inside);
    assert_eq!(bytes_of(&w.packages), outside);
    assert!(
        !w.install.join(".sadfix/site-packages/root.txt").exists(),
        "nothing left to revert outside"
    );
}

#[test]
fn offload_frames_shows_its_diff_and_reverts() {
    let w = world("packages-old");
    let inside = bytes_of(&w.install);
    let out = run(&w, &["patch", "--offload-frames"]).assert().success();
    let diff = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        diff.contains("+            predictions.append(out['prediction'].cpu())"),
        "{diff}"
    );
    run(&w, &["patch", "--revert"]).assert().success();
    assert_eq!(bytes_of(&w.install), inside);
}

#[test]
fn the_pins_get_not_needed_with_the_version() {
    let w = world("packages-old");
    let out = run(&w, &["patch", "--compat", "--dry-run"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("[numpy >= 1.24: not needed (numpy 1.23.5)]"),
        "{stderr}"
    );
    assert!(out.get_output().stdout.is_empty(), "no diff");
}

#[test]
fn doctor_reports_a_hand_fix_the_next_numpy_breaks() {
    use sadfix::doctor::check::{DoctorReport, Status};
    let w = world("packages-numpy126");
    std::fs::copy(
        fixtures().join("compat/variants/preprocess-float.py"),
        w.install.join("src/face3d/util/preprocess.py"),
    )
    .unwrap();
    let out = run(&w, &["doctor", "--json"]).output().unwrap();
    let report: DoctorReport = serde_json::from_slice(&out.stdout).unwrap();
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "code.numpy_hand_fix")
        .expect("the check runs");
    assert_eq!(check.status, Status::Warn, "{check:?}");
    assert!(
        check
            .summary
            .contains("numpy >= 2.4 breaks (numpy 1.26.4 now)"),
        "{check:?}"
    );
    assert!(check
        .evidence
        .iter()
        .any(|e| e.starts_with("src/face3d/util/preprocess.py:106:")));
    assert!(check
        .fix
        .as_deref()
        .unwrap()
        .starts_with("sadfix patch --compat"));

    run(&w, &["patch", "--compat"]).assert().success();
    let out = run(&w, &["doctor", "--json"]).output().unwrap();
    let report: DoctorReport = serde_json::from_slice(&out.stdout).unwrap();
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "code.numpy_hand_fix")
        .unwrap();
    assert_eq!(check.status, Status::Ok, "after --compat: {check:?}");
}

#[test]
fn without_a_python_no_gated_fix_is_applied_and_the_summary_says_why() {
    let w = world("packages-new");
    let before = bytes_of(&w.install);
    let out = sadfix(&w.install)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("PATH", "/nonexistent")
        .args(["patch", "--compat"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("package versions unknown, no gated fix applied: no Python found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("numpy >= 1.24: numpy version unknown: not applied"),
        "{stderr}"
    );
    assert!(out.get_output().stdout.is_empty());
    assert_eq!(bytes_of(&w.install), before);
}

#[test]
fn doctor_gives_the_pip_commands_no_code_fix_replaces() {
    use sadfix::doctor::check::{DoctorReport, Status};
    let w = world("packages-new");
    let out = run(&w, &["doctor", "--json"]).output().unwrap();
    let report: DoctorReport = serde_json::from_slice(&out.stdout).unwrap();
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "packages.version_changes")
        .unwrap();
    assert_eq!(check.status, Status::Fail, "{check:?}");
    let fix = check.fix.as_deref().unwrap();
    assert!(fix.contains("-m pip install librosa==0.11.0 && "), "{fix}");
    assert!(
        fix.ends_with("-m pip install imageio-ffmpeg==0.4.7"),
        "{fix}"
    );
    let numpy = report
        .checks
        .iter()
        .find(|c| c.id == "packages.numpy")
        .unwrap();
    assert!(numpy
        .fix
        .as_deref()
        .unwrap()
        .starts_with("sadfix patch --compat"));
}

#[test]
fn the_scan_table_fits_the_terminal_width_and_names_kinds_by_their_flag() {
    let w = world("packages-new");
    for (columns, limit) in [(None, 120), (Some("100"), 100)] {
        let mut cmd = run(&w, &["scan"]);
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        let table = String::from_utf8(out).unwrap();
        let widest = table.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= limit, "{widest} > {limit}:\n{table}");
        assert!(table.contains("site-packages/basicsr/"), "{table}");
        assert!(
            !table.contains(&w.packages.display().to_string()),
            "{table}"
        );
    }
    let doc = scan_json(&w);
    let offload: Vec<SiteKind> = doc
        .sites
        .iter()
        .filter(|s| s.family == "offload-frames")
        .map(|s| s.kind)
        .collect();
    assert!(!offload.is_empty());
    assert!(
        offload.iter().all(|k| *k == SiteKind::OffloadFrames),
        "{offload:?}"
    );
}

#[test]
fn compat_lists_only_its_own_sites_unless_verbose() {
    let w = world("packages-new");
    let quiet = run(&w, &["patch", "--compat", "--dry-run"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&quiet.get_output().stderr).into_owned();
    assert!(!stderr.contains("not edited inference.py"), "{stderr}");
    assert!(!stderr.contains(" device "), "{stderr}");
    let verbose = run(&w, &["patch", "--compat", "--dry-run", "--verbose"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&verbose.get_output().stderr).into_owned();
    assert!(stderr.contains("batch size"), "{stderr}");
}

#[test]
fn a_python_without_any_gated_package_is_named_in_a_warning() {
    let w = world("packages-new");
    let empty = tempfile::tempdir().unwrap();
    let out = run(&w, &["patch", "--compat", "--dry-run"])
        .env("PYTHONPATH", empty.path())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("warning: none of the packages the compat fixes depend on"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --python"), "{stderr}");
    assert!(stderr.contains(&python().display().to_string()), "{stderr}");
}

/// The gates are judged from the venv's layout alone: its `python` here cannot even start, so
/// any version scan reports was read from disk.
#[test]
fn scan_reads_a_venvs_versions_from_disk_without_starting_its_python() {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("SadTalker");
    copy_tree(&fixtures().join("compat/SadTalker"), &install);
    let venv = install.join("venv");
    let site = venv.join("lib/python3.12/site-packages");
    copy_tree(&fixtures().join("compat/packages-new"), &site);
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("bin/python"), b"\x7fELF not an interpreter").unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /nowhere/bin\ninclude-system-site-packages = false\nversion = 3.12.4\n",
    )
    .unwrap();
    let out = sadfix(&install)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/bin:/bin")
        .args(["scan", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: ScanDocument = serde_json::from_slice(&out).unwrap();
    let gate = |recipe: &str| {
        doc.sites
            .iter()
            .find(|s| s.recipe.as_deref() == Some(recipe))
            .and_then(|s| s.gate.clone())
    };
    assert_eq!(
        gate("numpy-removed-alias").as_deref(),
        Some("numpy >= 1.24: numpy 2.4.0")
    );
    let basicsr = doc
        .sites
        .iter()
        .find(|s| s.recipe.as_deref() == Some("basicsr-functional-tensor"))
        .expect("basicsr found in the venv's site-packages");
    assert_eq!(basicsr.file, site.join("basicsr/data/degradations.py"));
    let compat = doc.compat.expect("the gates say where they were read");
    assert!(
        compat
            .packages_from
            .as_deref()
            .unwrap()
            .contains("read from disk"),
        "{:?}",
        compat.packages_from
    );
}
