//! What an interpreter has installed, read from disk without running it: its `sys.path` from its
//! layout (`pyvenv.cfg`, `lib/pythonX.Y/site-packages`, Debian's `dist-packages`, conda
//! prefixes, the user site, `$PYTHONPATH`, `.pth` files that add paths), then each package's
//! version from the first `*.dist-info/METADATA` (or `*.egg-info/PKG-INFO`) on that path, as
//! `importlib.metadata.version()` would answer, and an import package's directory.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The distributions whose versions sadfix reads: SadTalker's requirements first (doctor's
/// `packages.versions` checks those it imports, `patch::wheels::IMPORTED`), then the packages
/// that gate `sadfix patch --compat`.
pub const PACKAGES: &[&str] = &[
    "torch",
    "torchvision",
    "torchaudio",
    "numpy",
    "basicsr",
    "gfpgan",
    "facexlib",
    "face_alignment",
    "librosa",
    "imageio-ffmpeg",
    "safetensors",
    "gradio",
    "Pillow",
    "imageio",
    "TTS",
    "resampy",
];

/// Import packages whose directory `sadfix patch --compat` reads or edits.
pub const PACKAGE_DIRS: &[&str] = &["basicsr", "face_alignment"];

/// The directories an interpreter imports from, in its order.
#[derive(Debug, Clone, PartialEq)]
pub struct SysPath {
    /// "3.11" or "3.11.7": from `pyvenv.cfg` or the interpreter's name; None when unknown.
    pub version: Option<String>,
    pub dirs: Vec<PathBuf>,
}

/// Why the layout could not tell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    #[error("{0} is a script (a shim such as pyenv's), not an interpreter")]
    Script(PathBuf),
    #[error("no lib/pythonX.Y next to {0}")]
    NoLib(PathBuf),
}

/// `sys.path` of `python` running a script in `script_dir`, from its layout alone. `env` looks
/// up environment variables (`PYTHONPATH`, `PYTHONNOUSERSITE`, `HOME`).
pub fn sys_path(
    python: &Path,
    script_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SysPath, LayoutError> {
    if is_script(python) {
        return Err(LayoutError::Script(python.to_path_buf()));
    }
    let mut dirs = vec![script_dir.to_path_buf()];
    if let Some(extra) = env("PYTHONPATH").filter(|v| !v.is_empty()) {
        dirs.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    let bin = python.parent().unwrap_or(Path::new("."));
    // A venv: `pyvenv.cfg` beside bin/ (or in it), its own site-packages, and the base's only
    // with `include-system-site-packages = true`.
    let cfg = [bin.join("pyvenv.cfg"), bin.join("../pyvenv.cfg")]
        .into_iter()
        .find_map(|p| std::fs::read_to_string(p).ok());
    let (version, sites) = match cfg {
        Some(cfg) => {
            let key = |k: &str| venv_key(&cfg, k);
            let prefix = bin.parent().unwrap_or(bin);
            let version = key("version")
                .or_else(|| key("version_info"))
                .map(|v| v.split('.').take(3).collect::<Vec<_>>().join("."));
            let xy = version
                .as_deref()
                .map(major_minor)
                .or_else(|| lib_version(prefix));
            let xy = xy.ok_or_else(|| LayoutError::NoLib(python.to_path_buf()))?;
            let own = prefix_sites(prefix, &xy);
            let mut sites = Vec::new();
            if key("include-system-site-packages").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                let base = key("home").map(PathBuf::from);
                let base = base.as_deref().and_then(|home| {
                    let real = std::fs::canonicalize(python).ok()?;
                    // The venv's python links to the base interpreter in `home`.
                    let in_home = real.starts_with(home);
                    Some(if in_home { real } else { home.join("python3") })
                });
                // site.py's order: the user site, the venv's, then the base's.
                sites.extend(user_site(&xy, env));
                sites.extend(own);
                if let Some(base_prefix) = base
                    .as_deref()
                    .and_then(Path::parent)
                    .and_then(Path::parent)
                {
                    sites.extend(prefix_sites(base_prefix, &xy));
                }
            } else {
                sites = own;
            }
            (version.or(Some(xy)), sites)
        }
        None => {
            // A base interpreter (system, pyenv, conda): bin/python3 -> python3.11 in <prefix>/bin.
            let real = std::fs::canonicalize(python).unwrap_or_else(|_| python.to_path_buf());
            let prefix = real
                .parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new("/"));
            let xy = name_version(&real)
                .or_else(|| lib_version(prefix))
                .ok_or_else(|| LayoutError::NoLib(python.to_path_buf()))?;
            let mut sites = user_site(&xy, env);
            sites.extend(prefix_sites(prefix, &xy));
            (Some(xy), sites)
        }
    };
    for site in sites {
        push_site(&mut dirs, site);
    }
    Ok(SysPath { version, dirs })
}

/// A pyenv or asdf shim is a shell script; an interpreter (or a venv's link to one) is not.
fn is_script(python: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(python)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|_| &head == b"#!")
}

