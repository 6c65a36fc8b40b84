//! `sadfix doctor` end to end: the machine's python3 against the fake torch in fixtures/, each
//! mode giving its verdict and fix, in the table and in JSON; bounded time on a hang; no process
//! left behind; exit codes.

mod util;

use sadfix::doctor::check::{DoctorReport, Status};
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};
use util::fake_torch::{self, python};
use util::{copy_fixture, fixtures, sadfix};

/// `sadfix` run from `cwd` with the fake torch in `mode`, the `packages` metadata set, and
/// nothing else from this process's environment.
fn with_fake_torch(cwd: &Path, mode: &str, packages: &str) -> assert_cmd::Command {
    let mut cmd = sadfix(cwd);
    cmd.env_clear().envs(fake_torch::env(mode, packages));
    cmd
}

/// A doctor run on `install` with the machine's python3 and the fake torch.
fn doctor(install: &Path, mode: &str, packages: &str) -> assert_cmd::Command {
    let mut cmd = with_fake_torch(install, mode, packages);
    cmd.arg("doctor").arg("--python").arg(python());
    cmd
}

fn json_report(cmd: &mut assert_cmd::Command, code: i32) -> DoctorReport {
    let out = cmd
        .arg("--json")
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("doctor --json parses into DoctorReport")
}

fn status(report: &DoctorReport, id: &str) -> Status {
    report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

fn gpu(name: &str) -> PathBuf {
    fixtures().join("doctor/gpu").join(name)
}

#[test]
fn a_healthy_install_with_a_working_cuda_build_passes() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let mut cmd = doctor(&root.join("SadTalker"), "cuda", "packages-pinned");
    cmd.env("SADFIX_GPU_REPLAY", gpu("rtx3090-driver-550.json"));
    let report = json_report(&mut cmd, 0);
    assert_eq!(report.schema_version, 1);
    for id in [
        "install.found",
        "python.interpreter",
        "torch.build",
        "cuda.available",
        "gpu.driver",
        "packages.numpy",
        "packages.basicsr",
        "ffmpeg",
        "weights.checkpoints",
        "weights.gfpgan",
    ] {
        assert_eq!(
            status(&report, id),
            Status::Ok,
            "{id}: {:?}",
            report.check(id)
        );
    }
    // The code still asks torch before choosing CUDA: doctor points at the patch.
    let code = report.check("code.device_selection").unwrap();
    assert_eq!(code.status, Status::Warn, "{code:?}");
    assert_eq!(code.fix.as_deref(), Some("sadfix patch --force-gpu"));
    assert!(report.gpu_source.starts_with("replay: "));
    assert!(report
        .check("cuda.available")
        .unwrap()
        .summary
        .contains("NVIDIA Fake GPU"));
}

#[test]
fn cpu_only_torch_on_a_gpu_machine_fails_with_the_matching_reinstall() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let mut cmd = doctor(&root.join("SadTalker"), "cpu-only", "packages-pinned");
    cmd.env("SADFIX_GPU_REPLAY", gpu("rtx3090-driver-550.json"));
    let report = json_report(&mut cmd, 1);
    let build = report.check("torch.build").unwrap();
    assert_eq!(build.status, Status::Fail);
    let fix = build.fix.as_deref().unwrap();
    assert!(fix.ends_with("-m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu124"), "{fix}");
    assert_eq!(status(&report, "cuda.available"), Status::Fail);
}

#[test]
fn a_build_newer_than_the_driver_is_named_from_torchs_warning() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let report = json_report(
        &mut doctor(
            &root.join("SadTalker"),
            "newer-than-driver",
            "packages-pinned",
        ),
        1,
    );
    let driver = report.check("gpu.driver").unwrap();
    assert_eq!(driver.status, Status::Fail);
    assert!(
        driver.summary.contains("CUDA 12.1") && driver.summary.contains("CUDA 11.4"),
        "{}",
        driver.summary
    );
    assert_eq!(status(&report, "cuda.available"), Status::Fail);
}

