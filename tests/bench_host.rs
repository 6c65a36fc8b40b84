//! `sadfix bench --exec` and `--attach` on the host app fixture (`fixtures/host-app`), which runs
//! the simulated install by subprocess the ways hosts do: passed through, behind a logger's
//! prefix and colours, into a log file, captured whole, in a session of its own.

mod bench_json;
mod util;

use bench_json::{group_is_gone, Report, CLI_STAGES};
use sadfix::bench::census::marked;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use util::{copy_fixture, fixtures, sadfix};

const FAST: &str = "20";

fn host_py() -> PathBuf {
    fixtures().join("host-app/host.py")
}

/// `sadfix bench [flags] --exec -- python3 host.py --style STYLE [host args]`, run in `dir`.
fn exec(dir: &Path, flags: &[&str], style: &str, host_args: &[&str]) -> (i32, Report, String) {
    let json = dir.join(format!("{style}.json"));
    let out = sadfix(dir)
        .env("SADTALKER_SIM_SPEED", FAST)
        .env_remove("SADTALKER_SIM_FAIL")
        .args(["bench", "--json"])
        .arg(&json)
        .args(flags)
        .args(["--exec", "--", "python3"])
        .arg(host_py())
        .args(["--style", style])
        .args(host_args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (out.status.code().unwrap(), Report::read(&json), stdout)
}

/// The stage names and bar totals, the part of the table that must match a direct bench.
fn table(report: &Report) -> Vec<(String, Option<u64>)> {
    report
        .stages
        .iter()
        .map(|s| (s.name.clone(), s.total))
        .collect()
}

fn direct_bench_table() -> Vec<(String, Option<u64>)> {
    let (tmp, install) = copy_fixture("sim-install");
    let json = tmp.path().join("direct.json");
    sadfix(&install)
        .env("SADTALKER_SIM_SPEED", FAST)
        .args(["bench", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    table(&Report::read(&json))
}

#[test]
fn passed_through_prefixed_and_new_session_hosts_show_the_direct_stage_table() {
    let direct = direct_bench_table();
    assert_eq!(
        direct.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        CLI_STAGES
    );
    let tmp = tempfile::tempdir().unwrap();
    for (style, args) in [
        ("passthrough", &[][..]),
        // A logger's timestamp and coloured level name before every line, and a 3 MB base64
        // payload on one line at the end.
        ("logger", &["--colour", "--payload-mb", "3"][..]),
        ("setsid", &[][..]),
    ] {
        let (code, report, stdout) = exec(tmp.path(), &[], style, args);
        assert!(code == 0 || code == 1, "{style}: exit {code}\n{stdout}");
        assert_eq!(table(&report), direct, "{style}:\n{stdout}");
        assert!(report.simulated, "{style}");
        assert_eq!(report.batch_size_inferred, Some(2), "{style}");
        assert_eq!(
            report.audio_s,
            Some(2.0),
            "{style}: audio from SadTalker's command line"
        );
        assert_eq!(report.verdict("output.video").status, "pass", "{style}");
        let host = report.host.as_ref().expect("a host section");
        assert!(host.stages_seen && host.stages_note.is_none(), "{style}");
        let child = host
            .sadtalker
            .as_ref()
            .expect("the SadTalker child was seen");
        assert_eq!(child.batch_size, 2, "{style}: SadTalker's default");
        assert!(child.last_seen_s > child.first_seen_s, "{style}");
        assert!(stdout.contains("SadTalker child: pid"), "{style}: {stdout}");
    }
}

#[test]
fn a_host_that_writes_a_log_gives_its_stages_with_log_and_says_so_without() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, report, stdout) = exec(tmp.path(), &["--log", "host-logs/*.log"], "logfile", &[]);
    assert_eq!(report.stage_names(), CLI_STAGES, "{stdout}");
    assert_eq!(report.stage("face_renderer").total, Some(25));
    let host = report.host.as_ref().unwrap();
    assert_eq!(host.logs_followed.len(), 1);
    assert!(host.logs_followed[0].ends_with("host-logs/worker.log"));

    // Without --log: nothing of SadTalker reached sadfix; the report says where it went.
    let (code, report, stdout) = exec(tmp.path(), &[], "logfile", &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(report.stages.is_empty(), "{stdout}");
    let note = report.host.as_ref().unwrap().stages_note.clone().unwrap();
    assert!(
        note.contains("host-logs/worker.log; follow it with --log"),
        "{note}"
    );
    assert!(stdout.contains("stages: none seen."), "{stdout}");
    assert_eq!(report.verdict("output.video").status, "skip");
}

#[test]
fn a_host_that_captures_the_output_still_names_the_sadtalker_child() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, report, stdout) = exec(
        tmp.path(),
        &[],
        "captured",
        &["--", "--batch_size", "4", "--size", "512"],
    );
    assert!(report.stages.is_empty(), "{stdout}");
    let host = report.host.as_ref().unwrap();
    assert!(!host.stages_seen);
    assert!(
        host.stages_note
            .as_deref()
            .unwrap()
            .contains("the host captures SadTalker's output"),
        "{:?}",
        host.stages_note
    );
    let child = host.sadtalker.as_ref().unwrap();
    assert_eq!((child.batch_size, child.size), (4, Some(512)));
    assert!(child.argv.iter().any(|a| a.ends_with("inference.py")));
    // The whole-run figures are there all the same.
    let overall = report.overall.as_ref().unwrap();
    assert!(overall.cpu_mean.is_some() && overall.rss_peak_mb.is_some());
    assert!(stdout.contains("batch size 4, size 512"), "{stdout}");
}

