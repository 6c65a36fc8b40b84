//! System facts read from a constructed filesystem root: WSL, the loader path, DRM vendors,
//! containers and the driver's device nodes.
use super::*;
use std::fs;

fn write(root: &Path, abs: &str, text: &str) {
    let path = root.join(abs.trim_start_matches('/'));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn wsl_is_recognised_with_its_library_path_from_ld_so_conf() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "/proc/version",
        "Linux version 5.15.133.1-microsoft-standard-WSL2",
    );
    write(root, "/dev/dxg", "");
    write(root, "/etc/ld.so.conf.d/ld.wsl.conf", "/usr/lib/wsl/lib\n");
    write(
        root,
        "/etc/os-release",
        "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n",
    );
    write(root, "/usr/lib/wsl/lib/libnvidia-ml.so.1", "");
    let env = |var: &str| (var == "WSL_DISTRO_NAME").then(|| "Ubuntu".to_string());
    let facts = gather(&SystemInputs {
        env: &env,
        fs_root: root.to_path_buf(),
    });
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
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "/.dockerenv", "");
    write(
        root,
        "/proc/1/cgroup",
        "0::/system.slice/docker-4f1e.scope\n",
    );
    write(root, "/dev/nvidiactl", "");
    write(root, "/dev/nvidia0", "");
    write(root, "/dev/null", "");
    let facts = gather(&SystemInputs {
        env: &|_: &str| None,
        fs_root: root.to_path_buf(),
    });
    assert_eq!(
        facts.container,
        ["/.dockerenv exists", "/proc/1/cgroup names docker"]
    );
    assert_eq!(facts.nvidia_nodes, ["/dev/nvidia0", "/dev/nvidiactl"]);
    assert!(facts.os_ids.is_empty());
}

#[test]
fn a_plain_linux_box_shows_no_wsl_and_lists_drm_vendors_and_cuda_env() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "/proc/version",
        "Linux version 6.1.0-18-amd64 (Debian)",
    );
    write(root, "/sys/class/drm/card0/device/vendor", "0x1002\n");
    write(root, "/sys/class/drm/card0-DP-1/device/vendor", "0x1002\n");
    write(root, "/usr/local/cuda/lib64/stubs/libnvidia-ml.so.1", "");
    write(root, "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", "");
    let env = |var: &str| match var {
        "CUDA_VISIBLE_DEVICES" => Some("-1".to_string()),
        "LD_LIBRARY_PATH" => Some("/usr/local/cuda/lib64/stubs:".to_string()),
        _ => None,
    };
    let facts = gather(&SystemInputs {
        env: &env,
        fs_root: root.to_path_buf(),
    });
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
