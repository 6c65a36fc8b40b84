//! Which version of a package SadTalker imports installs as a wheel on a given Python, so a
//! printed `pip install` runs there instead of falling back to a source build (scikit-image
//! 0.19.3 on 3.11) or resolving to a version that breaks at run time (imageio 2.19.3 on 3.11:
//! RecursionError at `mimsave`). Facts: resolved on Python 3.11 (Linux x86_64) for a real run,
//! and the wheel tags of each release on PyPI.

/// What to ask pip for on one Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wheel {
    /// `package==version`.
    Pin(&'static str, &'static str),
    /// No version SadTalker runs with has a wheel (or builds) on this Python: the sentence why.
    None(&'static str),
}

/// The distributions SadTalker imports at start-up or on its default path (`torch` and
/// `torchvision` are judged by `torch.build`, with the index for the driver). `torchaudio` is
/// in its requirements but never imported.
pub const IMPORTED: [&str; 10] = [
    "numpy",
    "basicsr",
    "gfpgan",
    "facexlib",
    "face_alignment",
    "librosa",
    "imageio",
    "imageio-ffmpeg",
    "safetensors",
    "torchvision",
];

/// `(major, minor)` of a Python version string ("3.11.7").
pub fn python_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The version of `package` to install on Python `py`; `None` for a package this table does
/// not pin (`torch`, `torchvision`: the torch check names their index).
pub fn wheel_for(package: &str, py: (u32, u32)) -> Option<Wheel> {
    let at_least = |minor: u32| py >= (3, minor);
    Some(match package {
        // SadTalker pins 1.23.4; 1.23.5 is the last 1.23 and has cp38-cp311 wheels. From 3.12
        // only numpy >= 1.26 installs, whose removed aliases `sadfix patch --compat` fixes.
        "numpy" if at_least(13) => Wheel::Pin("numpy", "2.1.3"),
        "numpy" if at_least(12) => Wheel::Pin("numpy", "1.26.4"),
        "numpy" => Wheel::Pin("numpy", "1.23.5"),
        "scikit-image" if at_least(12) => Wheel::Pin("scikit-image", "0.22.0"),
        "scikit-image" if at_least(11) => Wheel::Pin("scikit-image", "0.20.0"),
        "scikit-image" => Wheel::Pin("scikit-image", "0.19.3"),
        "imageio" => Wheel::Pin("imageio", "2.31.6"),
        "imageio-ffmpeg" => Wheel::Pin("imageio-ffmpeg", "0.4.7"),
        "basicsr" if at_least(13) => Wheel::None(
            "basicsr 1.4.2 is a source release whose setup.py fails on Python 3.13 (KeyError: '__version__'); use a Python 3.12 or older venv",
        ),
        // An sdist only: it builds against the installed torch (`--no-build-isolation`).
        "basicsr" => Wheel::Pin("basicsr", "1.4.2"),
        "gfpgan" => Wheel::Pin("gfpgan", "1.3.8"),
        "facexlib" => Wheel::Pin("facexlib", "0.3.0"),
        "face_alignment" => Wheel::Pin("face_alignment", "1.3.5"),
        "librosa" if at_least(12) => Wheel::Pin("librosa", "0.10.2.post1"),
        "librosa" => Wheel::Pin("librosa", "0.9.2"),
        "safetensors" => Wheel::Pin("safetensors", "0.4.5"),
        _ => return None,
    })
}

/// `python -m pip install ...` for `packages` on Python `py` (its interpreter spelled `python`),
/// and a sentence for each package no version of which installs there.
pub fn install_command(
    python: &str,
    py: (u32, u32),
    packages: &[&str],
) -> (Option<String>, Vec<&'static str>) {
    let mut specs = Vec::new();
    let mut none = Vec::new();
    let mut build_isolation = false;
    for p in packages {
        match wheel_for(p, py) {
            Some(Wheel::Pin(name, version)) => {
                build_isolation |= name == "basicsr";
                specs.push(format!("{name}=={version}"));
            }
            Some(Wheel::None(why)) => none.push(why),
            None => specs.push(p.to_string()),
        }
    }
    if specs.is_empty() {
        return (None, none);
    }
    let flag = if build_isolation {
        " --no-build-isolation"
    } else {
        ""
    };
    (
        Some(format!("{python} -m pip install{flag} {}", specs.join(" "))),
        none,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_3_11_gets_the_versions_that_resolve_there() {
        let (cmd, none) = install_command("py", (3, 11), &["scikit-image", "imageio", "numpy"]);
        assert_eq!(
            cmd.as_deref(),
            Some("py -m pip install scikit-image==0.20.0 imageio==2.31.6 numpy==1.23.5")
        );
        assert!(none.is_empty());
    }

    #[test]
    fn basicsr_builds_against_the_installed_torch() {
        let (cmd, _) = install_command("py", (3, 10), &["basicsr"]);
        assert_eq!(
            cmd.as_deref(),
            Some("py -m pip install --no-build-isolation basicsr==1.4.2")
        );
    }

    #[test]
    fn python_3_13_says_basicsr_has_no_build() {
        let (cmd, none) = install_command("py", (3, 13), &["basicsr"]);
        assert_eq!(cmd, None);
        assert!(none[0].contains("Python 3.13"), "{none:?}");
    }

    #[test]
    fn torchaudio_is_not_imported() {
        assert!(!IMPORTED.contains(&"torchaudio"));
    }
}
