//! The metrics file written atomically: a temporary file in the same directory, then a rename,
//! so node_exporter's textfile collector never reads half a file. The temporary name starts with
//! a dot and ends in `.tmp`, which the collector (it reads `*.prom`) skips.

use super::MetricsDoc;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Readable by node_exporter's own user (Debian runs it as `prometheus`).
const NEW_FILE_MODE: u32 = 0o644;

#[derive(Debug, Error)]
#[error("cannot write the metrics file {}: {source}; check that {} exists and that sadfix may write there", path.display(), folder.display())]
pub struct MetricsError {
    pub path: PathBuf,
    pub folder: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Write `doc` to `path`, replacing it whole. An existing file keeps its mode; a new one is 0644.
/// No fsync: a scrape needs only the rename, and a crash loses at most this run's series, which
/// the next run writes again.
pub fn write(path: &Path, doc: &MetricsDoc) -> Result<(), MetricsError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |source| MetricsError {
        path: path.to_path_buf(),
        folder: folder.clone(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mode = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&folder)
        .map_err(fail)?;
    tmp.write_all(doc.render().as_bytes()).map_err(fail)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(fail)?;
    // On failure the temporary file is removed when `PersistError` drops it.
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn doc() -> MetricsDoc {
        MetricsDoc::for_command("doctor", UNIX_EPOCH)
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn the_file_is_replaced_whole_keeps_its_mode_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sadfix-doctor.prom");
        write(&path, &doc()).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, &doc()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), doc().render());
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(names(dir.path()), ["sadfix-doctor.prom"]);
    }

    #[test]
    fn a_reader_sees_one_whole_file_or_the_other_never_a_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sadfix-bench.prom");
        let small = doc();
        let mut big = doc();
        for i in 0..500 {
            big.gauge("sadfix_test_seconds", "t.")
                .sample(&[("stage", &i.to_string())], f64::from(i));
        }
        let texts = [small.render(), big.render()];
        write(&path, &small).unwrap();
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                for i in 0..300 {
                    write(&path, if i % 2 == 0 { &big } else { &small }).unwrap();
                }
            });
            let mut reads = 0;
            while !writer.is_finished() || reads < 100 {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    texts.contains(&text),
                    "a partial file: {} bytes",
                    text.len()
                );
                reads += 1;
            }
        });
        assert_eq!(names(dir.path()), ["sadfix-bench.prom"]);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone/sadfix.prom");
        let err = write(&path, &doc()).unwrap_err().to_string();
        assert!(err.contains("gone/sadfix.prom"), "{err}");
        assert!(err.contains("check that"), "{err}");
        // A directory where the file should be: the rename fails, the temporary file goes.
        let taken = dir.path().join("taken.prom");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("x"), "").unwrap();
        assert!(write(&taken, &doc()).is_err());
        assert_eq!(names(dir.path()), ["taken.prom"]);
    }
}
