//! Traces on disk: `meta.json`, `lines.jsonl` (every output line with its time and stream) and
//! `samples.jsonl` (telemetry). `--record DIR` writes one; `--replay DIR` reads it back into the
//! same `RunRecord` a live run gives. The format is documented in docs/trace-format.md.

use super::record::{OutputLine, RunMeta, RunRecord, Sample, TRACE_VERSION};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const META: &str = "meta.json";
pub const LINES: &str = "lines.jsonl";
pub const SAMPLES: &str = "samples.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a valid trace record: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: trace version {found} is not supported (this sadfix reads {TRACE_VERSION})")]
    Version { path: PathBuf, found: u32 },
    #[error("not a trace directory (no {META} in it); write one with sadfix bench --record DIR")]
    NotATrace,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TraceError + '_ {
    move |source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `record` into `dir` (created if needed; existing trace files are replaced).
pub fn write(dir: &Path, record: &RunRecord) -> Result<(), TraceError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let meta_path = dir.join(META);
    let mut meta = serde_json::to_string_pretty(&record.meta).expect("meta serialises");
    meta.push('\n');
    std::fs::write(&meta_path, meta).map_err(io(&meta_path))?;
    write_jsonl(&dir.join(LINES), &record.lines)?;
    write_jsonl(&dir.join(SAMPLES), &record.samples)
}

fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> Result<(), TraceError> {
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut out = std::io::BufWriter::new(file);
    for item in items {
        let line = serde_json::to_string(item).expect("trace records serialise");
        writeln!(out, "{line}").map_err(io(path))?;
    }
    out.flush().map_err(io(path))
}

/// Read the trace in `dir`.
pub fn read(dir: &Path) -> Result<RunRecord, TraceError> {
    let meta_path = dir.join(META);
    if !meta_path.is_file() && (dir.is_file() || dir.is_dir()) {
        return Err(TraceError::NotATrace);
    }
    let text = std::fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
    let meta: RunMeta = serde_json::from_str(&text).map_err(|e| TraceError::Parse {
        path: meta_path.clone(),
        line: e.line(),
        message: e.to_string(),
    })?;
    if meta.trace_version != TRACE_VERSION {
        return Err(TraceError::Version {
            path: meta_path,
            found: meta.trace_version,
        });
    }
    let lines: Vec<OutputLine> = read_jsonl(&dir.join(LINES))?;
    let mut samples: Vec<Sample> = read_jsonl(&dir.join(SAMPLES))?;
    samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(RunRecord {
        meta,
        lines,
        samples,
    })
}

fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, TraceError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| TraceError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::record::*;

    #[test]
    fn a_directory_without_meta_json_is_not_a_trace() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("x.txt"), "hi").unwrap();
        let dir_err = read(tmp.path()).unwrap_err().to_string();
        assert!(
            dir_err.starts_with("not a trace directory (no meta.json"),
            "{dir_err}"
        );
        let file_err = read(&tmp.path().join("x.txt")).unwrap_err().to_string();
        assert!(file_err.starts_with("not a trace directory"), "{file_err}");
    }

    #[test]
    fn a_trace_reads_back_as_written() {
        let record = RunRecord {
            meta: RunMeta {
                trace_version: TRACE_VERSION,
                origin: Origin::Recorded,
                note: None,
                sadfix_version: "0.1.0".into(),
                started_unix_s: 1,
                command: vec!["python3".into(), "inference.py".into()],
                install: None,
                audio: None,
                audio_s: Some(2.0),
                batch_size: Some(2),
                interval_ms: 250,
                gpu: GpuSourceInfo {
                    source: "unavailable".into(),
                    reason: Some("no driver".into()),
                    ..GpuSourceInfo::default()
                },
                child_pid: Some(42),
                wall_s: 3.5,
                ending: RunEnding::TimedOut {
                    after_s: 3.0,
                    needed_kill: true,
                },
                output_video: None,
                sadfix_cpu_s: None,
                host: None,
            },
            lines: vec![OutputLine {
                t: 0.5,
                stream: Stream::Stderr,
                text: "mel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]".into(),
            }],
            // Measured values are arbitrary doubles; a replay must read back the very same
            // bits or its means differ from the live report's in the last digit.
            samples: (1..200u32)
                .map(|i| Sample {
                    t: f64::from(i) * 0.25,
                    cpu_pct: Some((f64::from(i) * 997.13 + 0.7317).fract() * 100.0),
                    ..Sample::default()
                })
                .collect(),
        };
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), &record).unwrap();
        assert_eq!(read(tmp.path()).unwrap(), record);
    }

    #[test]
    fn a_bad_line_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = read(tmp.path()).unwrap_err();
        assert!(err.to_string().contains("meta.json"), "{err}");
    }
}
