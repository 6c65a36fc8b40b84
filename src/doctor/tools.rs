//! External programs SadTalker needs: `ffmpeg` on PATH (imageio-ffmpeg's bundled binary does not
//! help, facts section 6.10), asked for its version under a deadline.

use super::check::{Area, Check, Status};
use super::system::SystemFacts;
use super::verdict::admin::tool_install;
use crate::install::find_on_path;
use crate::process::{run_bounded, Ending, DEFAULT_GRACE};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// What doctor found out about ffmpeg.
#[derive(Debug, Clone, PartialEq)]
pub enum Ffmpeg {
    NotOnPath,
    /// Found; the first line of `ffmpeg -version`, or why it could not be read.
    Found {
        path: PathBuf,
        version: Result<String, String>,
    },
    /// Found, but sadfix was interrupted before `ffmpeg -version` answered.
    Interrupted {
        path: PathBuf,
    },
}

/// Look for ffmpeg on `path_var` and ask it for its version.
pub fn probe_ffmpeg(path_var: &str, timeout: Duration) -> Ffmpeg {
    let Some(path) = find_on_path("ffmpeg", path_var) else {
        return Ffmpeg::NotOnPath;
    };
    let mut cmd = Command::new(&path);
    cmd.arg("-hide_banner").arg("-version");
    let version = match run_bounded(cmd, timeout, DEFAULT_GRACE) {
        // Ended by the interrupt, or not started because of it.
        Ok(done) if matches!(done.ending, Ending::Interrupted { .. }) => {
            return Ffmpeg::Interrupted { path }
        }
        Err(_) if crate::interrupt::received().is_some() => return Ffmpeg::Interrupted { path },
        Ok(done) if done.success() => Ok(String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()),
        Ok(done) if done.timed_out() => Err(format!(
            "`ffmpeg -version` did not answer within {} s",
            timeout.as_secs_f64()
        )),
        Ok(done) => Err(format!(
            "`ffmpeg -version` failed ({:?}): {}",
            done.ending,
            done.stderr_tail(2)
        )),
        Err(e) => Err(format!("could not run it: {e}")),
    };
    Ffmpeg::Found { path, version }
}

/// `ffmpeg`: present and working.
pub fn check_ffmpeg(ffmpeg: &Ffmpeg, system: &SystemFacts) -> Check {
    match ffmpeg {
        Ffmpeg::NotOnPath => Check::new(
            "ffmpeg",
            Area::Tools,
            Status::Fail,
            "ffmpeg is not on PATH: SadTalker cannot write the video (FileNotFoundError ... .mp4)",
        )
        .evidence("imageio-ffmpeg's bundled binary is not used for the final mux")
        .fix(tool_install(system, "ffmpeg", false)),
        Ffmpeg::Found {
            path,
            version: Ok(version),
        } => Check::new("ffmpeg", Area::Tools, Status::Ok, version.clone())
            .evidence(path.display().to_string()),
        Ffmpeg::Found {
            path,
            version: Err(why),
        } => Check::new(
            "ffmpeg",
            Area::Tools,
            Status::Fail,
            format!("ffmpeg at {} does not work", path.display()),
        )
        .evidence(why.clone())
        .fix(tool_install(system, "ffmpeg", true)),
        Ffmpeg::Interrupted { path } => Check::new(
            "ffmpeg",
            Area::Tools,
            Status::Interrupted,
            "not judged: sadfix was interrupted before `ffmpeg -version` answered",
        )
        .evidence(path.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_is_found_and_its_version_read_or_reported_missing() {
        let empty = tempfile::tempdir().unwrap();
        let none = probe_ffmpeg(&empty.path().to_string_lossy(), Duration::from_secs(5));
        let debian = SystemFacts {
            os_ids: vec!["debian".into()],
            ..SystemFacts::default()
        };
        let check = check_ffmpeg(&none, &debian);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(check.fix.as_deref(), Some("sudo apt-get install -y ffmpeg"));
        // The committed stand-in (fixtures/doctor/bin/ffmpeg) only answers -version.
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/doctor/bin");
        let check = check_ffmpeg(
            &probe_ffmpeg(&bin.to_string_lossy(), Duration::from_secs(5)),
            &debian,
        );
        assert_eq!(check.status, Status::Ok);
        assert!(check
            .summary
            .starts_with("ffmpeg version 6.1.1-test-double"));
    }
}