#[test]
fn markers_re_printed_after_the_end_are_not_taken_for_stage_times() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, report, stdout) = exec(tmp.path(), &[], "captured", &["--reprint"]);
    assert!(report.stages.is_empty(), "{stdout}");
    let note = report.host.as_ref().unwrap().stages_note.clone().unwrap();
    assert!(note.contains("printed it afterwards"), "{note}");
}

#[test]
fn a_hang_in_a_new_session_is_ended_at_the_deadline_with_nothing_left() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("hang.json");
    let started = Instant::now();
    let out = sadfix(tmp.path())
        .env("SADTALKER_SIM_SPEED", FAST)
        .env("SADTALKER_SIM_FAIL", "hang")
        .args(["bench", "--timeout", "4", "--json"])
        .arg(&json)
        .args(["--exec", "--", "python3"])
        .arg(host_py())
        .args(["--style", "setsid"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(5));
    let report = Report::read(&json);
    assert_eq!(report.run.ending.kind, "timed_out");
    let id = report.host.as_ref().unwrap().run_id.clone().unwrap();
    // The simulated SadTalker was in a session of its own, and ignores SIGTERM: the marker
    // found it all the same.
    let left = marked(&id);
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(group_is_gone(report.run.child_pid.unwrap()));
}

#[test]
fn attach_watches_a_running_generation_and_leaves_it_running() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("server.log");
    // A "server" sadfix did not start: the simulated install at a quarter of the test speed.
    let mut server = std::process::Command::new("python3")
        .arg(host_py())
        .args(["--style", "logfile", "--log-file"])
        .arg(&log)
        .current_dir(tmp.path())
        .env("SADTALKER_SIM_SPEED", "5")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let json = tmp.path().join("attach.json");
    let out = sadfix(tmp.path())
        .args(["bench", "--attach"])
        .arg(server.id().to_string())
        .args(["--duration", "2", "--log"])
        .arg(&log)
        .args(["--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    // Still running after sadfix is done with it: nothing was signalled.
    let still_running = server.try_wait().unwrap().is_none();
    let report = Report::read(&json);
    assert!(still_running, "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(report.run.ending.kind, "detached");
    assert_eq!(
        report.host.as_ref().unwrap().kind.as_deref(),
        Some("attach")
    );
    // The log was created after sadfix attached; its lines gave the first stages.
    let names = report.stage_names();
    assert!(
        names.len() >= 2 && names[0] == "load",
        "{names:?}\n{stdout}"
    );
    let overall = report.overall.as_ref().unwrap();
    assert!(
        overall.samples > 0 && overall.cpu_mean.is_some(),
        "the server's tree was sampled"
    );
    assert!(
        server.wait().unwrap().success(),
        "the generation ran to its end"
    );
}

#[test]
fn a_missing_program_or_process_says_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sadfix(tmp.path())
        .args(["bench", "--exec", "--", "no-such-program-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without a shell: give the program's path"),
        "{err}"
    );
    // Not a pid that can exist (above the kernel's pid_max).
    let out = sadfix(tmp.path())
        .args(["bench", "--attach", "4294967"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--attach 4294967: no such process"), "{err}");
}
