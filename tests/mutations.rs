//! Random input, seeded: every fixture case mutated (see `mutate/`) and run through the whole
//! pipeline. Properties: sadfix never panics; it never writes a file that does not parse (nor
//! produces one in memory); a second patch is a no-op; revert gives back the bytes. Failing
//! inputs are written to `target/mutations-failed/`; each one kept in `fixtures/mutated/` is
//! checked by `every_kept_case_holds`.
//!
//! `cargo test` runs a fixed small budget; `SADFIX_MUTATIONS=N` runs N rounds per fixture and
//! `SADFIX_MUTATION_SEED=S` another seed.

mod mutate;
mod util;

use mutate::{mutate, Rng, MUTATIONS};
use sadfix::install::locate;
use sadfix::patch::apply::commit;
use sadfix::patch::source::Source;
use sadfix::patch::{catalog, engine, plan, revert, PatchError, PatchOptions};
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Rounds per fixture in a plain `cargo test`: a few seconds on two cores.
const DEFAULT_ROUNDS: usize = 3;

const OPTIONS: [PatchOptions; 3] = [
    PatchOptions {
        force_gpu: true,
        batch_size: None,
        cuda_timeout: None,
        ..PatchOptions::NONE
    },
    PatchOptions {
        force_gpu: false,
        batch_size: None,
        cuda_timeout: Some(5),
        ..PatchOptions::NONE
    },
    PatchOptions {
        force_gpu: true,
        batch_size: Some(4),
        cuda_timeout: None,
        ..PatchOptions::NONE
    },
];

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(util::fixtures().join(dir))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "py"));
    files.sort();
    files
}

/// The in-memory properties: a rewrite re-parses, and rewriting the result changes nothing.
fn in_memory(bytes: &[u8], options: &PatchOptions) -> Result<(), String> {
    let Some(src) = Source::parse(bytes) else {
        return Ok(());
    };
    if src.syntax_error().is_some() {
        return Ok(()); // plan refuses such a file; checked on disk
    }
    let recipes = catalog::shipped().map_err(|e| e.to_string())?;
    let rel = Path::new("inference.py");
    let analysis = engine::analyze(recipes, &src, rel, options);
    let applied = engine::fix(&src, analysis.fixes);
    let fixed = src.reparse(applied.text);
    if let Some(at) = fixed.syntax_error() {
        return Err(format!("the rewrite does not parse at line {}", at.line));
    }
    let again = engine::fix(&fixed, engine::analyze(recipes, &fixed, rel, options).fixes);
    if again.text != fixed.text {
        return Err("a second rewrite changes it again".into());
    }
    Ok(())
}

/// The on-disk properties, through plan, commit, plan and revert.
fn on_disk(bytes: &[u8], options: &PatchOptions) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    fs::create_dir_all(tmp.path().join("src/utils")).unwrap();
    fs::write(tmp.path().join("src/utils/init_path.py"), "").unwrap();
    let file = tmp.path().join("inference.py");
    fs::write(&file, bytes).unwrap();
    let install = locate(Some(tmp.path()), Path::new("/")).map_err(|e| e.to_string())?;
    let first = match plan(&install, options) {
        Ok(p) => p,
        Err(
            PatchError::Unparsable { .. }
            | PatchError::NotUtf8 { .. }
            | PatchError::DoesNotCompile { .. },
        ) => {
            return (fs::read(&file).unwrap() == bytes)
                .then_some(())
                .ok_or_else(|| "a refused file was changed".to_string());
        }
        Err(e) => return Err(format!("plan failed: {e}")),
    };
    commit(&install, &first).map_err(|e| format!("commit failed: {e}"))?;
    let written = fs::read(&file).unwrap();
    if !first.changes.is_empty() {
        match Source::parse(&written).map(|s| s.syntax_error()) {
            Some(None) => {}
            _ => return Err("the written file does not parse".into()),
        }
    }
    let second = plan(&install, options).map_err(|e| format!("second plan failed: {e}"))?;
    if !second.changes.is_empty() {
        return Err("a second patch changes it again".into());
    }
    revert(&install, false).map_err(|e| format!("revert failed: {e}"))?;
    (fs::read(&file).unwrap() == bytes)
        .then_some(())
        .ok_or_else(|| "revert did not give back the bytes".into())
}

/// Every property for one input, a panic counted as a failure.
fn holds(bytes: &[u8], options: &PatchOptions, disk: bool) -> Result<(), String> {
    let run = || {
        in_memory(bytes, options)?;
        if disk {
            on_disk(bytes, options)?;
        }
        Ok(())
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {why}"))
    })
}

#[test]
fn mutated_fixtures_never_break_the_properties() {
    let rounds = env_number("SADFIX_MUTATIONS").map_or(DEFAULT_ROUNDS, |n| n as usize);
    let seed = env_number("SADFIX_MUTATION_SEED").unwrap_or(11);
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut tried = 0;
    for case in cases("cases") {
        let original = fs::read(&case).unwrap();
        for round in 0..rounds {
            let mut bytes = original.clone();
            let mut names = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let which = rng.below(MUTATIONS.len());
                names.push(MUTATIONS[which]);
                bytes = mutate(&bytes, which, &mut rng);
            }
            let options = &OPTIONS[rng.below(OPTIONS.len())];
            // Every input in memory; the slower round trip on disk for one round in three.
            let disk = round % 3 == 0;
            tried += 1;
            if let Err(why) = holds(&bytes, options, disk) {
                let stem = case.file_stem().unwrap().to_string_lossy();
                let name = format!("{stem}-{}-{seed}-{round}.py", names.join("+"));
                let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutations-failed");
                fs::create_dir_all(&dir).unwrap();
                fs::write(dir.join(&name), &bytes).unwrap();
                failures.push(format!("{name} ({options:?}): {why}"));
            }
        }
    }
    assert!(tried > 0);
    assert!(
        failures.is_empty(),
        "{} of {tried} mutated inputs break a property (kept under target/tmp/mutations-failed):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Inputs an earlier run found: each must now hold under every option in memory, and on disk
/// under `--force-gpu --batch-size 4` (each disk round starts `py_compile`).
#[test]
fn every_kept_case_holds() {
    let kept = cases("mutated");
    assert!(!kept.is_empty(), "no kept cases under fixtures/mutated");
    for case in kept {
        let bytes = fs::read(&case).unwrap();
        for (i, options) in OPTIONS.iter().enumerate() {
            if let Err(why) = holds(&bytes, options, i == 2) {
                panic!("{}: {why}", case.display());
            }
        }
    }
}
