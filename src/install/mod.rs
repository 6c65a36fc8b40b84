//! Where the SadTalker install is, what layout it has, its Python files and its interpreter.

mod discover;
pub mod files;
pub mod packages;
mod python;
mod shim;
mod which;

pub use discover::{is_install, is_package, locate, InstallError};
pub use files::python_files;
pub use python::{choose_python, choose_python_in, PythonChoice, PythonSource, Surroundings};
pub use shim::{Shim, ShimKind};
pub use which::{find_on_path, on_path};

use serde::Serialize;
use std::path::{Path, PathBuf};

/// How the install is embedded (facts, section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// A clone with `inference.py` at its root.
    Standalone,
    /// `extensions/SadTalker/` inside stable-diffusion-webui (runs `src/gradio_demo.py`).
    WebuiExtension,
    /// `external/SadTalker/` vendored inside another app.
    Vendored,
    /// `custom_nodes/<node>/SadTalker/` inside ComfyUI.
    ComfyNode,
    /// An API wrapper whose entry point is `cli/inference.py`.
    CliWrapper,
    /// SadTalker's code as a pip package in a venv's `site-packages` (`sadtalker-z`), imported
    /// by an app: no `inference.py`.
    SitePackages,
}

impl Layout {
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Standalone => "standalone clone",
            Layout::WebuiExtension => "stable-diffusion-webui extension",
            Layout::Vendored => "vendored in another app",
            Layout::ComfyNode => "ComfyUI custom node",
            Layout::CliWrapper => "API wrapper (cli/inference.py)",
            Layout::SitePackages => "pip package in site-packages",
        }
    }
}

/// A SadTalker install that was found on disk.
#[derive(Debug, Clone, Serialize)]
pub struct Install {
    /// The SadTalker directory itself (the one holding `src/`).
    pub root: PathBuf,
    pub layout: Layout,
    /// The app that hosts it (webui, vendoring app, ComfyUI), if any.
    pub host: Option<PathBuf>,
}

impl Install {
    /// The generation entry point: `inference.py`, or `cli/inference.py` for API wrappers.
    pub fn inference_script(&self) -> Option<PathBuf> {
        ["inference.py", "cli/inference.py"]
            .iter()
            .map(|p| self.root.join(p))
            .find(|p| p.is_file())
    }

    /// Where SadTalker reads `checkpoints/` and `gfpgan/weights/`: the install, or for a pip
    /// package the app's folder (its working folder when it runs).
    pub fn data_root(&self) -> &Path {
        match (self.layout, &self.host) {
            (Layout::SitePackages, Some(app)) => app,
            _ => &self.root,
        }
    }

    /// A path relative to the install root, for display.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// Where sadfix keeps its journal, backups and lock for this install.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".sadfix")
    }
}
