//! Finding the install: `--root`, else walk up from the working directory. At each level the
//! directory itself and the known nested layouts are tried (a clone, a webui extension, a
//! vendored copy, ComfyUI nodes, a pip package in the folder's `venv/` or `.venv/`); two
//! candidates at one level is an error, never a guess.

use super::{Install, Layout};
use std::fmt;
use std::path::{Path, PathBuf};

/// No install, or more than one.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no SadTalker install found; looked in:\n{}\nrun sadfix inside the install, or pass --root PATH", list(.looked))]
    NotFound { looked: Vec<PathBuf> },
    #[error("more than one SadTalker install found:\n{}\npass --root PATH to pick one", list(.candidates))]
    Ambiguous { candidates: Vec<PathBuf> },
    #[error("--root {path}: no such directory")]
    NoSuchRoot { path: PathBuf },
}

fn list(paths: &[PathBuf]) -> impl fmt::Display + '_ {
    struct L<'a>(&'a [PathBuf]);
    impl fmt::Display for L<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let lines: Vec<String> = self
                .0
                .iter()
                .map(|p| format!("  {}", p.display()))
                .collect();
            f.write_str(&lines.join("\n"))
        }
    }
    L(paths)
}

/// Entry points, one of which a SadTalker directory has.
const ENTRIES: [&str; 3] = ["inference.py", "cli/inference.py", "src/gradio_demo.py"];
/// Markers of SadTalker's own source tree, one of which must be there too.
const MARKERS: [&str; 4] = [
    "src/utils/init_path.py",
    "src/config",
    "src/gradio_demo.py",
    "src/facerender",
];

/// Modules of SadTalker's `src/` that a pip package renaming it (`sadtalker-z`: `sadtalker/`)
/// keeps; such a package has no entry script (its users' apps import it).
const PACKAGE_MARKERS: [&str; 4] = [
    "__init__.py",
    "utils/init_path.py",
    "facerender/animate.py",
    "test_audio2coeff.py",
];

/// Whether `dir` looks like a SadTalker directory (facts, section 1).
pub fn is_install(dir: &Path) -> bool {
    ENTRIES.iter().any(|e| dir.join(e).is_file()) && MARKERS.iter().any(|m| dir.join(m).exists())
}

/// Whether `dir` is SadTalker's code installed as a Python package (`site-packages/sadtalker`).
pub fn is_package(dir: &Path) -> bool {
    PACKAGE_MARKERS.iter().all(|m| dir.join(m).is_file())
}

/// Find the install: `root` if given (the install itself or a host app around it), else the
/// nearest one walking up from `cwd`.
pub fn locate(root: Option<&Path>, cwd: &Path) -> Result<Install, InstallError> {
    if let Some(root) = root {
        if !root.is_dir() {
            return Err(InstallError::NoSuchRoot {
                path: root.to_path_buf(),
            });
        }
        let root = absolute(root);
        let mut looked = Vec::new();
        return match candidates_at(&root, &mut looked).as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(InstallError::NotFound { looked }),
            many => Err(ambiguous(many)),
        };
    }
    let cwd = absolute(cwd);
    let mut looked = Vec::new();
    for dir in cwd.ancestors() {
        match candidates_at(dir, &mut looked).as_slice() {
            [] => continue,
            [one] => return Ok(one.clone()),
            many => return Err(ambiguous(many)),
        }
    }
    Err(InstallError::NotFound { looked })
}

