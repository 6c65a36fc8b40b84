//! Checking a patched text before anything is written: it must parse without ERROR or MISSING
//! nodes, and, when `python3` is on PATH, compile (`py_compile` on temp copies, bounded).

use super::error::PatchError;
use super::source::Source;
use crate::process::{run_bounded, DEFAULT_GRACE};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long the compile check may take for all files together.
const COMPILE_DEADLINE: Duration = Duration::from_secs(60);

const COMPILE_SCRIPT: &str = r#"
import py_compile, sys
bad = 0
for path in sys.argv[1:]:
    try:
        py_compile.compile(path, cfile=path + "c", doraise=True)
    except py_compile.PyCompileError as e:
        print(path + "\t" + " ".join(str(e.msg).split()))
        bad = 1
sys.exit(bad)
"#;

/// Whether the compile check ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    Yes,
    /// No `python3` on PATH: only the syntax tree was checked.
    NoPython,
}

/// The patched `text` of `file` parses cleanly.
pub fn parses(file: &Path, result: &Source) -> Result<(), PatchError> {
    match result.syntax_error() {
        None => Ok(()),
        Some(at) => Err(PatchError::BadResult {
            file: file.to_path_buf(),
            reason: format!("syntax error at line {}, column {}", at.line, at.column),
        }),
    }
}

/// Compile every `(relative path, bytes)` with `python3 -m py_compile` semantics, on copies in a
/// temp directory. The first failure is returned, naming the file and Python's message.
pub fn compiles(files: &[(PathBuf, Vec<u8>)]) -> Result<Compiled, PatchError> {
    let Some(python) = crate::install::on_path("python3") else {
        return Ok(Compiled::NoPython);
    };
    if files.is_empty() {
        return Ok(Compiled::Yes);
    }
    let dir = tempfile::tempdir().map_err(|e| PatchError::io(std::env::temp_dir(), e))?;
    let mut copies = Vec::new();
    for (i, (_, bytes)) in files.iter().enumerate() {
        let copy = dir.path().join(format!("f{i}.py"));
        std::fs::write(&copy, bytes).map_err(|e| PatchError::io(&copy, e))?;
        copies.push(copy);
    }
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(COMPILE_SCRIPT).args(&copies);
    let done = run_bounded(cmd, COMPILE_DEADLINE, DEFAULT_GRACE)
        .map_err(|e| PatchError::io("python3", e))?;
    if done.success() {
        return Ok(Compiled::Yes);
    }
    let out = String::from_utf8_lossy(&done.stdout);
    for line in out.lines() {
        if let Some((copy, msg)) = line.split_once('\t') {
            if let Some(i) = copies.iter().position(|c| c.to_string_lossy() == copy) {
                let msg = msg.replace(copy, &files[i].0.display().to_string());
                return Err(PatchError::BadResult {
                    file: files[i].0.clone(),
                    reason: format!("python3 -m py_compile: {msg}"),
                });
            }
        }
    }
    Err(PatchError::BadResult {
        file: files[0].0.clone(),
        reason: format!(
            "python3 -m py_compile failed: {}",
            if done.timed_out() {
                "timed out".to_string()
            } else {
                done.stderr_tail(3)
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compile_error_names_the_file() {
        let good = (PathBuf::from("a.py"), b"x = 1\n".to_vec());
        // Parses for tree-sitter, but Python rejects it (`return` outside a function).
        let bad = (PathBuf::from("src/b.py"), b"return 1\n".to_vec());
        match compiles(&[good.clone(), bad]) {
            Ok(Compiled::NoPython) => {}
            Err(PatchError::BadResult { file, .. }) => assert_eq!(file, PathBuf::from("src/b.py")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            compiles(&[good]),
            Ok(Compiled::Yes | Compiled::NoPython)
        ));
    }
}