#[test]
fn a_hang_that_ignores_sigterm_ends_at_the_deadline_and_leaves_no_process() {
    let (tmp, root) = copy_fixture("doctor/healthy");
    let pid_file = tmp.path().join("pids");
    let mut cmd = doctor(&root.join("SadTalker"), "hang", "packages-pinned");
    cmd.env("FAKE_TORCH_PID_FILE", &pid_file)
        .args(["--timeout", "2"]);
    let started = Instant::now();
    let report = json_report(&mut cmd, 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let cuda = report.check("cuda.available").unwrap();
    assert_eq!(cuda.status, Status::Timeout);
    assert!(
        cuda.evidence.iter().any(|e| e.contains("SIGKILL")),
        "{cuda:?}"
    );
    assert_eq!(
        status(&report, "torch.build"),
        Status::Ok,
        "facts still come from torch/version.py"
    );
    let pids: Vec<u32> = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "the probe and its helper");
    for pid in pids {
        assert!(gone_soon(pid), "process {pid} is still running");
    }
}

/// Whether `pid` has exited (or is a zombie waiting for init) within a second.
fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) if Instant::now() > deadline => return false,
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn a_crash_garbage_and_an_import_error_become_findings_with_stderr() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let install = root.join("SadTalker");
    let crash = json_report(&mut doctor(&install, "crash", "packages-pinned"), 1);
    let cuda = crash.check("cuda.available").unwrap();
    assert_eq!(cuda.status, Status::Fail);
    assert!(cuda.summary.contains("SIGABRT"), "{}", cuda.summary);
    assert!(cuda
        .evidence
        .iter()
        .any(|e| e.contains("simulated driver crash")));

    let garbage = json_report(&mut doctor(&install, "garbage", "packages-pinned"), 1);
    assert!(garbage
        .check("cuda.available")
        .unwrap()
        .summary
        .contains("printed no result"));

    let import = json_report(&mut doctor(&install, "import-error", "packages-pinned"), 1);
    let build = import.check("torch.build").unwrap();
    assert_eq!(build.status, Status::Fail);
    assert!(build.summary.contains("libcudnn.so.8"), "{}", build.summary);
    assert!(build.evidence.iter().any(|e| e.starts_with("ImportError")));
    assert_eq!(status(&import, "cuda.available"), Status::Skip);
}

#[test]
fn a_drifted_environment_and_damaged_weights_fail_with_fixes_in_the_table() {
    let (_tmp, root) = copy_fixture("doctor/broken");
    let mut cmd = doctor(&root.join("SadTalker"), "cuda", "packages-drifted");
    cmd.env("PATH", "/nonexistent");
    let out = cmd.assert().code(1).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    let line_of = |id: &str| {
        text.lines()
            .find(|l| l.contains(id))
            .unwrap_or("")
            .to_string()
    };
    assert!(line_of("packages.numpy").contains("FAIL"), "{text}");
    assert!(line_of("packages.basicsr").contains("FAIL"), "{text}");
    assert!(line_of(" ffmpeg ").contains("FAIL"), "{text}");
    for expected in [
        "fix: sadfix patch --compat --site-packages --python",
        "checkpoints/SadTalker_V0.0.2_256.safetensors: truncated",
        "checkpoints/mapping_00109-model.pth.tar: zero bytes",
        "apt-get install -y ffmpeg",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "NO_COLOR is set");
}

#[test]
fn no_install_exits_3_and_a_bad_timeout_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sadfix(tmp.path())
        .args(["doctor", "--root"])
        .arg(tmp.path())
        .assert()
        .code(3)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("no SadTalker install found"));
    let (_tmp, root) = copy_fixture("doctor/healthy");
    sadfix(&root.join("SadTalker"))
        .args(["doctor", "--timeout", "0"])
        .assert()
        .code(2);
}

#[test]
fn the_installs_own_venv_is_found_and_a_relative_python_is_taken_from_here() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let install = root.join("SadTalker");
    std::fs::create_dir_all(install.join("venv/bin")).unwrap();
    std::os::unix::fs::symlink(python(), install.join("venv/bin/python")).unwrap();

    let mut from_inside = with_fake_torch(&install.join("src"), "cuda", "packages-pinned");
    from_inside.arg("doctor");
    let report = json_report(&mut from_inside, 0);
    let chosen = report.python.expect("a python was chosen");
    assert_eq!(chosen.source, "install_venv");
    assert_eq!(chosen.path, install.join("venv/bin/python"));

    // The probes run from the install root; a relative --python still means from here.
    let mut from_above = with_fake_torch(&root, "cuda", "packages-pinned");
    from_above.args([
        "doctor",
        "--root",
        "SadTalker",
        "--python",
        "SadTalker/venv/bin/python",
    ]);
    let report = json_report(&mut from_above, 0);
    let check = report.check("python.interpreter").unwrap();
    assert_eq!(check.status, Status::Ok, "{check:?}");
}

