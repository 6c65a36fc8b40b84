//! `sadfix fix` as a new user runs it, on the simulated install with the fake torch and the
//! stub NVML (test doubles, labelled so in every report): real child processes through bench's
//! runner, the code really patched through the engine, really rolled back.

mod nvml_stub;
mod util;

use nvml_stub::Variant;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use util::fake_torch;
use util::{copy_fixture, sadfix};

/// The documented top-level keys of `sadfix fix --json`.
const KEYS: &[&str] = &[
    "schema_version",
    "install",
    "simulated",
    "verdict",
    "summary",
    "cuda",
    "code_fixes",
    "environment_fixes",
    "applied",
    "rolled_back",
    "clip",
    "before",
    "after",
    "speedup",
    "checks",
    "tune",
    "left_for_user",
];

/// Runs are timed: one fix at a time, so the tests do not load each other's runs.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Setup {
    _tmp: tempfile::TempDir,
    install: PathBuf,
    holders: PathBuf,
    original: BTreeMap<PathBuf, Vec<u8>>,
}

/// The simulated install with its device choice hard-coded to the CPU (family G), as a user's
/// copy edited by hand would be.
fn install_on_cpu() -> Setup {
    let (tmp, install) = copy_fixture("sim-install");
    let script = install.join("inference.py");
    let text = std::fs::read_to_string(&script).unwrap();
    let choice = "    if torch.cuda.is_available() and not args.cpu:\n        args.device = \"cuda\"\n    else:\n        args.device = \"cpu\"\n";
    assert!(text.contains(choice), "the fixture's device choice moved");
    std::fs::write(&script, text.replace(choice, "    args.device = \"cpu\"\n")).unwrap();
    let holders = tmp.path().join("holders");
    std::fs::create_dir(&holders).unwrap();
    let original = tree(&install);
    Setup {
        _tmp: tmp,
        install,
        holders,
        original,
    }
}

/// Every file under `root` and its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    b"<dir>".to_vec(),
                );
                dirs.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

struct Ran {
    code: i32,
    doc: Option<Value>,
    stdout: String,
    stderr: String,
}

/// The simulated install's world: the fake torch in `torch` mode, the stub NVML reporting the
/// processes that put a tensor on `cuda`, the simulation at `speed`.
fn simulated(s: &Setup, torch: &str, speed: &str) -> Vec<(String, String)> {
    let owned = |(k, v): (&str, String)| (k.to_string(), v);
    let mut env: Vec<(String, String)> = fake_torch::env(torch, "packages-pinned")
        .into_iter()
        .map(owned)
        .collect();
    env.extend(nvml_stub::env(Variant::Current));
    env.extend(
        [
            ("NVML_STUB_PROCESSES", "holders:2900".to_string()),
            ("NVML_STUB_HOLDERS", s.holders.display().to_string()),
            ("SADTALKER_SIM_SPEED", speed.to_string()),
            ("SADTALKER_SIM_VIDEO", "placeholder".to_string()),
            // The fake torch is imported from the repository: no bytecode written into it.
            ("PYTHONDONTWRITEBYTECODE", "1".to_string()),
        ]
        .map(owned),
    );
    env
}

