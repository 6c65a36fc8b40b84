//! System facts read from a constructed filesystem root: WSL, the loader path, DRM vendors,
//! containers and the driver's device nodes.
use super::*;
use std::fs;

/// The facts gathered from a fresh root holding `files` (absolute path, contents), with `env`
/// as the environment.
fn gather_from(files: &[(&str, &str)], env: &dyn Fn(&str) -> Option<String>) -> SystemFacts {
    let tmp = tempfile::tempdir().unwrap();
    for (abs, text) in files {
        let path = tmp.path().join(abs.trim_start_matches('/'));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    gather(&SystemInputs {
        env,
        fs_root: tmp.path().to_path_buf(),
    })
}

#[test]
fn wsl_is_recognised_with_its_library_path_from_ld_so_conf() {
    let facts = gather_from(
        &[
            (
                "/proc/version",
                "Linux version 5.15.133.1-microsoft-standard-WSL2",
            ),
            ("/dev/dxg", ""),
            ("/etc/ld.so.conf.d/ld.wsl.conf", "/usr/lib/wsl/lib\n"),
            (
                "/etc/os-release",
                "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n",
            ),
            ("/usr/lib/wsl/lib/libnvidia-ml.so.1", ""),
        ],
        &|var| (var == "WSL_DISTRO_NAME").then(|| "Ubuntu".to_string()),
    );
    let wsl = facts.wsl.expect("WSL");
    assert!(wsl.proc_version && wsl.dxg);
    assert_eq!(wsl.distro.as_deref(), Some("Ubuntu"));
    assert_eq!(
        facts.wsl_lib_on_loader_path.as_deref(),
        Some("/etc/ld.so.conf.d/ld.wsl.conf")
    );
    assert_eq!(
        facts.nvml_libraries,
        vec![PathBuf::from("/usr/lib/wsl/lib/libnvidia-ml.so.1")]
    );
    assert_eq!(facts.os_ids, ["ubuntu", "debian"]);
    assert!(facts.container.is_empty() && facts.nvidia_nodes.is_empty());
}

#[test]
fn a_container_and_the_driver_device_nodes_are_seen() {
    let facts = gather_from(
        &[
            ("/.dockerenv", ""),
            ("/proc/1/cgroup", "0::/system.slice/docker-4f1e.scope\n"),
            ("/dev/nvidiactl", ""),
            ("/dev/nvidia0", ""),
            ("/dev/null", ""),
        ],
        &|_| None,
    );
    assert_eq!(
        facts.container,
        ["/.dockerenv exists", "/proc/1/cgroup names docker"]
    );
    assert_eq!(facts.nvidia_nodes, ["/dev/nvidia0", "/dev/nvidiactl"]);
    assert!(facts.os_ids.is_empty());
}

#[test]
fn a_plain_linux_box_shows_no_wsl_and_lists_drm_vendors_and_cuda_env() {
    let facts = gather_from(
        &[
            ("/proc/version", "Linux version 6.1.0-18-amd64 (Debian)"),
            ("/sys/class/drm/card0/device/vendor", "0x1002\n"),
            ("/sys/class/drm/card0-DP-1/device/vendor", "0x1002\n"),
            ("/usr/local/cuda/lib64/stubs/libnvidia-ml.so.1", ""),
            ("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", ""),
        ],
        &|var| match var {
            "CUDA_VISIBLE_DEVICES" => Some("-1".to_string()),
            "LD_LIBRARY_PATH" => Some("/usr/local/cuda/lib64/stubs:".to_string()),
            _ => None,
        },
    );
    assert!(facts.wsl.is_none());
    assert_eq!(facts.drm_gpus.len(), 1);
    assert_eq!(facts.drm_gpus[0].vendor(), "AMD");
    assert_eq!(facts.env.visible_devices.as_deref(), Some("-1"));
    assert_eq!(
        facts.nvml_libraries[0],
        PathBuf::from("/usr/local/cuda/lib64/stubs/libnvidia-ml.so.1")
    );
    assert_eq!(facts.nvml_libraries.len(), 2);
}

#[test]
fn driver_versions_apt_components_and_the_container_image_are_read() {
    let facts = gather_from(
        &[
            (
                "/proc/driver/nvidia/version",
                "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n",
            ),
            (
                "/etc/apt/sources.list.d/debian.sources",
                "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n",
            ),
            ("/etc/apt/sources.list", "deb [arch=amd64] http://example.org/x bookworm contrib # extra\n"),
            ("/run/.containerenv", "engine=\"podman-4.3.1\"\nname=\"st\"\nimage=\"localhost/sadtalker:cu121\"\n"),
        ],
        &|_| None,
    );
    let access = facts.access;
    assert_eq!(access.kernel_module.as_deref(), Some("550.54.14"));
    assert_eq!(access.apt_components, ["contrib", "main"]);
    assert_eq!(
        access.apt_main_file.as_deref(),
        Some("/etc/apt/sources.list.d/debian.sources")
    );
    assert_eq!(
        access.container_image.as_deref(),
        Some("localhost/sadtalker:cu121")
    );
}

#[test]
fn the_nvml_librarys_version_comes_from_the_file_it_resolves_to() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("usr/lib/x86_64-linux-gnu");
    fs::create_dir_all(&lib).unwrap();
    fs::write(lib.join("libnvidia-ml.so.550.90.07"), "").unwrap();
    std::os::unix::fs::symlink("libnvidia-ml.so.550.90.07", lib.join("libnvidia-ml.so.1")).unwrap();
    let facts = gather(&SystemInputs {
        env: &|_| None,
        fs_root: tmp.path().to_path_buf(),
    });
    assert_eq!(facts.access.nvml_library.as_deref(), Some("550.90.07"));
    assert_eq!(facts.access.kernel_module, None);
}
