//! Why `patch` refused or failed. Every message names the path and what to do next.

use super::recipe::RecipeErrors;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("the shipped recipes are invalid (a bug in sadfix; please report it): {0}")]
    Recipes(#[from] RecipeErrors),
    #[error("{}:{line}: does not parse (syntax error at column {column}); nothing was changed. Fix the file (or restore it), then run sadfix again", .file.display())]
    Unparsable {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{}: is not UTF-8 text (byte {offset} is the first that is not); nothing was changed. Convert it to UTF-8 (e.g. `iconv -f latin1 -t utf-8`), then run sadfix again", .file.display())]
    NotUtf8 { file: PathBuf, offset: usize },
    #[error("{}: has {links} hard links; a patch writes by rename, which would leave the other names with the old text, so nothing was changed. Give it a file of its own (copy it, then move the copy over it) and run sadfix again", .path.display())]
    HardLinked { path: PathBuf, links: u64 },
    #[error("{}: does not compile as it is ({reason}), although it parses; nothing was changed. Fix the file (or restore it), then run sadfix again", .file.display())]
    DoesNotCompile { file: PathBuf, reason: String },
    #[error("{}: the patched text fails its check ({reason}); nothing was written. This is a bug in sadfix: please report it with the file", .file.display())]
    BadResult { file: PathBuf, reason: String },
    #[error("{}: is read-only; nothing was changed. Make it writable (chmod u+w) and run sadfix again", .path.display())]
    ReadOnly { path: PathBuf },
    #[error("{}: another sadfix is working on this install (waited {waited_s} s); nothing was changed. Run sadfix again when it has finished", .path.display())]
    Locked { path: PathBuf, waited_s: u64 },
    #[error("{} changed since sadfix wrote {}; nothing was restored. Run `sadfix patch --revert --force` to restore the originals anyway (the later edits are lost)", list(.files), if .files.len() == 1 { "it" } else { "them" })]
    ChangedSinceWritten { files: Vec<PathBuf> },
    #[error("{}: changed while sadfix was preparing the patch; nothing was written. Run sadfix again", .path.display())]
    Raced { path: PathBuf },
    #[error("{}: the backup is missing ({reason}); nothing was restored. Restore the file from version control", .path.display())]
    BackupMissing { path: PathBuf, reason: String },
    #[error("{}: the journal cannot be read ({reason}); nothing was changed. Move it away to start afresh (the backups next to it hold the originals)", .path.display())]
    Journal { path: PathBuf, reason: String },
    #[error("site-packages {} was patched before, but the install's Python now uses {}; nothing was changed. Run `sadfix patch --revert` first (or pass the earlier Python with --python)", .recorded.display(), .now.display())]
    OtherSitePackages { recorded: PathBuf, now: PathBuf },
    #[error("{}: {source}; check the permissions and free space, then run sadfix again", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PatchError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PatchError::Io {
            path: path.into(),
            source,
        }
    }
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
