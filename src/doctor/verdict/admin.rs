//! Fixes that change the machine, written to run as printed where doctor ran: `sudo` only when
//! not root, the distribution's own package names (from `/etc/os-release`) with the step that
//! enables the component they live in when the sources lack it, and, in a container, the
//! host-side flag (a command only where the image is known). Imports no other verdict file.

use crate::doctor::system::SystemFacts;

/// The steps joined with `&&`, each prefixed with `sudo` unless doctor runs as root.
pub fn as_root(system: &SystemFacts, steps: &[&str]) -> String {
    let sudo = if system.access.root { "" } else { "sudo " };
    steps
        .iter()
        .map(|s| format!("{sudo}{s}"))
        .collect::<Vec<_>>()
        .join(" && ")
}

fn is(system: &SystemFacts, id: &str) -> bool {
    system.os_ids.iter().any(|o| o == id)
}

/// Debian's driver lives in `non-free` (its firmware in `non-free-firmware`, Debian 12 on).
const DEBIAN_COMPONENTS: &str = "contrib non-free non-free-firmware";

/// The step that adds `contrib non-free non-free-firmware` to the Debian sources, when the
/// enabled components lack `non-free`.
fn debian_enable_non_free(system: &SystemFacts) -> Option<String> {
    let access = &system.access;
    if access.apt_components.iter().any(|c| c == "non-free") {
        return None;
    }
    let file = access.apt_main_file.as_deref()?;
    let field = if file.ends_with(".sources") {
        "^Components:"
    } else {
        "^deb "
    };
    Some(format!(
        "sed -i -E '/{field}/ s/ (contrib|non-free-firmware|non-free)\\b//g; /{field}/ s/$/ {DEBIAN_COMPONENTS}/' {file}"
    ))
}

/// The distribution's command for the NVIDIA driver, then a reboot; a sentence where no
/// distribution command is known.
pub fn driver_install(system: &SystemFacts) -> String {
    if is(system, "ubuntu") {
        return as_root(
            system,
            &[
                "apt-get update",
                "apt-get install -y ubuntu-drivers-common",
                "ubuntu-drivers install",
                "reboot",
            ],
        );
    }
    if is(system, "debian") {
        let enable = debian_enable_non_free(system);
        let mut steps: Vec<&str> = enable.iter().map(String::as_str).collect();
        steps.extend([
            "apt-get update",
            "apt-get install -y linux-headers-$(dpkg --print-architecture) nvidia-driver firmware-misc-nonfree",
            "reboot",
        ]);
        return as_root(system, &steps);
    }
    if is(system, "fedora") {
        // akmod-nvidia is in RPM Fusion's non-free repository.
        return as_root(
            system,
            &[
                "dnf install -y https://mirrors.rpmfusion.org/free/fedora/rpmfusion-free-release-$(rpm -E %fedora).noarch.rpm https://mirrors.rpmfusion.org/nonfree/fedora/rpmfusion-nonfree-release-$(rpm -E %fedora).noarch.rpm",
                "dnf install -y akmod-nvidia",
                "reboot",
            ],
        );
    }
    if is(system, "arch") {
        return as_root(system, &["pacman -S --noconfirm nvidia", "reboot"]);
    }
    "install the NVIDIA driver from https://www.nvidia.com/Download/index.aspx, then reboot".into()
}

/// Load the installed driver's kernel module; where it is not built for the running kernel,
/// the distribution's step that builds it.
pub fn load_module(system: &SystemFacts) -> (String, Option<String>) {
    let build = if is(system, "ubuntu") || is(system, "debian") {
        Some(format!(
            "if modprobe says the module is not found, it is not built for the running kernel: {}",
            as_root(
                system,
                &[
                    "apt-get install -y linux-headers-$(uname -r)",
                    "dpkg-reconfigure nvidia-kernel-dkms"
                ]
            )
        ))
    } else if is(system, "fedora") {
        Some(format!(
            "if modprobe says the module is not found, it is not built for the running kernel: {}",
            as_root(system, &["akmods --force", "reboot"])
        ))
    } else {
        None
    };
    (as_root(system, &["modprobe nvidia"]), build)
}

/// A reboot, as a command.
pub fn reboot(system: &SystemFacts) -> String {
    as_root(system, &["reboot"])
}

/// How to install a tool the distribution packages (`ffmpeg`); a sentence elsewhere.
pub fn tool_install(system: &SystemFacts, tool: &str, reinstall: bool) -> String {
    let (apt, dnf) = if reinstall {
        ("apt-get install --reinstall -y", "dnf reinstall -y")
    } else {
        ("apt-get install -y", "dnf install -y")
    };
    if is(system, "debian") || is(system, "ubuntu") {
        return as_root(system, &[&format!("{apt} {tool}")]);
    }
    if is(system, "fedora") {
        // Fedora's own build is `ffmpeg-free`; `ffmpeg` itself is in RPM Fusion.
        let name = if tool == "ffmpeg" {
            "ffmpeg-free"
        } else {
            tool
        };
        return as_root(system, &[&format!("{dnf} {name}")]);
    }
    if is(system, "arch") {
        return as_root(system, &[&format!("pacman -S --noconfirm {tool}")]);
    }
    if is(system, "alpine") {
        return as_root(system, &[&format!("apk add {tool}")]);
    }
    format!("install {tool} with the distribution's package manager")
}

/// A container started without the GPU: the flag that gives it one, for its host. A command
/// only when the image is known (podman writes it into `/run/.containerenv`).
pub fn container_fix(system: &SystemFacts) -> String {
    let kube = system.container.iter().any(|s| s.contains("kubepods"));
    if kube {
        return "request the GPU in the pod's spec (resources.limits: nvidia.com/gpu: 1), with the NVIDIA device plugin on the cluster".into();
    }
    if let Some(image) = &system.access.container_image {
        return format!(
            "on the host: podman run --device nvidia.com/gpu=all {}",
            crate::doctor::shell::quote(image)
        );
    }
    "on the host, add `--gpus all` to the `docker run` that starts this container (`--device nvidia.com/gpu=all` for podman), with the NVIDIA Container Toolkit installed there".into()
}