#[test]
fn sadfix_installed_in_a_venv_diagnoses_that_venvs_python_and_an_activated_one_does_not_win() {
    let (tmp, root) = copy_fixture("doctor/healthy");
    let install = root.join("SadTalker");
    // A real venv, as `python3 -m venv v && v/bin/pip install sadfix` leaves it.
    let venv = tmp.path().join("v");
    let made = StdCommand::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success(), "python3 -m venv failed");
    let exe = venv.join("bin/sadfix");
    let built = assert_cmd::cargo::cargo_bin("sadfix");
    std::fs::hard_link(&built, &exe).unwrap_or_else(|_| {
        std::fs::copy(&built, &exe).unwrap();
    });
    let other = tmp.path().join("other-venv");
    let run = |virtual_env: Option<&Path>| {
        let mut cmd = assert_cmd::Command::new(&exe);
        cmd.current_dir(tmp.path())
            .env_clear()
            .envs(fake_torch::env("cuda", "packages-pinned"))
            .args(["doctor", "--root"])
            .arg(&install);
        if let Some(v) = virtual_env {
            cmd.env("VIRTUAL_ENV", v);
        }
        json_report(&mut cmd, 0)
            .python
            .expect("a python was chosen")
    };
    let chosen = run(None);
    assert_eq!(chosen.source, "sadfix_venv");
    assert_eq!(chosen.path, venv.join("bin/python"));
    assert!(chosen.reason.contains(&venv.display().to_string()));

    StdCommand::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&other)
        .status()
        .unwrap();
    assert_eq!(run(Some(&other)).source, "sadfix_venv");
}

#[test]
fn after_sadfix_patch_the_device_selection_reads_as_forced() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let install = root.join("SadTalker");
    sadfix(&install)
        .args(["patch", "--force-gpu", "--batch-size", "4"])
        .assert()
        .code(0);
    let mut cmd = doctor(&install, "cuda", "packages-pinned");
    cmd.env(
        "SADFIX_GPU_REPLAY",
        fixtures().join("doctor/gpu/rtx3090-driver-550.json"),
    );
    let report = json_report(&mut cmd, 0);
    let code = report.check("code.device_selection").unwrap();
    assert_eq!(code.status, Status::Ok, "{code:?}");
    assert!(code.fix.is_none());
    let batch = report.check("code.batch_size").unwrap();
    assert!(batch.summary.contains('4'), "{batch:?}");
}

/// What `sh` makes of `command`: its words, one per line.
fn shell_words(command: &str) -> Vec<String> {
    let out = StdCommand::new("sh")
        .arg("-c")
        .arg(format!("set -- {command}; printf '%s\\n' \"$@\""))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn fix_commands_run_as_printed_from_outside_an_install_whose_path_has_a_space() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("My Installs/SadTalker");
    util::copy_tree(&fixtures().join("doctor/healthy/SadTalker"), &root);
    std::fs::remove_file(root.join("gfpgan/weights/GFPGANv1.4.pth")).unwrap();
    // A clone has upstream's download script; the fix is a command only where it exists.
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::write(root.join("scripts/download_models.sh"), "").unwrap();
    let python_dir = tmp.path().join("My Python");
    std::fs::create_dir_all(&python_dir).unwrap();
    let python_link = python_dir.join("python3");
    std::os::unix::fs::symlink(python(), &python_link).unwrap();

    let mut cmd = with_fake_torch(tmp.path(), "cpu-only", "packages-pinned");
    cmd.env("SADFIX_GPU_REPLAY", gpu("rtx3090-driver-550.json"))
        .arg("--root")
        .arg(&root)
        .arg("doctor")
        .arg("--python")
        .arg(&python_link);
    let report = json_report(&mut cmd, 1);

    // The reinstall command names the interpreter as one word.
    let reinstall = report.check("torch.build").unwrap().fix.clone().unwrap();
    assert_eq!(
        shell_words(&reinstall)[0],
        python_link.display().to_string()
    );

    // `cd` into the install keeps its path one word.
    let download = report.check("weights.gfpgan").unwrap().fix.clone().unwrap();
    assert!(
        download.starts_with(&format!("cd '{}' && ", root.display())),
        "{download}"
    );

    // The patch command finds the install from here, and works.
    let batch = report
        .check("code.batch_size")
        .unwrap()
        .fix
        .clone()
        .unwrap();
    let words = shell_words(&batch);
    assert_eq!(
        words[..4],
        ["sadfix", "patch", "--root", &root.display().to_string()]
    );
    let bin = assert_cmd::cargo::cargo_bin("sadfix");
    let out = StdCommand::new("sh")
        .arg("-c")
        .arg(format!("{batch} --dry-run"))
        .current_dir(tmp.path())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin.parent().unwrap().display()),
        )
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("default=4"));
}

