//! `--color` and `--quiet` as a user sees them: on a real pseudo-terminal (so `auto` has a
//! terminal to find), through a pipe, and with `NO_COLOR`; tables, diffs, the live progress line
//! and clap's own help.

mod util;

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use util::{copy_fixture, fixtures};

const ESC: char = '\u{1b}';

/// `sadfix ARGS` from `cwd`, `NO_COLOR` unset.
fn sadfix(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sadfix"));
    cmd.current_dir(cwd).args(args).env_remove("NO_COLOR");
    cmd
}

/// Run `cmd` with stdout and stderr on a new 120x40 pseudo-terminal; all it wrote there.
fn on_terminal(mut cmd: Command) -> String {
    // SAFETY: plain libc calls on a descriptor this function owns; `name` is NUL-terminated by
    // ptsname_r on success, checked before use.
    let (master, slave_path) = unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "no pseudo-terminal");
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        assert_eq!(libc::ioctl(fd, libc::TIOCSWINSZ, &size), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
        let path = CStr::from_ptr(name.as_ptr()).to_str().unwrap().to_owned();
        (File::from_raw_fd(fd), path)
    };
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_path)
        .expect("open the terminal's other end");
    cmd.stdin(Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = cmd.spawn().expect("sadfix starts");
    // The parent's copies of the terminal end must close, or the read below never ends.
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let (mut master, mut all, mut chunk) = (master, Vec::new(), [0u8; 4096]);
        // EIO, not 0, is how a pseudo-terminal says its last writer closed.
        while let Ok(n @ 1..) = master.read(&mut chunk) {
            all.extend_from_slice(&chunk[..n]);
        }
        all
    });
    child.wait().expect("sadfix ends");
    String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
}

/// The standalone fixture install, copied, with its patch shown as a diff.
fn dry_run(install: &Path, flags: &[&str]) -> Command {
    let mut args = vec!["patch", "--force-gpu", "--dry-run"];
    args.extend_from_slice(flags);
    sadfix(install, &args)
}

#[test]
fn never_leaves_no_escape_code_on_a_terminal_where_auto_colours() {
    let (_tmp, install) = copy_fixture("installs/standalone");
    let auto = on_terminal(dry_run(&install, &[]));
    assert!(
        auto.contains("\x1b[32m+"),
        "auto on a terminal colours the diff:\n{auto}"
    );
    let never = on_terminal(dry_run(&install, &["--color", "never"]));
    assert!(
        !never.contains(ESC),
        "escape codes with --color never:\n{never:?}"
    );
    assert!(
        never.contains("+++ b/"),
        "the diff is still there:\n{never}"
    );

    let doctor = |flags: &[&str]| {
        let mut args = vec!["doctor", "--python", "/nonexistent/python3"];
        args.extend_from_slice(flags);
        on_terminal(sadfix(&install, &args))
    };
    assert!(doctor(&[]).contains(ESC), "auto colours the doctor table");
    let never = doctor(&["--color=never"]);
    assert!(
        !never.contains(ESC) && never.contains("python.interpreter"),
        "{never:?}"
    );
}

#[test]
fn bench_verdicts_are_coloured_on_a_terminal_and_plain_with_never() {
    let replay = |flags: &[&str]| {
        let mut args = vec!["bench", "--replay", "traces/cpu-fallback"];
        args.extend_from_slice(flags);
        on_terminal(sadfix(&fixtures(), &args))
    };
    let auto = replay(&[]);
    assert!(
        auto.contains("\x1b[38;5;9m\x1b[1m FAIL"),
        "bold red: {auto:?}"
    );
    let never = replay(&["--color", "never"]);
    assert!(!never.contains(ESC) && never.contains("FAIL"), "{never:?}");
}

#[test]
fn no_color_turns_auto_off_but_not_always() {
    let (_tmp, install) = copy_fixture("installs/standalone");
    let mut cmd = dry_run(&install, &[]);
    cmd.env("NO_COLOR", "1");
    assert!(!on_terminal(cmd).contains(ESC));
    let mut cmd = dry_run(&install, &["--color", "always"]);
    cmd.env("NO_COLOR", "1");
    let piped = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&piped.stdout);
    assert!(text.contains("\x1b[31m-"), "always colours a pipe:\n{text}");
}

#[test]
fn help_follows_color_too() {
    let here = fixtures();
    assert!(on_terminal(sadfix(&here, &["--help"])).contains(ESC));
    let never = on_terminal(sadfix(&here, &["--color", "never", "patch", "--help"]));
    assert!(
        !never.contains(ESC) && never.contains("--force-gpu"),
        "{never:?}"
    );
}

#[test]
fn the_live_progress_line_obeys_color_and_quiet() {
    let bench = |flags: &[&str]| {
        let (_tmp, install) = copy_fixture("sim-install");
        let mut args = vec!["bench"];
        args.extend_from_slice(flags);
        let mut cmd = sadfix(&install, &args);
        cmd.env("SADTALKER_SIM_SPEED", "20")
            .env_remove("SADTALKER_SIM_FAIL")
            .env_remove("SADTALKER_SIM_CHILD");
        on_terminal(cmd)
    };
    let auto = bench(&[]);
    assert!(
        auto.contains("\x1b[2K") && auto.contains("· GPU"),
        "{auto:?}"
    );
    let never = bench(&["--color", "never"]);
    assert!(never.contains("· GPU n/a"), "the line is drawn: {never:?}");
    assert!(
        !never.contains(ESC),
        "escape codes with --color never: {never:?}"
    );
    let quiet = bench(&["--quiet", "--color", "never"]);
    assert!(
        !quiet.contains("· GPU"),
        "no progress line under --quiet: {quiet:?}"
    );
    assert!(
        !quiet.contains("sadfix bench: running"),
        "no start hint: {quiet:?}"
    );
    assert!(
        quiet.contains("Face Renderer"),
        "the report is still printed: {quiet:?}"
    );
}

#[test]
fn quiet_drops_hints_but_keeps_results_and_errors() {
    let (_tmp, install) = copy_fixture("installs/standalone");
    let loud = dry_run(&install, &[]).output().unwrap();
    let quiet = dry_run(&install, &["-q"]).output().unwrap();
    assert!(
        !loud.stderr.is_empty(),
        "the summary is on stderr without --quiet"
    );
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert_eq!(loud.stdout, quiet.stdout, "the diff itself is unchanged");
    assert_eq!(loud.status.code(), quiet.status.code());

    let missing = install.join("no-such-dir");
    let err = sadfix(&install, &["--quiet", "scan", "--root"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&err.stderr).contains("sadfix: error"));
}
