use super::*;
use std::os::unix::fs::symlink;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn dist(site: &Path, dir: &str, version: &str) {
    write(
        &site.join(dir).join("METADATA"),
        &format!("Metadata-Version: 2.1\nName: x\nVersion: {version}\n\nVersion: 0.0 (body)\n"),
    );
}

/// A base interpreter at `prefix/bin/python3.11` with `python3` linking to it.
fn base(prefix: &Path) -> PathBuf {
    write(&prefix.join("bin/python3.11"), "\x7fELF");
    symlink("python3.11", prefix.join("bin/python3")).unwrap();
    std::fs::create_dir_all(prefix.join("lib/python3.11/site-packages")).unwrap();
    prefix.join("bin/python3")
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn a_venv_reads_its_own_site_packages_and_the_base_only_when_the_cfg_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let python = base(&tmp.path().join("base"));
    let base_site = tmp.path().join("base/lib/python3.11/site-packages");
    dist(&base_site, "numpy-1.23.5.dist-info", "1.23.5");
    dist(&base_site, "gradio-4.0.0.dist-info", "4.0.0");
    let venv = tmp.path().join("venv");
    let site = venv.join("lib/python3.11/site-packages");
    dist(&site, "numpy-2.4.0.dist-info", "2.4.0");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    symlink(&python, venv.join("bin/python")).unwrap();
    let home = tmp.path().join("base/bin");
    let cfg = |system: &str| {
        format!(
            "home = {}\ninclude-system-site-packages = {system}\nversion = 3.11.7\n",
            home.display()
        )
    };
    let script = tmp.path().join("SadTalker");

    write(&venv.join("pyvenv.cfg"), &cfg("false"));
    let got = sys_path(&venv.join("bin/python"), &script, &no_env).unwrap();
    assert_eq!(got.version.as_deref(), Some("3.11.7"));
    assert_eq!(got.dirs, vec![script.clone(), site.clone()]);
    let v = versions(&got.dirs, &["numpy", "gradio"]);
    assert_eq!(v["numpy"].as_deref(), Some("2.4.0"));
    assert_eq!(v["gradio"], None);

    write(&venv.join("pyvenv.cfg"), &cfg("true"));
    let got = sys_path(&venv.join("bin/python"), &script, &no_env).unwrap();
    assert_eq!(got.dirs, vec![script, site, base_site]);
    let v = versions(&got.dirs, &["numpy", "gradio"]);
    assert_eq!(
        v["numpy"].as_deref(),
        Some("2.4.0"),
        "the venv's copy comes first"
    );
    assert_eq!(v["gradio"].as_deref(), Some("4.0.0"));
}

#[test]
fn a_base_interpreter_gets_pythonpath_the_user_site_and_pth_paths_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("conda");
    let python = base(&prefix);
    let site = prefix.join("lib/python3.11/site-packages");
    let extra = tmp.path().join("src/basicsr-checkout");
    std::fs::create_dir_all(extra.join("basicsr")).unwrap();
    write(&extra.join("basicsr/__init__.py"), "");
    write(
        &site.join("easy.pth"),
        &format!(
            "# a comment\nimport sys; sys.x = 1\n{}\nmissing-dir\n",
            extra.display()
        ),
    );
    let home = tmp.path().join("home");
    let user = home.join(".local/lib/python3.11/site-packages");
    std::fs::create_dir_all(&user).unwrap();
    let pythonpath = tmp.path().join("pp");
    let env = |k: &str| match k {
        "HOME" => Some(home.display().to_string()),
        "PYTHONPATH" => Some(pythonpath.display().to_string()),
        _ => None,
    };
    let got = sys_path(&python, tmp.path(), &env).unwrap();
    assert_eq!(got.version.as_deref(), Some("3.11"));
    assert_eq!(
        got.dirs,
        vec![
            tmp.path().to_path_buf(),
            pythonpath.clone(),
            user,
            site,
            extra.clone()
        ]
    );
    assert_eq!(
        package_dir(&got.dirs, "basicsr"),
        Some(extra.join("basicsr"))
    );
    assert_eq!(package_dir(&got.dirs, "face_alignment"), None);
    let no_user = |k: &str| {
        (k == "PYTHONNOUSERSITE")
            .then(|| "1".to_string())
            .or_else(|| env(k))
    };
    let got = sys_path(&python, tmp.path(), &no_user).unwrap();
    assert!(!got.dirs.iter().any(|d| d.starts_with(&home)));
}

#[test]
fn names_compare_as_pep_503_says_and_egg_info_and_file_names_count() {
    assert_eq!(normalize("Face_Alignment"), "face-alignment");
    assert_eq!(normalize("imageio.ffmpeg"), "imageio-ffmpeg");
    assert_eq!(normalize("a-_.b"), "a-b");
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().to_path_buf();
    dist(&site, "face_alignment-1.3.5.dist-info", "1.3.5");
    write(
        &site.join("Pillow-9.4.0.egg-info/PKG-INFO"),
        "Name: Pillow\nVersion: 9.4.0\n",
    );
    write(
        &site.join("imageio_ffmpeg-0.4.9.egg-info"),
        "Name: imageio-ffmpeg\nVersion: 0.4.9\n",
    );
    std::fs::create_dir_all(site.join("TTS-0.22.0.dist-info")).unwrap();
    let v = versions(
        &[site],
        &["face_alignment", "Pillow", "imageio-ffmpeg", "TTS", "torch"],
    );
    assert_eq!(v["face_alignment"].as_deref(), Some("1.3.5"));
    assert_eq!(v["Pillow"].as_deref(), Some("9.4.0"));
    assert_eq!(v["imageio-ffmpeg"].as_deref(), Some("0.4.9"));
    assert_eq!(
        v["TTS"].as_deref(),
        Some("0.22.0"),
        "from the directory name"
    );
    assert_eq!(v["torch"], None);
}

#[test]
fn a_shim_script_is_refused_and_debian_reads_dist_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let shim = tmp.path().join("python3");
    write(
        &shim,
        "#!/usr/bin/env bash\nexec pyenv exec python3 \"$@\"\n",
    );
    assert_eq!(
        sys_path(&shim, tmp.path(), &no_env),
        Err(LayoutError::Script(shim.clone()))
    );
    let sites = prefix_sites(Path::new("/usr"), "3.11");
    for d in &sites {
        assert!(d.is_dir(), "{}", d.display());
    }
    if Path::new("/usr/lib/python3/dist-packages").is_dir() {
        assert!(sites.contains(&PathBuf::from("/usr/lib/python3/dist-packages")));
    }
}
