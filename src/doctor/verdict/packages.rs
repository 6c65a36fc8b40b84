//! Verdicts on the Python packages: the versions SadTalker is known to break with (numpy,
//! torchvision with an unpatched basicsr) and the ones it needs but lacks.

use crate::doctor::check::{Area, Check, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::Degradations;
use crate::install::packages::PACKAGES;
use crate::install::PythonSource;
use std::path::Path;

/// The packages SadTalker's requirements name: the first eleven whose versions sadfix reads.
const REQUIRED: &[&str] = PACKAGES.split_at(11).0;

/// `major.minor` of a version string ("0.17.1+cu121" is (0, 17)).
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '+']);
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts
        .next()
        .map(|m| {
            m.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// The skip every package check gives when the facts probe did not answer.
pub(super) fn versions_unknown(id: &str) -> Check {
    Check::new(
        id,
        Area::Packages,
        Status::Skip,
        "package versions unknown (see python.interpreter)",
    )
}

/// `sadfix patch --compat` (plus `--site-packages`), with the Python doctor used when it was
/// given by flag, so the gates read the same packages.
pub fn compat_fix(g: &Gathered, outside: bool) -> String {
    let mut fix = String::from("sadfix patch --compat");
    if outside {
        fix.push_str(" --site-packages");
    }
    if let Some(choice) = g.python.as_ref().filter(|c| c.source == PythonSource::Flag) {
        fix.push_str(&format!(
            " --python {}",
            crate::doctor::shell::quote(&choice.path.display().to_string())
        ));
    }
    fix
}

/// `packages.numpy`: SadTalker pins 1.23.4; >= 1.24 removes `np.float`, 2.x breaks at import.
/// Every numpy breakage of SadTalker's own code has a code fix (`patch --compat`).
pub fn check_numpy(g: &Gathered) -> Check {
    let id = "packages.numpy";
    if g.facts().is_none() {
        return versions_unknown(id);
    }
    let pip = format!("{} -m pip install numpy==1.23.4", g.python_cmd());
    let fix = compat_fix(g, false);
    let Some(version) = g.package("numpy") else {
        return Check::new(id, Area::Packages, Status::Fail, "numpy is not installed").fix(pip);
    };
    let Some(v) = major_minor(version) else {
        return Check::new(
            id,
            Area::Packages,
            Status::Warn,
            format!("numpy {version}: version not understood"),
        );
    };
    if v >= (2, 0) {
        return Check::new(id, Area::Packages, Status::Fail, format!("numpy {version}: SadTalker's code breaks with numpy 2 (np.VisibleDeprecationWarning at import)"))
            .evidence("SadTalker pins numpy 1.23.4")
            .evidence(format!("or go back to the pin: {pip}"))
            .fix(fix);
    }
    if v >= (1, 24) {
        let status = if g.numpy_aliases.is_empty() {
            Status::Warn
        } else {
            Status::Fail
        };
        return Check::new(
            id,
            Area::Packages,
            status,
            format!("numpy {version} removed np.float, which SadTalker's preprocessing uses"),
        )
        .evidence_all(
            g.numpy_aliases
                .iter()
                .map(|at| format!("uses a removed alias: {at}")),
        )
        .evidence(format!("or go back to the pin: {pip}"))
        .fix(fix);
    }
    Check::new(id, Area::Packages, Status::Ok, format!("numpy {version}"))
}

/// The unguarded `functional_tensor` import in basicsr's degradations.py, if there is one.
pub fn unguarded_import(file: &Degradations) -> Option<(usize, &str)> {
    file.lines
        .iter()
        .find(|l| {
            l.text
                .starts_with("from torchvision.transforms.functional_tensor import")
                || l.text
                    .starts_with("import torchvision.transforms.functional_tensor")
        })
        .map(|l| (l.line, l.text.as_str()))
}

/// `packages.basicsr`: basicsr 1.4.2 imports `torchvision.transforms.functional_tensor`, which
/// torchvision 0.17 removed; judged from the installed file, not the version alone.
pub fn check_basicsr(g: &Gathered) -> Check {
    let id = "packages.basicsr";
    let Some(facts) = g.facts() else {
        return versions_unknown(id);
    };
    let Some(version) = g.package("basicsr") else {
        return Check::new(
            id,
            Area::Packages,
            Status::Fail,
            "basicsr is not installed: SadTalker imports it through gfpgan at start-up",
        )
        .fix(format!("{} -m pip install basicsr==1.4.2", g.python_cmd()));
    };
    let tv = g.package("torchvision").unwrap_or("not installed");
    let removed = major_minor(tv).is_some_and(|v| v >= (0, 17));
    let Some(file) = &facts.basicsr_degradations else {
        return Check::new(
            id,
            Area::Packages,
            Status::Warn,
            format!("basicsr {version}: its data/degradations.py was not found"),
        );
    };
    let Some((line, text)) = unguarded_import(file) else {
        return Check::new(
            id,
            Area::Packages,
            Status::Ok,
            format!(
                "basicsr {version} with torchvision {tv}: no unguarded functional_tensor import"
            ),
        )
        .evidence(file.path.clone());
    };
    let at = format!("{}:{line}: {}", file.path, text.trim());
    if removed {
        return Check::new(
            id,
            Area::Packages,
            Status::Fail,
            format!("basicsr {version} imports torchvision.transforms.functional_tensor, removed in torchvision {tv}"),
        )
        .evidence(at)
        .evidence("no fixed basicsr release exists; the fix edits this file (backed up, undone by `sadfix patch --revert`)")
        .fix(compat_fix(g, true));
    }
    Check::new(
        id,
        Area::Packages,
        Status::Ok,
        format!("basicsr {version} with torchvision {tv}"),
    )
    .evidence(at)
    .evidence("this import breaks if torchvision is upgraded to 0.17 or later")
}

/// `packages.versions`: every package SadTalker needs, with its version.
pub fn check_versions(g: &Gathered) -> Check {
    let id = "packages.versions";
    if g.facts().is_none() {
        return versions_unknown(id);
    }
    let (found, missing): (Vec<&str>, Vec<&str>) = REQUIRED
        .iter()
        .copied()
        .partition(|n| g.package(n).is_some());
    let found: Vec<String> = found
        .iter()
        .map(|n| format!("{n} {}", g.package(n).unwrap_or("")))
        .collect();
    if missing.is_empty() {
        return Check::new(
            id,
            Area::Packages,
            Status::Ok,
            format!(
                "all {} packages SadTalker needs are installed",
                REQUIRED.len()
            ),
        )
        .evidence(found.join(", "));
    }
    let names = missing;
    let fix = if g.install.root.join("requirements.txt").is_file() {
        format!(
            "cd {} && {} -m pip install -r requirements.txt",
            crate::doctor::shell::quote(&g.install.root.display().to_string()),
            g.python_cmd()
        )
    } else {
        format!("{} -m pip install {}", g.python_cmd(), names.join(" "))
    };
    Check::new(
        id,
        Area::Packages,
        Status::Warn,
        format!("not installed: {}", names.join(", ")),
    )
    .evidence(found.join(", "))
    .fix(fix)
}

/// `file:line` of every `np.float(`, `np.int(`, `np.bool(` or `np.complex(` in the install's
/// own code (aliases numpy 1.24 removed).
pub fn numpy_aliases(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in crate::install::python_files(root) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("");
            if ["np.float", "np.int", "np.bool", "np.complex"]
                .iter()
                .any(|alias| {
                    code.match_indices(alias).any(|(i, _)| {
                        let next = code[i + alias.len()..].chars().next();
                        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                })
            {
                let rel = file.strip_prefix(root).unwrap_or(&file);
                found.push(format!("{}:{}", rel.display(), n + 1));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(major_minor("0.17.1+cu121"), Some((0, 17)));
        assert_eq!(major_minor("1.23.4"), Some((1, 23)));
        assert_eq!(major_minor("2.0.0rc1"), Some((2, 0)));
        assert_eq!(major_minor("x"), None);
    }

    #[test]
    fn removed_numpy_aliases_are_found_but_sized_types_are_not() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("a.py"),
            "x = np.float32(1)\ny = np.float(2)  # old\nz = np.int_\n# np.float(3)\nw = np.bool\n",
        )
        .unwrap();
        assert_eq!(numpy_aliases(tmp.path()), vec!["a.py:2", "a.py:5"]);
    }

    #[test]
    fn only_a_module_level_import_counts_as_unguarded() {
        use crate::doctor::probe::SourceLine;
        let mut file = Degradations {
            path: "d.py".into(),
            error: None,
            lines: vec![SourceLine {
                line: 2,
                text: "# functional_tensor in a comment".into(),
            }],
        };
        assert_eq!(unguarded_import(&file), None);
        file.lines.push(SourceLine {
            line: 9,
            text: "    from torchvision.transforms.functional_tensor import rgb_to_grayscale"
                .into(),
        });
        assert_eq!(
            unguarded_import(&file),
            None,
            "indented: inside a try block"
        );
        file.lines.push(SourceLine {
            line: 10,
            text: "from torchvision.transforms.functional_tensor import rgb_to_grayscale".into(),
        });
        assert_eq!(unguarded_import(&file).map(|l| l.0), Some(10));
    }
}
