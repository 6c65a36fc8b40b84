//! Log files followed while a run goes on, as `tail -F` does: a file may appear late, be
//! truncated (read again from the start) or rotated (the rest of the old one read, then the new
//! one from its start). A file that exists when following starts is read from its end, so an
//! earlier run's lines in an appended log are not taken for this one's.

use super::lines::LineSplitter;
use super::message::Message;
use super::record::{OutputLine, Stream};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(100);

/// At most this much of one file is read per look, so one huge write cannot stall the others.
const READ_PER_LOOK: usize = 1 << 20;

struct Followed {
    file: File,
    inode: (u64, u64),
    offset: u64,
    splitter: LineSplitter,
}

/// The files matching some patterns, and where each was read to.
pub struct Logs {
    patterns: Vec<String>,
    files: HashMap<PathBuf, Followed>,
    start: Instant,
}

impl Logs {
    /// Start following `patterns` (`*` and `?` allowed in the file name); what exists now is
    /// followed from its end.
    pub fn new(patterns: Vec<String>, start: Instant) -> Logs {
        let mut logs = Logs {
            patterns,
            files: HashMap::new(),
            start,
        };
        for path in logs.matching() {
            if let Some(mut f) = open(&path) {
                f.offset = f.file.metadata().map_or(0, |m| m.len());
                logs.files.insert(path, f);
            }
        }
        logs
    }

    /// The files followed so far.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.files.keys().map(|p| p.display().to_string()).collect();
        paths.sort();
        paths
    }

    fn matching(&self) -> Vec<PathBuf> {
        self.patterns.iter().flat_map(|p| expand(p)).collect()
    }

    /// Read what was written since the last look; `flush` also lets out unterminated lines.
    pub fn look(&mut self, flush: bool) -> Vec<OutputLine> {
        for path in self.matching() {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.files.entry(path) {
                if let Some(f) = open(slot.key()) {
                    slot.insert(f);
                }
            }
        }
        let mut lines = Vec::new();
        let start = self.start;
        for (path, f) in self.files.iter_mut() {
            let mut texts = read_new(f);
            if let Ok(meta) = std::fs::metadata(path) {
                if (meta.dev(), meta.ino()) != f.inode {
                    // Rotated: the old file's rest is read above; the new one from its start.
                    if let Some(new) = open(path) {
                        texts.extend(f.splitter.rest());
                        *f = new;
                        texts.extend(read_new(f));
                    }
                } else if meta.len() < f.offset {
                    // Truncated: the host started the log again.
                    texts.extend(f.splitter.rest());
                    f.offset = 0;
                    texts.extend(read_new(f));
                }
            }
            if flush {
                texts.extend(f.splitter.rest());
            }
            let t = start.elapsed().as_secs_f64();
            lines.extend(texts.into_iter().map(|text| OutputLine {
                t,
                stream: Stream::Log,
                text,
            }));
        }
        lines
    }
}

fn open(path: &Path) -> Option<Followed> {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| Followed {
        file,
        inode: (meta.dev(), meta.ino()),
        offset: 0,
        splitter: LineSplitter::default(),
    })
}

fn read_new(f: &mut Followed) -> Vec<String> {
    let mut out = Vec::new();
    if f.file.seek(SeekFrom::Start(f.offset)).is_err() {
        return out;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0;
    while read < READ_PER_LOOK {
        match f.file.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                read += n;
                f.offset += n as u64;
                out.extend(f.splitter.push(&buf[..n]));
            }
        }
    }
    out
}

/// The existing files a pattern names; wildcards only in its last component.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(name, n)))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// `*` any run of characters, `?` one character.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The follower thread: looks every `POLL` and sends what it reads to the runner.
pub(crate) struct Follower {
    stop: Sender<()>,
    handle: JoinHandle<Vec<String>>,
}

impl Follower {
    pub(crate) fn start(patterns: Vec<String>, start: Instant, out: Sender<Message>) -> Follower {
        let (stop, stopped) = mpsc::channel::<()>();
        let mut logs = Logs::new(patterns, start);
        let handle = std::thread::spawn(move || loop {
            let last = !matches!(stopped.recv_timeout(POLL), Err(RecvTimeoutError::Timeout));
            for line in logs.look(last) {
                let _ = out.send(Message::Line(line));
            }
            if last {
                return logs.paths();
            }
        });
        Follower { stop, handle }
    }

    /// One last look, then stop; returns the files followed.
    pub(crate) fn stop(self) -> Vec<String> {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn texts(logs: &mut Logs) -> Vec<String> {
        logs.look(false).into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn follows_a_late_file_through_truncation_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("worker.log");
        std::fs::write(&old, "an earlier run\n").unwrap();
        let pattern = dir.path().join("work*.log").display().to_string();
        let mut logs = Logs::new(vec![pattern], Instant::now());
        assert!(
            texts(&mut logs).is_empty(),
            "what was there before is not this run"
        );

        let mut f = std::fs::OpenOptions::new().append(true).open(&old).unwrap();
        f.write_all(b"mel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]\nhalf")
            .unwrap();
        assert_eq!(
            texts(&mut logs),
            vec!["mel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]"]
        );

        // Truncated and written again.
        std::fs::write(&old, "again\n").unwrap();
        assert_eq!(texts(&mut logs), vec!["half", "again"]);

        // Rotated: renamed away, a new file in its place; a second file appears late too.
        f.write_all(b"last of the old one\n").unwrap();
        std::fs::rename(&old, dir.path().join("rotated.1")).unwrap();
        std::fs::write(&old, "first of the new one\n").unwrap();
        std::fs::write(dir.path().join("worker2.log"), "late file\n").unwrap();
        let mut got = texts(&mut logs);
        got.sort();
        assert_eq!(
            got,
            vec!["first of the new one", "last of the old one", "late file"]
        );
        assert_eq!(logs.paths().len(), 2);
    }

    #[test]
    fn wildcards_in_the_file_name() {
        assert!(wildcard("*.log", "worker.log"));
        assert!(wildcard("w?rker*.log", "worker-1.log"));
        assert!(!wildcard("*.log", "worker.txt"));
        assert!(wildcard("*", ""));
    }
}