fn fix(s: &Setup, torch: &str, env: &[(&str, &str)], args: &[&str]) -> Ran {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let cwd = s.install.parent().unwrap();
    let json = cwd.join("fix.json");
    let _ = std::fs::remove_file(&json);
    let mut cmd = sadfix(cwd);
    cmd.env_clear()
        .envs(simulated(s, torch, "10"))
        .arg("--root")
        .arg(&s.install)
        .arg("fix")
        .args(["--python", &fake_torch::python().display().to_string()])
        .arg("--json")
        .arg(&json)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let doc = std::fs::read_to_string(&json)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("fix --json is JSON"));
    Ran {
        code: out.status.code().unwrap_or(-1),
        doc,
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn keys(doc: &Value) -> Vec<&str> {
    doc.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn cuda_working_but_the_code_on_the_cpu_is_patched_measured_and_kept() {
    let s = install_on_cpu();
    let run = fix(
        &s,
        "cuda",
        &[],
        &["--yes", "--svg", "fix.svg", "--metrics", "fix.prom"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    let cwd = s.install.parent().unwrap();
    let prom = util::prom::parse(&std::fs::read_to_string(cwd.join("fix.prom")).unwrap());
    let labels = [
        ("verdict", "fixed"),
        ("cuda", "works"),
        ("simulated", "true"),
    ];
    assert_eq!(prom.value("sadfix_fix_info", &labels), 1.0);
    assert_eq!(prom.value("sadfix_fix_rolled_back", &[]), 0.0);
    for (run, device) in [("before", "cpu"), ("after", "cuda")] {
        let labels = [("run", run), ("device", device)];
        assert_eq!(prom.value("sadfix_fix_device_info", &labels), 1.0);
        let wall = doc[run]["bench"]["wall_s"].as_f64().unwrap();
        assert_eq!(prom.value("sadfix_fix_wall_seconds", &[("run", run)]), wall);
    }
    let fr = doc["speedup"]["face_renderer"].as_f64().unwrap();
    let part = [("part", "face_renderer")];
    assert_eq!(prom.value("sadfix_fix_speedup_ratio", &part), fr);
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    let mut got = keys(&doc);
    got.sort_unstable();
    assert_eq!(got, want, "the documented keys only");
    assert_eq!(doc["verdict"], "fixed");
    assert_eq!(doc["simulated"], true);
    assert_eq!(doc["before"]["bench"]["device"]["device"], "cpu");
    assert_eq!(doc["after"]["bench"]["device"]["device"], "cuda");
    assert_eq!(
        doc["after"]["bench"]["device"]["tree_gpu_mem_peak_mb"],
        2900.0
    );
    let fr = doc["speedup"]["face_renderer"].as_f64().unwrap();
    assert!(
        fr > 2.0,
        "the simulated GPU renders about 6x faster, measured {fr}"
    );
    assert_eq!(doc["applied"][0]["recipe"], "device-hardcoded-cpu");
    assert!(
        run.stdout.contains("now on the GPU: Face Renderer"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("SIMULATED install"), "{}", run.stdout);
    let text = std::fs::read_to_string(s.install.join("inference.py")).unwrap();
    assert!(text.contains("    args.device = \"cuda\"\n"));
    assert_eq!(
        names_in(cwd),
        vec!["fix.json", "fix.prom", "fix.svg", "holders", "sim-install"],
        "the trials ran in a temporary folder"
    );
    let svg = std::fs::read_to_string(cwd.join("fix.svg")).unwrap();
    assert!(
        svg.contains("before: cpu") && svg.contains("after: cuda"),
        "{svg}"
    );
    assert!(svg.contains("SIMULATED"));

    // One revert undoes all that fix did.
    sadfix(s.install.parent().unwrap())
        .env_clear()
        .arg("--root")
        .arg(&s.install)
        .args(["patch", "--revert"])
        .assert()
        .success();
    let after_revert = tree(&s.install);
    let script = Path::new("inference.py");
    assert_eq!(after_revert[script], s.original[script]);
}

#[test]
fn a_fix_that_makes_the_run_crash_is_rolled_back_and_the_install_is_byte_identical() {
    let s = install_on_cpu();
    let run = fix(
        &s,
        "cuda",
        &[("SADTALKER_SIM_FAIL", "cuda-crash")],
        &["--yes"],
    );
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    assert_eq!(doc["verdict"], "rolled_back");
    let failed: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], "run.succeeded");
    let lines = failed[0]["lines"].to_string();
    assert!(lines.contains("CUDNN_STATUS_NOT_INITIALIZED"), "{lines}");
    assert!(
        run.stdout.contains("rolled back: run.succeeded failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| RuntimeError: cuDNN error"),
        "{}",
        run.stdout
    );
    assert_eq!(
        tree(&s.install),
        s.original,
        "the install is byte-identical"
    );
}

#[test]
fn a_cpu_only_torch_changes_nothing_and_prints_the_wheel_for_the_driver() {
    let s = install_on_cpu();
    let run = fix(&s, "cpu-only", &[], &["--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.doc.unwrap();
    assert_eq!(doc["verdict"], "environment_only");
    assert_eq!(doc["cuda"], "cannot_work");
    // The stub driver supports CUDA 12.4: the newest wheel it runs is cu124, printed first.
    let first = doc["environment_fixes"][0]["command"].as_str().unwrap();
    assert!(
        first.ends_with("-m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu124"),
        "{first}"
    );
    assert!(run.stdout.contains("  1. "), "{}", run.stdout);
    assert!(doc["before"].is_null(), "nothing was run");
    assert_eq!(tree(&s.install), s.original, "nothing was written");
}

#[test]
fn dry_run_writes_nothing_and_without_a_terminal_only_yes_writes() {
    let s = install_on_cpu();
    let run = fix(&s, "cuda", &[], &["--dry-run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.doc.unwrap()["verdict"], "dry_run");
    assert!(
        run.stdout.contains("+    args.device = \"cuda\""),
        "{}",
        run.stdout
    );
    assert_eq!(tree(&s.install), s.original);
    let cwd = s.install.parent().unwrap();
    assert_eq!(
        names_in(cwd),
        vec!["fix.json", "holders", "sim-install"],
        "a dry run measures nothing and writes only the JSON asked for"
    );

    let run = fix(&s, "cuda", &[], &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("stdin is not a terminal"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(&s.install), s.original);
}

/// Whether this test runs in a container, where doctor (rightly, for a real driver) expects
/// no per-process GPU memory from NVML.
fn in_container() -> bool {
    Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists()
}

#[test]
fn a_run_the_gpu_never_listed_is_rolled_back_outside_containers() {
    let s = install_on_cpu();
    // The stub lists no process on the GPU: the run says cuda, the GPU never saw it.
    let run = fix(&s, "cuda", &[("NVML_STUB_PROCESSES", "none")], &["--yes"]);
    let doc = run.doc.unwrap();
    let held = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "gpu.memory_held")
        .unwrap()
        .clone();
    if in_container() {
        // Only the output's claim is left to judge by, and it says cuda.
        assert_eq!(held["outcome"], "skip", "{held}");
        assert!(held["detail"]
            .as_str()
            .unwrap()
            .contains("the output says cuda"));
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        return;
    }
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(doc["verdict"], "rolled_back");
    assert_eq!(held["outcome"], "fail", "{held}");
    assert!(
        run.stdout.contains("rolled back: gpu.memory_held failed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        tree(&s.install),
        s.original,
        "the install is byte-identical"
    );
}

#[test]
fn ctrl_c_after_the_fix_was_written_rolls_it_back_and_dies_of_sigint() {
    use std::os::unix::process::ExitStatusExt;
    let s = install_on_cpu();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let cwd = s.install.parent().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sadfix"));
    cmd.current_dir(cwd)
        .env_clear()
        // Slow enough that the after run is still going when the signal comes.
        .envs(simulated(&s, "cuda", "4"))
        .arg("--root")
        .arg(&s.install)
        .args(["fix", "--yes", "--python"])
        .arg(fake_torch::python())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let script = s.install.join("inference.py");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&script)
        .unwrap()
        .contains("args.device = \"cuda\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the fix was never written"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.signal(), Some(libc::SIGINT), "{stdout}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert_eq!(
        tree(&s.install),
        s.original,
        "the install is byte-identical"
    );
}
