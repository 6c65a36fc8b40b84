//! Where a version change is the right fix (more than one line breaks, or the code is not
//! SadTalker's): the exact `pip install` command for the install's Python. sadfix never runs it.

use super::gate::{parse_version, Installed};
use serde::{Deserialize, Serialize};

/// One command to run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipAdvice {
    pub why: String,
    pub command: String,
}

fn at_least(installed: &Installed, package: &str, min: &[u64]) -> Option<bool> {
    let v = parse_version(installed.version(package)?)?;
    Some(v.as_slice() >= min)
}

/// The version changes the installed packages call for.
pub fn advice(installed: &Installed) -> Vec<PipAdvice> {
    let python = installed.python.as_ref().map_or_else(
        || "python".to_string(),
        |p| crate::doctor::shell::quote(&p.display().to_string()),
    );
    let pip = |spec: &str| format!("{python} -m pip install {spec}");
    let mut out = Vec::new();
    let numpy_124 = at_least(installed, "numpy", &[1, 24]) == Some(true);
    let numpy_2 = at_least(installed, "numpy", &[2]) == Some(true);
    let version = |p: &str| installed.version(p).unwrap_or("?").to_string();
    if numpy_124 && at_least(installed, "librosa", &[0, 9]) == Some(false) {
        // 0.10.2.post1 is verified on numpy 1.26, 0.11.0 on numpy 2.4.
        let spec = if numpy_2 {
            "librosa==0.11.0"
        } else {
            "librosa==0.10.2.post1"
        };
        out.push(PipAdvice {
            why: format!(
                "librosa {} uses np.complex, removed in numpy {} (import fails; editing one line is not enough)",
                version("librosa"),
                version("numpy")
            ),
            command: pip(spec),
        });
    }
    if numpy_2 && at_least(installed, "resampy", &[0, 4, 3]) == Some(false) {
        out.push(PipAdvice {
            why: format!(
                "resampy {} fails to resample on numpy {} (any audio not at 16 kHz)",
                version("resampy"),
                version("numpy")
            ),
            command: pip("resampy==0.4.3"),
        });
    }
    if at_least(installed, "imageio", &[2, 28]) == Some(true)
        && installed.known()
        && installed.version("imageio-ffmpeg").is_none()
    {
        out.push(PipAdvice {
            why: format!(
                "imageio {} without imageio-ffmpeg writes the video with the TIFF plugin (TiffWriter.write() got an unexpected keyword argument 'fps')",
                version("imageio")
            ),
            command: pip("imageio-ffmpeg==0.4.7"),
        });
    }
    let py313 = installed
        .python_version
        .as_deref()
        .and_then(parse_version)
        .is_some_and(|v| v.as_slice() >= [3, 13].as_slice());
    if py313 {
        out.push(PipAdvice {
            why: "Python 3.13 removed audioop, which pydub imports".into(),
            command: pip("audioop-lts"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, &str)], python_version: &str) -> Installed {
        Installed {
            source: "test".into(),
            python: Some("/x/venv/bin/python".into()),
            python_version: Some(python_version.into()),
            versions: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            dirs: Default::default(),
        }
    }

    #[test]
    fn each_version_problem_gets_its_command() {
        let got = advice(&facts(
            &[
                ("numpy", "2.4.0"),
                ("librosa", "0.8.0"),
                ("resampy", "0.3.1"),
                ("imageio", "2.31.1"),
            ],
            "3.13.1",
        ));
        let commands: Vec<&str> = got.iter().map(|a| a.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "/x/venv/bin/python -m pip install librosa==0.11.0",
                "/x/venv/bin/python -m pip install resampy==0.4.3",
                "/x/venv/bin/python -m pip install imageio-ffmpeg==0.4.7",
                "/x/venv/bin/python -m pip install audioop-lts",
            ]
        );
    }

    #[test]
    fn the_pins_need_nothing() {
        let pinned = facts(
            &[
                ("numpy", "1.23.5"),
                ("librosa", "0.9.2"),
                ("resampy", "0.3.1"),
                ("imageio", "2.19.3"),
                ("imageio-ffmpeg", "0.4.7"),
            ],
            "3.10.12",
        );
        assert_eq!(advice(&pinned), vec![]);
    }
}
