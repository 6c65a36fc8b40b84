//! The stub `libnvidia-ml.so.1` of fixtures/nvml-stub (a test double), built once per test
//! binary with the system C compiler, and the environment that makes a child load it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Which driver the stub plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Every entry point sadfix calls.
    Current,
    /// A driver older than R510: no `*_v3` process-list entry points.
    R470,
}

/// The directory holding the built `libnvidia-ml.so.1`, for `LD_LIBRARY_PATH`.
pub fn dir(variant: Variant) -> PathBuf {
    static CURRENT: OnceLock<PathBuf> = OnceLock::new();
    static R470: OnceLock<PathBuf> = OnceLock::new();
    let cell = match variant {
        Variant::Current => &CURRENT,
        Variant::R470 => &R470,
    };
    cell.get_or_init(|| build(variant)).clone()
}

fn build(variant: Variant) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nvml-stub/nvml_stub.c");
    let name = match variant {
        Variant::Current => "current",
        Variant::R470 => "r470",
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("nvml-stub")
        .join(name);
    std::fs::create_dir_all(&dir).expect("stub directory");
    // Built under a name of its own, then renamed: test binaries build it at the same time.
    let partial = dir.join(format!("libnvidia-ml.so.1.{}.tmp", std::process::id()));
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cc.args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
        .arg(&partial)
        .arg(&source);
    if variant == Variant::R470 {
        cc.arg("-DSTUB_R470");
    }
    let out = cc.output().expect("the system C compiler (cc) runs");
    assert!(
        out.status.success(),
        "cc failed on {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&partial, dir.join("libnvidia-ml.so.1")).expect("install the stub");
    dir
}

/// Environment for a child that must load the stub: its directory first on the loader path,
/// and every scripted answer unset unless the test sets it.
pub fn env(variant: Variant) -> Vec<(String, String)> {
    vec![(
        "LD_LIBRARY_PATH".to_string(),
        dir(variant).display().to_string(),
    )]
}
