//! `sadfix scan` and `sadfix patch` as a user runs them, on temporary copies of the fixture
//! installs: exit codes, JSON read back into the report types, and the files on disk.

mod util;

use sadfix::patch::outcome::{Mode, PatchDocument, RevertDocument, ScanDocument};
use sadfix::patch::{Action, SiteKind};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use util::{copy_fixture, sadfix};

fn json<T: serde::de::DeserializeOwned>(out: &[u8]) -> T {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

fn patch_json(dir: &Path, args: &[&str]) -> PatchDocument {
    let out = sadfix(dir)
        .arg("patch")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = sadfix::install::python_files(root)
        .into_iter()
        .map(|p| (p.clone(), fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn changed_files(doc: &PatchDocument) -> Vec<String> {
    doc.changed
        .iter()
        .map(|c| c.file.display().to_string())
        .collect()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn scan_json_lists_every_site_with_its_family_and_action() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let out = sadfix(&root).args(["scan", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: ScanDocument = json(&out.stdout);
    assert_eq!(doc.schema_version, 1);
    assert_eq!(doc.install.layout, "standalone");
    let got: Vec<(String, usize, SiteKind, String, Action)> = doc
        .sites
        .into_iter()
        .map(|s| {
            (
                s.file.display().to_string(),
                s.line,
                s.kind,
                s.family,
                s.action,
            )
        })
        .collect();
    let want = vec![
        (
            "inference.py".into(),
            26,
            SiteKind::BatchSize,
            "argparse".into(),
            Action::Rewrite,
        ),
        (
            "inference.py".into(),
            34,
            SiteKind::Device,
            "A".into(),
            Action::Rewrite,
        ),
        (
            "src/gradio_demo.py".into(),
            9,
            SiteKind::Device,
            "C".into(),
            Action::Rewrite,
        ),
        (
            "src/gradio_demo.py".into(),
            20,
            SiteKind::BatchSize,
            "parameter".into(),
            Action::ReportOnly,
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn scan_finding_nothing_is_not_an_error_and_names_unparsable_files() {
    let (_tmp, root) = copy_fixture("installs/syntax-error");
    let out = sadfix(&root).args(["scan", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: ScanDocument = json(&out.stdout);
    assert!(doc.sites.is_empty());
    assert_eq!(doc.unparsed.len(), 1);
    assert_eq!(
        (doc.unparsed[0].file.to_str(), doc.unparsed[0].line),
        (Some("inference.py"), 9)
    );
}

#[test]
fn patch_without_an_option_is_a_usage_error() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    sadfix(&root).arg("patch").assert().code(2);
    sadfix(&root)
        .args(["patch", "--force-gpu", "--cuda-timeout", "5"])
        .assert()
        .code(2);
    sadfix(&root)
        .args(["patch", "--batch-size", "0"])
        .assert()
        .code(2);
}

#[test]
fn check_and_dry_run_write_nothing() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let before = snapshot(&root);
    sadfix(&root)
        .args(["patch", "--force-gpu", "--check"])
        .assert()
        .code(1);
    let out = sadfix(&root)
        .args(["patch", "--force-gpu", "--batch-size", "4", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.contains("--- a/inference.py\n+++ b/inference.py\n"),
        "{diff}"
    );
    assert!(diff
        .contains("-    if torch.cuda.is_available() and not args.cpu:\n+    if not args.cpu:\n"));
    assert!(diff.contains("+    parser.add_argument(\"--batch_size\", type=int, default=4,  help="));
    assert_eq!(snapshot(&root), before);
    assert!(!root.join(".sadfix").exists());
}

#[test]
fn patch_twice_then_revert_gives_back_the_original_bytes() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let before = snapshot(&root);
    let first = patch_json(&root, &["--force-gpu", "--batch-size", "4"]);
    assert_eq!(first.mode, Mode::Apply);
    assert!(first.written);
    assert_eq!(
        changed_files(&first),
        ["inference.py", "src/gradio_demo.py"]
    );
    let recipes: Vec<&str> = first.changed[0]
        .fixes
        .iter()
        .map(|f| f.recipe.as_str())
        .collect();
    assert_eq!(
        recipes,
        ["batch-size-argparse-default", "device-cuda-and-not-cpu"]
    );
    sadfix(&root)
        .args(["patch", "--force-gpu", "--batch-size", "4", "--check"])
        .assert()
        .code(0);

    let out = sadfix(&root)
        .args(["patch", "--force-gpu", "--batch-size", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "no diff the second time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "nothing changed: 1 site(s) listed as not edited are left that --force-gpu and --batch-size cannot change (see each note)",
        "{stderr}"
    );

    let out = sadfix(&root)
        .args(["patch", "--revert", "--json"])
        .output()
        .unwrap();
    let doc: RevertDocument = json(&out.stdout);
    assert_eq!(doc.outcome.restored.len(), 2);
    assert_eq!(snapshot(&root), before);
    let again = sadfix(&root).args(["patch", "--revert"]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to revert"));
}

#[test]
fn revert_refuses_a_file_changed_since_sadfix_wrote_it_unless_forced() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let original = fs::read(root.join("inference.py")).unwrap();
    patch_json(&root, &["--force-gpu"]);
    let mut edited = fs::read(root.join("inference.py")).unwrap();
    edited.extend_from_slice(b"# my own edit\n");
    fs::write(root.join("inference.py"), &edited).unwrap();
    let out = sadfix(&root).args(["patch", "--revert"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inference.py changed since sadfix wrote it") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        fs::read(root.join("inference.py")).unwrap(),
        edited,
        "nothing restored"
    );
    sadfix(&root)
        .args(["patch", "--revert", "--force"])
        .assert()
        .code(0);
    assert_eq!(fs::read(root.join("inference.py")).unwrap(), original);
}

/// Make `rel` read-only with `mode`, run `patch --force-gpu`, and check it is refused (exit 4)
/// with nothing written, not even the journal; returns stderr.
fn refused_when_read_only(rel: &str, mode: u32) -> String {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let before = snapshot(&root);
    let target = root.join(rel);
    let writable = fs::metadata(&target).unwrap().permissions().mode();
    chmod(&target, mode);
    let out = sadfix(&root)
        .args(["patch", "--force-gpu"])
        .output()
        .unwrap();
    chmod(&target, writable);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(snapshot(&root), before, "no file was written");
    assert!(!root.join(".sadfix/journal.json").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_read_only_file_is_refused_and_nothing_changes() {
    let err = refused_when_read_only("src/gradio_demo.py", 0o444);
    assert!(
        err.contains("src/gradio_demo.py: is read-only") && err.contains("chmod"),
        "{err}"
    );
}

#[test]
fn a_read_only_directory_is_refused_and_nothing_changes() {
    let err = refused_when_read_only("src", 0o555);
    assert!(err.contains("/src: is read-only"), "{err}");
}

#[test]
fn a_file_that_does_not_parse_is_refused_with_its_line() {
    let (_tmp, root) = copy_fixture("installs/syntax-error");
    let before = snapshot(&root);
    let out = sadfix(&root)
        .args(["patch", "--force-gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inference.py:9: does not parse"), "{err}");
    assert_eq!(snapshot(&root), before);
}

#[test]
fn a_second_sadfix_waits_then_refuses_while_the_lock_is_held() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let before = snapshot(&root);
    fs::create_dir_all(root.join(".sadfix")).unwrap();
    let held = fs::File::create(root.join(".sadfix/lock")).unwrap();
    held.try_lock().unwrap();
    let started = std::time::Instant::now();
    let out = sadfix(&root)
        .args(["patch", "--force-gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited first"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another sadfix is working on this install")
    );
    assert_eq!(snapshot(&root), before);
    drop(held);
    sadfix(&root)
        .args(["patch", "--force-gpu"])
        .assert()
        .code(0);
}

#[test]
fn host_app_layouts_are_patched_from_the_host_root() {
    let cases: [(&str, &[&str], &str, &[&str]); 3] = [
        (
            "installs/webui",
            &["--force-gpu"],
            "webui_extension",
            &["src/gradio_demo.py"],
        ),
        (
            "installs/app",
            &["--force-gpu", "--batch-size", "4"],
            "vendored",
            &["inference.py", "utils/arg_parser.py"],
        ),
        (
            "installs/ComfyUI",
            &["--force-gpu", "--cuda-timeout", "5"],
            "comfy_node",
            &[],
        ),
    ];
    for (fixture, args, layout, files) in cases {
        let (_tmp, host) = copy_fixture(fixture);
        let out = sadfix(&host)
            .arg("patch")
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        if args.contains(&"--cuda-timeout") {
            assert_eq!(out.status.code(), Some(2), "{fixture}: conflicting flags");
            continue;
        }
        let doc: PatchDocument = json(&out.stdout);
        assert_eq!(doc.install.layout, layout);
        assert_eq!(changed_files(&doc), files, "{fixture}");
    }
    let (_tmp, host) = copy_fixture("installs/ComfyUI");
    let doc = patch_json(&host, &["--force-gpu"]);
    assert_eq!(changed_files(&doc), ["inference.py"]);
    let i = doc.sites.iter().find(|s| s.family == "I").unwrap();
    assert_eq!(i.action, Action::ReportOnly);
    let doc = patch_json(&host, &["--cuda-timeout", "5"]);
    assert_eq!(doc.changed[0].fixes[0].recipe, "timeout-sigalrm-wrapper");
}

/// The last line of a run that changed nothing is true about what is left: a SIGALRM timeout
/// is not "as asked" under --force-gpu, and the line says what to run.
#[test]
fn nothing_changed_names_what_is_left_and_what_to_run() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    fs::copy(
        util::fixtures().join("cases/family-i.py"),
        root.join("inference.py"),
    )
    .unwrap();
    fs::remove_file(root.join("src/gradio_demo.py")).unwrap();
    let out = sadfix(&root)
        .args(["patch", "--force-gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(!stderr.contains("already is as asked"), "{stderr}");
    assert!(last.contains("1 site(s)"), "{stderr}");
    assert!(last.contains("sadfix patch --cuda-timeout 10"), "{stderr}");

    // Once bounded, --cuda-timeout with the same value has nothing left to do.
    sadfix(&root)
        .args(["patch", "--cuda-timeout", "10"])
        .assert()
        .code(0);
    let out = sadfix(&root)
        .args(["patch", "--cuda-timeout", "10"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().last(),
        Some("nothing to do: the code already is as asked"),
        "{stderr}"
    );
}

/// --force-gpu after --cuda-timeout forces the bounded check (it is no "nothing to do"), and
/// one revert gives back the bytes from before the first patch.
#[test]
fn force_gpu_after_cuda_timeout_then_revert() {
    let (_tmp, root) = copy_fixture("installs/standalone");
    let before = snapshot(&root);
    let bounded = patch_json(&root, &["--cuda-timeout", "10"]);
    assert_eq!(
        changed_files(&bounded),
        ["inference.py", "src/gradio_demo.py"]
    );
    let forced = patch_json(&root, &["--force-gpu"]);
    assert_eq!(
        changed_files(&forced),
        ["inference.py", "src/gradio_demo.py"]
    );
    for file in ["inference.py", "src/gradio_demo.py"] {
        let text = fs::read_to_string(root.join(file)).unwrap();
        assert!(!text.contains("_sadfix_cuda_available"), "{file}:\n{text}");
    }
    let again = patch_json(&root, &["--force-gpu"]);
    assert!(again.changed.is_empty());
    let out = sadfix(&root)
        .args(["patch", "--revert", "--json"])
        .output()
        .unwrap();
    let doc: RevertDocument = json(&out.stdout);
    assert_eq!(doc.outcome.restored.len(), 2);
    assert_eq!(snapshot(&root), before);
}
