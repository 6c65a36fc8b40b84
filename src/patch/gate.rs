//! Gates: when a compat recipe's fix is needed, judged from what the install's Python has
//! installed (versions read from package metadata, never by importing), or from the package's
//! own source where its version number lies (face_alignment's 1.3.5 wheel).

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A gate as written in YAML: `package` plus exactly one test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    pub package: String,
    pub at_least: Option<String>,
    pub below: Option<String>,
    pub missing: Option<bool>,
    /// A file of the package (relative to its directory) that must not match `lacks`.
    pub source: Option<String>,
    pub lacks: Option<String>,
    /// With `lacks`: what the pattern finds, for people ("LandmarksType._2D").
    pub attribute: Option<String>,
}

/// One validated condition on an installed package.
#[derive(Debug, Clone)]
pub struct Gate {
    pub package: String,
    pub test: GateTest,
}

#[derive(Debug, Clone)]
pub enum GateTest {
    AtLeast(Vec<u64>),
    Below(Vec<u64>),
    /// `true`: the package is not installed; `false`: it is.
    Missing(bool),
    /// The package's source file does not match the pattern (e.g. no `_2D =` in the enum).
    Lacks {
        file: String,
        pattern: Regex,
        attribute: String,
    },
}

/// What the install's Python has: versions by distribution name, and where the import
/// packages live (found without running their `__init__`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Installed {
    /// How the facts were read, e.g. "/x/venv/bin/python (package metadata)".
    pub source: String,
    /// The interpreter they were read with, for the pip commands.
    #[serde(default)]
    pub python: Option<PathBuf>,
    /// Its version, e.g. "3.11.7".
    #[serde(default)]
    pub python_version: Option<String>,
    pub versions: BTreeMap<String, Option<String>>,
    pub dirs: BTreeMap<String, PathBuf>,
}

/// Whether a recipe's gates hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "because")]
pub enum Judgement {
    /// Every gate holds: "numpy 2.4.0".
    Needed(String),
    /// A gate does not hold: "numpy 1.23.5".
    NotNeeded(String),
    /// A gate could not be judged (no facts, or the package's source is unreadable).
    Unknown(String),
}

pub fn validate(raw: &RawGate) -> Result<Gate, String> {
    let tests = [
        raw.at_least.is_some(),
        raw.below.is_some(),
        raw.missing.is_some(),
        raw.lacks.is_some(),
    ];
    if tests.iter().filter(|t| **t).count() != 1 {
        return Err(format!(
            "gate on {} needs exactly one of at_least, below, missing, lacks",
            raw.package
        ));
    }
    let version = |v: &str| {
        parse_version(v).ok_or_else(|| format!("gate version {v:?} is not a version number"))
    };
    let test = if let Some(v) = &raw.at_least {
        GateTest::AtLeast(version(v)?)
    } else if let Some(v) = &raw.below {
        GateTest::Below(version(v)?)
    } else if let Some(m) = raw.missing {
        GateTest::Missing(m)
    } else {
        let pattern = raw.lacks.as_deref().unwrap_or_default();
        let Some(file) = &raw.source else {
            return Err(format!(
                "gate on {}: `lacks` needs `source` (a file of the package)",
                raw.package
            ));
        };
        let pattern =
            Regex::new(pattern).map_err(|e| format!("bad regular expression {pattern:?}: {e}"))?;
        GateTest::Lacks {
            file: file.clone(),
            pattern,
            attribute: raw
                .attribute
                .clone()
                .unwrap_or_else(|| "the attribute".into()),
        }
    };
    Ok(Gate {
        package: raw.package.clone(),
        test,
    })
}

/// The leading numbers of a version: "2.4.0rc1" is [2, 4, 0], "0.17.1+cu121" is [0, 17, 1].
pub fn parse_version(text: &str) -> Option<Vec<u64>> {
    let mut parts = Vec::new();
    for piece in text.trim().split(['.', '+', '-']) {
        let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        parts.push(digits.parse().ok()?);
        if digits.len() != piece.len() {
            break;
        }
    }
    (!parts.is_empty()).then_some(parts)
}

fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    (0..n)
        .map(|i| at(a, i).cmp(&at(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

impl Installed {
    pub fn version(&self, package: &str) -> Option<&str> {
        self.versions.get(package)?.as_deref()
    }

    /// Whether the versions were read at all.
    pub fn known(&self) -> bool {
        !self.versions.is_empty()
    }
}

impl Gate {
    /// Judge this one gate; the text names the package and what was found.
    pub fn judge(&self, installed: &Installed) -> Judgement {
        if !installed.known() {
            return Judgement::Unknown(format!("{} version unknown", self.package));
        }
        let version = installed.version(&self.package);
        let found = match version {
            Some(v) => format!("{} {v}", self.package),
            None => format!("{} not installed", self.package),
        };
        let holds = match (&self.test, version) {
            (GateTest::Missing(m), v) => *m == v.is_none(),
            (_, None) => false,
            (GateTest::AtLeast(min), Some(v)) | (GateTest::Below(min), Some(v)) => {
                let Some(have) = parse_version(v) else {
                    return Judgement::Unknown(format!("{found}: version not understood"));
                };
                let at_least = compare(&have, min).is_ge();
                matches!(self.test, GateTest::AtLeast(_)) == at_least
            }
            (
                GateTest::Lacks {
                    file,
                    pattern,
                    attribute,
                },
                Some(_),
            ) => {
                let Some(dir) = installed.dirs.get(&self.package) else {
                    return Judgement::Unknown(format!("{found}: its directory was not found"));
                };
                let path = dir.join(file);
                match std::fs::read_to_string(&path) {
                    Ok(text) if pattern.is_match(&text) => {
                        return Judgement::NotNeeded(format!(
                            "{found}, whose {file} has {attribute}"
                        ))
                    }
                    Ok(_) => {
                        return Judgement::Needed(format!(
                            "{found}, whose {file} has no {attribute}"
                        ))
                    }
                    Err(e) => {
                        return Judgement::Unknown(format!("{}: {e}", path.display()));
                    }
                }
            }
        };
        if holds {
            Judgement::Needed(found)
        } else {
            Judgement::NotNeeded(found)
        }
    }
}

/// All gates together: needed when every one holds; the first that does not decides otherwise.
pub fn judge_all(gates: &[Gate], installed: &Installed) -> Judgement {
    let mut because = Vec::new();
    for gate in gates {
        match gate.judge(installed) {
            Judgement::Needed(why) => because.push(why),
            other => return other,
        }
    }
    Judgement::Needed(because.join(", "))
}

/// A gate as one line for `scan`: "numpy >= 1.24", "imageio-ffmpeg missing".
pub fn describe(gates: &[Gate]) -> String {
    gates
        .iter()
        .map(|g| match &g.test {
            GateTest::AtLeast(v) => format!("{} >= {}", g.package, dotted(v)),
            GateTest::Below(v) => format!("{} < {}", g.package, dotted(v)),
            GateTest::Missing(true) => format!("{} missing", g.package),
            GateTest::Missing(false) => format!("{} installed", g.package),
            GateTest::Lacks { attribute, .. } => format!("{} without {attribute}", g.package),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

fn dotted(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed(pairs: &[(&str, &str)]) -> Installed {
        Installed {
            source: "test".into(),
            python: None,
            python_version: None,
            versions: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            dirs: BTreeMap::new(),
        }
    }

    fn gate(yaml: &str) -> Gate {
        validate(&yaml_serde::from_str::<RawGate>(yaml).unwrap()).unwrap()
    }

    #[test]
    fn versions_compare_numerically_with_suffixes() {
        let g = gate("{package: numpy, at_least: '1.24'}");
        let on = |v| g.judge(&installed(&[("numpy", v)]));
        assert_eq!(on("1.23.5"), Judgement::NotNeeded("numpy 1.23.5".into()));
        assert_eq!(on("1.24.0"), Judgement::Needed("numpy 1.24.0".into()));
        assert_eq!(on("2.4.0rc1"), Judgement::Needed("numpy 2.4.0rc1".into()));
        assert_eq!(on("1.100"), Judgement::Needed("numpy 1.100".into()));
        assert!(matches!(on("dev"), Judgement::Unknown(_)));
        assert_eq!(parse_version("0.17.1+cu121"), Some(vec![0, 17, 1]));
    }

    #[test]
    fn a_missing_package_and_unknown_facts_are_told_apart() {
        let below = gate("{package: librosa, below: '0.9'}");
        assert!(matches!(
            below.judge(&installed(&[("numpy", "1")])),
            Judgement::NotNeeded(_)
        ));
        assert!(matches!(
            below.judge(&Installed::default()),
            Judgement::Unknown(_)
        ));
        let missing = gate("{package: imageio-ffmpeg, missing: true}");
        assert!(matches!(
            missing.judge(&installed(&[("numpy", "1")])),
            Judgement::Needed(_)
        ));
    }

    #[test]
    fn a_source_gate_reads_the_package_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("api.py"),
            "class LandmarksType(IntEnum):\n    TWO_D = 1\n",
        )
        .unwrap();
        let g = gate("{package: face_alignment, source: api.py, lacks: '(?m)^\\s*_2D\\s*='}");
        let mut facts = installed(&[("face_alignment", "1.3.5")]);
        facts
            .dirs
            .insert("face_alignment".into(), tmp.path().to_path_buf());
        assert!(matches!(g.judge(&facts), Judgement::Needed(_)));
        std::fs::write(tmp.path().join("api.py"), "    _2D = 1\n").unwrap();
        assert!(matches!(g.judge(&facts), Judgement::NotNeeded(_)));
    }
}
