//! Shared helpers for the CLI tests: per-test temporary copies of fixtures and the binary.
#![allow(dead_code)]

pub mod fake_torch;
pub mod prom;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh temporary copy of `fixtures/<rel>`; the copy lives as long as the returned guard.
pub fn copy_fixture(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let src = fixtures().join(rel);
    let name = src.file_name().expect("fixture has a name");
    let dest = tmp.path().join(name);
    copy_tree(&src, &dest);
    (tmp, dest)
}

/// Copy a directory tree, keeping file modes.
pub fn copy_tree(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("create dir");
    for entry in std::fs::read_dir(src).expect("read fixture dir").flatten() {
        let to = dest.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy fixture file");
        }
    }
}

/// The `sadfix` binary, run from `cwd` with a clean colour setting.
pub fn sadfix(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sadfix").expect("binary built");
    cmd.current_dir(cwd).env("NO_COLOR", "1");
    cmd
}

/// A 16 kHz mono 16-bit WAV of `seconds` at `path` (a quiet saw tone).
pub fn write_wav(path: &Path, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create the WAV");
    for i in 0..16_000 * seconds {
        w.write_sample(((i % 160) as i16 - 80) * 100)
            .expect("write a sample");
    }
    w.finalize().expect("finish the WAV");
}
