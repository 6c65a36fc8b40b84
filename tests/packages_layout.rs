//! The site directories and versions sadfix reads from an interpreter's layout equal what the
//! interpreter itself reports (`sys.path`, `importlib.metadata.version`), for the machine's real
//! interpreters: `python3` on PATH (through a pyenv shim where there is one) and /usr/bin/python3.

use sadfix::install::packages::{sys_path, versions, PACKAGES};
use std::path::{Path, PathBuf};
use std::process::Command;

const ASK: &str = r#"
import json, sys
from importlib import metadata
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
print(json.dumps({"path": sys.path, "versions": {n: version(n) for n in sys.argv[1:]}}))
"#;

fn check(python: &Path) {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .arg("-c")
        .arg(ASK)
        .args(PACKAGES)
        .current_dir(cwd.path())
        .env_remove("PYTHONPATH")
        .output()
        .expect("the interpreter runs");
    let told: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let env = |k: &str| match k {
        "PYTHONPATH" => None,
        _ => std::env::var(k).ok(),
    };
    let read = sys_path(python, cwd.path(), &env).expect("the layout is readable");
    let site = |p: &Path| {
        let s = p.to_string_lossy();
        s.contains("site-packages") || s.contains("dist-packages")
    };
    let told_sites: Vec<PathBuf> = told["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PathBuf::from(p.as_str().unwrap()))
        .filter(|p| site(p))
        .collect();
    let read_sites: Vec<PathBuf> = read.dirs.iter().filter(|p| site(p)).cloned().collect();
    assert_eq!(
        read_sites,
        told_sites,
        "site directories of {}",
        python.display()
    );
    let got = versions(&read.dirs, PACKAGES);
    for name in PACKAGES {
        let want = told["versions"][name].as_str();
        assert_eq!(
            got[*name].as_deref(),
            want,
            "{name} for {}",
            python.display()
        );
    }
}

#[test]
fn the_layout_of_the_machines_interpreters_reads_as_they_report_themselves() {
    let real = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    let real = PathBuf::from(String::from_utf8(real.stdout).unwrap().trim());
    check(&real);
    if Path::new("/usr/bin/python3").is_file() {
        check(Path::new("/usr/bin/python3"));
    }
}

/// A venv made by the interpreter itself, alone and with the system's site packages.
#[test]
fn venvs_read_as_they_report_themselves() {
    let bases: Vec<PathBuf> = ["/usr/bin/python3"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    for base in bases {
        for system in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let venv = dir.path().join("venv");
            let mut cmd = Command::new(&base);
            cmd.args(["-m", "venv", "--without-pip"]);
            if system {
                cmd.arg("--system-site-packages");
            }
            let made = cmd.arg(&venv).output().expect("python -m venv runs");
            if !made.status.success() {
                // No venv module (Debian without python3-venv): nothing to compare.
                eprintln!(
                    "{}: no venv: {}",
                    base.display(),
                    String::from_utf8_lossy(&made.stderr)
                );
                continue;
            }
            check(&venv.join("bin/python"));
        }
    }
}
