//! `sadfix completions` and `sadfix man` against the clap definition itself: every subcommand and
//! every flag it has now (including ones added later) must be completed by bash and rendered by
//! man.

use clap::CommandFactory;
use sadfix::cli::Cli;
use std::io::Write;
use std::process::{Command, Stdio};

/// Every visible subcommand with its long flags (global ones included).
fn definition() -> Vec<(String, Vec<String>)> {
    let mut cmd = Cli::command();
    cmd.build();
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| {
            let flags = s
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            (s.get_name().to_owned(), flags)
        })
        .collect()
}

fn sadfix(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sadfix"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "sadfix {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What bash's completion of `sadfix WORDS... ''` offers, using the script as a user sources it.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let words: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = format!(
        "source '{}'; COMP_WORDS=(sadfix {} ''); COMP_CWORD={}; _sadfix sadfix '' x; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        words.len() + 1
    );
    let out = Command::new("bash").args(["-c", &line]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_bash_script_parses_and_completes_every_subcommand_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sadfix.bash");
    std::fs::write(&script, sadfix(&["completions", "bash"])).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(check.success(), "bash -n rejects the script");

    let commands = definition();
    assert!(commands.len() >= 6, "{commands:?}");
    let top = bash_completes(&script, &[]);
    for (name, flags) in &commands {
        assert!(top.contains(name), "`sadfix <TAB>` misses {name}: {top:?}");
        let offered = bash_completes(&script, &[name, "--"]);
        for flag in flags {
            assert!(
                offered.contains(flag),
                "`sadfix {name} --<TAB>` misses {flag}"
            );
        }
    }
    let shells = bash_completes(&script, &["completions"]);
    assert!(shells.contains(&"powershell".to_owned()), "{shells:?}");
}

#[test]
fn every_other_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = sadfix(&["completions", shell]);
        for (name, _) in definition() {
            assert!(script.contains(&name), "{shell} script misses {name}");
        }
        // Syntax-checked where the shell is installed (the CI step installs zsh and fish).
        if !["zsh", "fish"].contains(&shell) {
            continue;
        }
        if !have(shell) {
            eprintln!("{shell} is not installed: syntax not checked");
            continue;
        }
        let mut child = Command::new(shell)
            .arg("-n")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "{shell} -n rejects the script"
        );
    }
}

#[test]
fn the_man_page_documents_every_subcommand_and_flag() {
    let page = sadfix(&["man"]);
    assert!(page.contains(".TH sadfix 1"), "not a section 1 page");
    for (name, flags) in definition() {
        let heading = format!(".SS \"sadfix {name}\"");
        let start = page
            .find(&heading)
            .unwrap_or_else(|| panic!("no {heading}"));
        let section = &page[start..];
        let section = &section[..section[1..].find(".SS ").map_or(section.len(), |i| i + 1)];
        for flag in flags
            .iter()
            .filter(|f| !["--root", "--color", "--quiet"].contains(&f.as_str()))
        {
            let roff = flag.replace('-', "\\-");
            assert!(section.contains(&roff), "{heading} misses {flag}");
        }
    }
    for global in ["--root", "--color", "--quiet"] {
        assert!(page.contains(&global.replace('-', "\\-")), "no {global}");
    }
}

#[test]
fn man_renders_the_page() {
    if !have("man") {
        eprintln!("man is not installed: rendering not checked (the CI step installs man-db)");
        return;
    }
    let mut child = Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sadfix(&["man"]).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains(".SH") && !text.contains("\\fB"),
        "roff left unrendered"
    );
    for needle in [
        "NAME",
        "COMMANDS",
        "sadfix doctor",
        "--force-gpu",
        "--replay",
    ] {
        assert!(
            text.contains(needle),
            "rendered page has no {needle}:\n{text}"
        );
    }
}
