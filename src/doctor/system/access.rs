//! What decides whether a printed fix runs as printed and what an NVML init error means: whether
//! doctor runs as root (then no `sudo`, which many images lack), the group and mode of the
//! driver's device nodes, the driver version of the loaded kernel module and of the NVML library
//! the loader finds, and the apt components the sources enable (Debian's driver is in
//! `non-free`).

use super::inputs::SystemInputs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Who runs doctor, and the driver's files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    /// The effective user is root: fixes carry no `sudo`.
    pub root: bool,
    /// `$USER` (or `$LOGNAME`), for `usermod`.
    pub user: Option<String>,
    /// The first of `/dev/nvidiactl`, `/dev/nvidia0`: its path, group name and mode bits.
    pub node: Option<DeviceNode>,
    /// The loaded kernel module's version (`/proc/driver/nvidia/version`, else
    /// `/sys/module/nvidia/version`).
    pub kernel_module: Option<String>,
    /// The NVML library's driver version, from the file `libnvidia-ml.so.1` resolves to
    /// (`libnvidia-ml.so.550.54.14`).
    pub nvml_library: Option<String>,
    /// Components of the enabled Debian/Ubuntu apt sources (`main`, `non-free`, ...); empty
    /// when no apt sources were read.
    pub apt_components: Vec<String>,
    /// The first apt sources file with a `main` component (where `non-free` goes).
    pub apt_main_file: Option<String>,
    /// The image this container runs, where the engine says (`image="..."` in podman's
    /// `/run/.containerenv`).
    pub container_image: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceNode {
    pub path: String,
    pub group: String,
    pub mode: u32,
}

pub fn gather(inputs: &SystemInputs, nvml_library: Option<&Path>) -> Access {
    let (components, apt_main_file) = apt_components(inputs);
    Access {
        // SAFETY: geteuid has no preconditions and cannot fail.
        root: unsafe { libc::geteuid() } == 0,
        user: (inputs.env)("USER")
            .or_else(|| (inputs.env)("LOGNAME"))
            .filter(|u| !u.is_empty()),
        node: device_node(inputs),
        kernel_module: kernel_module(inputs),
        nvml_library: nvml_library.and_then(|p| library_version(inputs, p)),
        apt_components: components,
        apt_main_file,
        container_image: container_image(inputs),
    }
}

fn device_node(inputs: &SystemInputs) -> Option<DeviceNode> {
    ["/dev/nvidiactl", "/dev/nvidia0"].iter().find_map(|abs| {
        let meta = std::fs::metadata(inputs.path(abs)).ok()?;
        Some(DeviceNode {
            path: abs.to_string(),
            group: group_name(inputs, meta.gid()),
            mode: meta.mode() & 0o777,
        })
    })
}

/// The group's name from `/etc/group`, else its number.
fn group_name(inputs: &SystemInputs, gid: u32) -> String {
    let groups = std::fs::read_to_string(inputs.path("/etc/group")).unwrap_or_default();
    groups
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            (id == gid).then(|| name.to_string())
        })
        .unwrap_or_else(|| gid.to_string())
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 ...` -> 550.54.14.
fn kernel_module(inputs: &SystemInputs) -> Option<String> {
    let read = |abs: &str| std::fs::read_to_string(inputs.path(abs)).ok();
    if let Some(text) = read("/proc/driver/nvidia/version") {
        let line = text.lines().find(|l| l.starts_with("NVRM version"))?;
        return line
            .split_whitespace()
            .find(|w| is_driver_version(w))
            .map(str::to_string);
    }
    read("/sys/module/nvidia/version")
        .map(|v| v.trim().to_string())
        .filter(|v| is_driver_version(v))
}

fn is_driver_version(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The version in the name of the file a `libnvidia-ml.so.1` link resolves to.
fn library_version(inputs: &SystemInputs, library: &Path) -> Option<String> {
    let real = std::fs::canonicalize(inputs.path(&library.to_string_lossy())).ok()?;
    let name = real.file_name()?.to_string_lossy().into_owned();
    let version = name.strip_prefix("libnvidia-ml.so.")?;
    is_driver_version(version).then(|| version.to_string())
}

/// Components of the apt sources: one-line `deb URI SUITE COMPONENT...` entries and deb822
/// `Components:` fields.
fn apt_components(inputs: &SystemInputs) -> (Vec<String>, Option<String>) {
    let mut files = vec!["/etc/apt/sources.list".to_string()];
    if let Ok(entries) = std::fs::read_dir(inputs.path("/etc/apt/sources.list.d")) {
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".list") || n.ends_with(".sources"))
            .collect();
        names.sort();
        files.extend(
            names
                .into_iter()
                .map(|n| format!("/etc/apt/sources.list.d/{n}")),
        );
    }
    let mut found: Vec<String> = Vec::new();
    let mut main_file = None;
    for file in files {
        let text = std::fs::read_to_string(inputs.path(&file)).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = if let Some(list) = line.strip_prefix("Components:") {
                list.split_whitespace().collect()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                rest.split_whitespace()
                    .filter(|w| !w.starts_with('['))
                    .skip(2)
                    .take_while(|w| !w.starts_with('#'))
                    .collect()
            } else {
                continue;
            };
            if words.contains(&"main") && main_file.is_none() {
                main_file = Some(file.clone());
            }
            for c in words {
                if !found.iter().any(|f| f == c) {
                    found.push(c.to_string());
                }
            }
        }
    }
    (found, main_file)
}

/// `image="..."` in podman's `/run/.containerenv`.
fn container_image(inputs: &SystemInputs) -> Option<String> {
    let text = std::fs::read_to_string(inputs.path("/run/.containerenv")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("image="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}