fn venv_key(cfg: &str, key: &str) -> Option<String> {
    cfg.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// "3.11" from `python3.11`.
fn name_version(real: &Path) -> Option<String> {
    let name = real.file_name()?.to_str()?;
    let v = name.strip_prefix("python")?;
    (v.split('.').count() == 2 && v.split('.').all(|p| p.parse::<u32>().is_ok()))
        .then(|| v.to_string())
}

/// The one `lib/pythonX.Y` under a prefix.
fn lib_version(prefix: &Path) -> Option<String> {
    let mut found: Vec<String> = std::fs::read_dir(prefix.join("lib"))
        .ok()?
        .flatten()
        .filter_map(|e| name_version(&e.path()))
        .collect();
    found.sort();
    (found.len() == 1).then(|| found.remove(0))
}

/// The site directories of a prefix, in the order `site.py` adds them (Debian's
/// `dist-packages` included; a missing directory is left out).
fn prefix_sites(prefix: &Path, xy: &str) -> Vec<PathBuf> {
    let lib = format!("lib/python{xy}");
    let mut out = Vec::new();
    if prefix == Path::new("/usr") {
        out.push(PathBuf::from("/usr/local").join(&lib).join("dist-packages"));
    }
    out.push(prefix.join(&lib).join("site-packages"));
    out.push(prefix.join(format!("lib64/python{xy}/site-packages")));
    out.push(prefix.join("lib/python3/dist-packages"));
    out.push(prefix.join(&lib).join("dist-packages"));
    out.into_iter().filter(|p| p.is_dir()).collect()
}

fn user_site(xy: &str, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if env("PYTHONNOUSERSITE").is_some_and(|v| !v.is_empty()) {
        return Vec::new();
    }
    let Some(home) = env("HOME").filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let dir = Path::new(&home).join(format!(".local/lib/python{xy}/site-packages"));
    if dir.is_dir() {
        vec![dir]
    } else {
        Vec::new()
    }
}

/// A site directory, then the paths its `.pth` files add (lines that are not comments or
/// `import` statements, relative to the directory, kept when they exist).
fn push_site(dirs: &mut Vec<PathBuf>, site: PathBuf) {
    // A venv's `lib64` is a link to its `lib`: one directory, listed once.
    let same = |a: &Path, b: &Path| {
        a == b
            || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    };
    if dirs.iter().any(|d| same(d, &site)) {
        return;
    }
    let mut pth: Vec<PathBuf> = std::fs::read_dir(&site)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pth"))
                .collect()
        })
        .unwrap_or_default();
    pth.sort();
    dirs.push(site.clone());
    for file in pth {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines().map(str::trim_end) {
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with("import ")
                || line.starts_with("import\t")
            {
                continue;
            }
            let path = site.join(line);
            if path.is_dir() && !dirs.contains(&path) {
                dirs.push(path);
            }
        }
    }
}

/// A distribution name as PEP 503 compares them: lower case, runs of `-`, `_`, `.` as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The version of each of `names`: the first distribution on `dirs` with that name wins.
pub fn versions(dirs: &[PathBuf], names: &[&str]) -> BTreeMap<String, Option<String>> {
    let wanted: BTreeMap<String, &str> = names.iter().map(|n| (normalize(n), *n)).collect();
    let mut found: BTreeMap<String, Option<String>> =
        names.iter().map(|n| (n.to_string(), None)).collect();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut items: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
            .filter(|(n, _)| n.ends_with(".dist-info") || n.ends_with(".egg-info"))
            .collect();
        items.sort();
        for (item, path) in items {
            let stem = item.rsplit_once('.').map_or(item.as_str(), |(s, _)| s);
            let (name, guess) = match stem.split_once('-') {
                Some((name, rest)) => (name, rest.split('-').next()),
                None => (stem, None),
            };
            let Some(original) = wanted.get(&normalize(name)) else {
                continue;
            };
            let slot = found.entry(original.to_string()).or_default();
            if slot.is_none() {
                *slot = metadata_version(&path).or_else(|| guess.map(str::to_string));
            }
        }
    }
    found
}

/// The `Version:` header of a dist-info/egg-info directory (or an egg-info file).
fn metadata_version(path: &Path) -> Option<String> {
    let files = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        vec![path.join("METADATA"), path.join("PKG-INFO")]
    };
    files.iter().find_map(|file| {
        let text = std::fs::read(file).ok()?;
        let text = String::from_utf8_lossy(&text);
        text.lines()
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| l.strip_prefix("Version:"))
            .map(|v| v.trim().to_string())
    })
}

/// Where the import package `name` lives: the first `name/` on `dirs` (a regular package with
/// `__init__.py`, as `find_spec` would pick it over a namespace directory).
pub fn package_dir(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.join("__init__.py").is_file())
        .or_else(|| dirs.iter().map(|d| d.join(name)).find(|p| p.is_dir()))
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

#[cfg(test)]
#[path = "packages_tests.rs"]
mod tests;