#[test]
fn a_cuda_build_without_a_driver_fails_with_torchs_reason_and_the_fix() {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let report = json_report(
        &mut doctor(&root.join("SadTalker"), "no-driver", "packages-pinned"),
        1,
    );
    assert_eq!(status(&report, "torch.build"), Status::Ok);
    let cuda = report.check("cuda.available").unwrap();
    assert_eq!(cuda.status, Status::Fail, "{cuda:?}");
    assert!(
        cuda.summary
            .starts_with("CUDA is unavailable: no NVIDIA driver"),
        "{}",
        cuda.summary
    );
    assert_eq!(
        cuda.evidence[0],
        "torch.cuda.init(): RuntimeError: Found no NVIDIA driver on your system. Please check \
         that you have an NVIDIA GPU and installed a driver from \
         http://www.nvidia.com/Download/index.aspx"
    );
    // In a container (as CI runs) the host must pass the GPU in; on bare Linux, the driver.
    let fix = cuda.fix.as_deref().unwrap();
    if cuda.evidence.iter().any(|e| e.starts_with("container: ")) {
        assert!(
            fix.contains("`--gpus all`") && !fix.contains("..."),
            "{fix}"
        );
    } else {
        assert!(fix.contains("reboot") || fix.contains("--cpu"), "{fix}");
    }
}

/// The drifted package set with torchvision `version` and, when `shim`, the one-line
/// `functional_tensor` module users add back; returns the directory to put on PYTHONPATH.
fn torchvision_set(tmp: &Path, version: &str, shim: bool) -> PathBuf {
    let set = tmp.join("packages");
    util::copy_tree(&fixtures().join("fake_torch/packages-drifted"), &set);
    std::fs::remove_dir_all(set.join("torchvision-0.17.1.dist-info")).unwrap();
    let info = set.join(format!("torchvision-{version}.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: torchvision\nVersion: {version}\nSummary: TEST DOUBLE\n"
        ),
    )
    .unwrap();
    if shim {
        std::fs::write(
            set.join("torchvision/transforms/functional_tensor.py"),
            "from torchvision.transforms._functional_tensor import *  # noqa\n",
        )
        .unwrap();
    }
    set
}

fn basicsr_check(shim: bool) -> sadfix::doctor::check::Check {
    let (_tmp, root) = copy_fixture("doctor/healthy");
    let set = torchvision_set(_tmp.path(), "0.29.2", shim);
    let mut cmd = doctor(&root.join("SadTalker"), "cuda", "packages-pinned");
    cmd.env(
        "PYTHONPATH",
        format!(
            "{}:{}",
            fixtures().join("fake_torch").display(),
            set.display()
        ),
    );
    let report = json_report(&mut cmd, 1);
    report.check("packages.basicsr").unwrap().clone()
}

#[test]
fn basicsr_is_judged_by_whether_the_module_it_imports_is_there_not_by_version() {
    let provided = basicsr_check(true);
    assert_eq!(provided.status, Status::Ok, "{provided:?}");
    assert!(provided.summary.contains("import works"), "{provided:?}");
    let missing = basicsr_check(false);
    assert_eq!(missing.status, Status::Fail, "{missing:?}");
    assert!(missing.summary.contains("0.29.2"), "{missing:?}");
}