fn ambiguous(many: &[Install]) -> InstallError {
    InstallError::Ambiguous {
        candidates: many.iter().map(|i| i.root.clone()).collect(),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Installs at `dir`: `dir` itself, else the nested layouts a host app uses.
fn candidates_at(dir: &Path, looked: &mut Vec<PathBuf>) -> Vec<Install> {
    looked.push(dir.to_path_buf());
    if is_install(dir) {
        return vec![classify(dir)];
    }
    if is_package(dir) {
        return vec![package_install(dir, None)];
    }
    let mut found = Vec::new();
    let nested = [
        ("extensions/SadTalker", Layout::WebuiExtension),
        ("external/SadTalker", Layout::Vendored),
        ("SadTalker", Layout::Standalone),
    ];
    for (rel, layout) in nested {
        let path = dir.join(rel);
        looked.push(path.clone());
        if is_install(&path) {
            found.push(nested_install(&path, layout, dir));
        }
    }
    for venv in ["venv", ".venv"] {
        for path in site_packages(&dir.join(venv)) {
            let package = path.join("sadtalker");
            looked.push(package.clone());
            if is_package(&package) {
                found.push(package_install(&package, Some(dir)));
            }
        }
    }
    let nodes = dir.join("custom_nodes");
    if nodes.is_dir() {
        for node in sorted_dirs(&nodes) {
            let path = node.join("SadTalker");
            looked.push(path.clone());
            if is_install(&path) {
                found.push(nested_install(&path, Layout::ComfyNode, dir));
            }
        }
    }
    found
}

fn nested_install(path: &Path, layout: Layout, host: &Path) -> Install {
    let mut install = classify(path);
    if install.layout == Layout::Standalone {
        install.layout = layout;
    }
    if layout != Layout::Standalone {
        install.host = Some(host.to_path_buf());
    }
    install
}

/// The `site-packages` folders of a venv (`lib/python3.*/site-packages`).
fn site_packages(venv: &Path) -> Vec<PathBuf> {
    if !venv.join("pyvenv.cfg").is_file() {
        return Vec::new();
    }
    sorted_dirs(&venv.join("lib"))
        .into_iter()
        .filter(|d| {
            d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("python3"))
        })
        .map(|d| d.join("site-packages"))
        .filter(|d| d.is_dir())
        .collect()
}

/// A pip-installed package. Its app is the folder that was searched (the one holding the venv),
/// else the folder around the environment the package is installed in: SadTalker reads
/// `./checkpoints` and `./gfpgan/weights` from the app's working folder, not from the package.
fn package_install(dir: &Path, app: Option<&Path>) -> Install {
    let host = app.map(Path::to_path_buf).or_else(|| {
        dir.ancestors()
            .find(|a| a.join("pyvenv.cfg").is_file())
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    });
    Install {
        root: dir.to_path_buf(),
        layout: Layout::SitePackages,
        host,
    }
}

/// The layout of an install directory, judged from its own path and files.
fn classify(dir: &Path) -> Install {
    let parent = dir.parent();
    let parent_name = parent.and_then(|p| p.file_name()).and_then(|n| n.to_str());
    let grandparent = parent.and_then(Path::parent);
    let (layout, host) = match parent_name {
        Some("extensions") => (Layout::WebuiExtension, grandparent),
        Some("external") => (Layout::Vendored, grandparent),
        _ if grandparent
            .and_then(|g| g.file_name())
            .is_some_and(|n| n == "custom_nodes") =>
        {
            (Layout::ComfyNode, grandparent.and_then(Path::parent))
        }
        _ if !dir.join("inference.py").is_file() && dir.join("cli/inference.py").is_file() => {
            (Layout::CliWrapper, None)
        }
        _ => (Layout::Standalone, None),
    };
    Install {
        root: dir.to_path_buf(),
        layout,
        host: host.map(Path::to_path_buf),
    }
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn make_install(dir: &Path) {
        fs::create_dir_all(dir.join("src/utils")).unwrap();
        fs::write(dir.join("inference.py"), "").unwrap();
        fs::write(dir.join("src/utils/init_path.py"), "").unwrap();
    }

    #[test]
    fn walks_up_from_a_subdirectory() {
        let tmp = tempfile::tempdir().unwrap();
        make_install(tmp.path());
        let found = locate(None, &tmp.path().join("src/utils")).unwrap();
        assert_eq!(found.root, absolute(tmp.path()));
        assert_eq!(found.layout, Layout::Standalone);
    }

    #[test]
    fn finds_a_webui_extension_from_the_webui_root() {
        let tmp = tempfile::tempdir().unwrap();
        let ext = tmp.path().join("extensions/SadTalker");
        make_install(&ext);
        let found = locate(Some(tmp.path()), Path::new("/")).unwrap();
        assert_eq!(found.layout, Layout::WebuiExtension);
        assert_eq!(found.host, Some(absolute(tmp.path())));
    }

    #[test]
    fn comfy_node_and_vendored_layouts_are_recognised() {
        let tmp = tempfile::tempdir().unwrap();
        let node = tmp.path().join("comfy/custom_nodes/talker/SadTalker");
        make_install(&node);
        let found = locate(None, &node.join("src")).unwrap();
        assert_eq!(found.layout, Layout::ComfyNode);
        let app = tmp.path().join("app");
        make_install(&app.join("external/SadTalker"));
        assert_eq!(
            locate(Some(&app), Path::new("/")).unwrap().layout,
            Layout::Vendored
        );
    }

    fn make_package(site: &Path) -> PathBuf {
        let package = site.join("sadtalker");
        fs::create_dir_all(package.join("utils")).unwrap();
        fs::create_dir_all(package.join("facerender")).unwrap();
        for file in [
            "__init__.py",
            "aiy.py",
            "test_audio2coeff.py",
            "utils/init_path.py",
            "facerender/animate.py",
        ] {
            fs::write(package.join(file), "").unwrap();
        }
        package
    }

    #[test]
    fn a_pip_package_in_the_apps_venv_is_found_from_the_app() {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path().join("app");
        let venv = app.join(".venv");
        fs::create_dir_all(&venv).unwrap();
        fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let package = make_package(&venv.join("lib/python3.11/site-packages"));
        // The model data folder beside the app's script is not the package.
        fs::create_dir_all(app.join("sadtalker/config")).unwrap();
        let found = locate(None, &app).unwrap();
        assert_eq!(found.layout, Layout::SitePackages);
        assert_eq!(found.root, absolute(&package));
        assert_eq!(found.host, Some(absolute(&app)));
        assert_eq!(found.data_root(), absolute(&app));
        assert!(found.inference_script().is_none());
    }

    #[test]
    fn a_pip_package_given_as_root_belongs_to_the_folder_around_its_venv() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("env");
        fs::create_dir_all(&venv).unwrap();
        fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let package = make_package(&venv.join("lib/python3.11/site-packages"));
        let found = locate(Some(&package), Path::new("/")).unwrap();
        assert_eq!(found.layout, Layout::SitePackages);
        assert_eq!(found.host, Some(absolute(tmp.path())));
        // A copy outside any environment is its own data root.
        let copy = make_package(&tmp.path().join("copy"));
        let found = locate(Some(&copy), Path::new("/")).unwrap();
        assert_eq!(found.data_root(), absolute(&copy));
        assert_eq!((found.layout, found.host), (Layout::SitePackages, None));
    }

    #[test]
    fn two_candidates_are_an_error_naming_both() {
        let tmp = tempfile::tempdir().unwrap();
        make_install(&tmp.path().join("extensions/SadTalker"));
        make_install(&tmp.path().join("external/SadTalker"));
        let err = locate(Some(tmp.path()), Path::new("/")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("extensions/SadTalker") && text.contains("external/SadTalker"));
    }

    #[test]
    fn nothing_found_lists_where_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        let err = locate(Some(tmp.path()), Path::new("/")).unwrap_err();
        assert!(matches!(err, InstallError::NotFound { .. }));
        assert!(err.to_string().contains("extensions/SadTalker"));
    }
}
