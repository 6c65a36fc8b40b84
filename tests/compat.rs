//! `patch --compat` and `--offload-frames` on the fixture install in SadTalker's shapes: each
//! fix is snapshotted, re-parses, a second run changes nothing, the "already fixed" recipe
//! shows the fix, and revert gives back every byte (inside the install and in site-packages).
//! Gates are judged on package facts given here; `tests/compat_cli.rs` reads them with Python.

mod util;

use sadfix::install::{locate, Install};
use sadfix::patch::apply::commit;
use sadfix::patch::catalog;
use sadfix::patch::gate::Installed;
use sadfix::patch::judge::judge_sites;
use sadfix::patch::plan::plan_gated;
use sadfix::patch::recipe::AlreadyApplied;
use sadfix::patch::scan::scan_report;
use sadfix::patch::source::Source;
use sadfix::patch::{revert, site_packages, Action, PatchOptions, Site, SiteKind};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const COMPAT: PatchOptions = PatchOptions {
    compat: true,
    ..PatchOptions::NONE
};
const COMPAT_OUTSIDE: PatchOptions = PatchOptions {
    compat: true,
    site_packages: true,
    ..PatchOptions::NONE
};
const OFFLOAD: PatchOptions = PatchOptions {
    offload_frames: true,
    ..PatchOptions::NONE
};

fn compat_fixtures() -> PathBuf {
    util::fixtures().join("compat")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&entry, &dest).unwrap();
    }
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The fixture install and one package set, copied into a temporary directory.
struct World {
    _tmp: tempfile::TempDir,
    install: Install,
    packages: PathBuf,
}

fn world(packages: &str) -> World {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &compat_fixtures().join("SadTalker"),
        &tmp.path().join("SadTalker"),
    );
    copy_dir(
        &compat_fixtures().join(packages),
        &tmp.path().join("site-packages"),
    );
    let install = locate(Some(&tmp.path().join("SadTalker")), Path::new("/")).unwrap();
    let packages = tmp.path().join("site-packages");
    World {
        _tmp: tmp,
        install,
        packages,
    }
}

/// The facts the probe reads from a package set's metadata, read here the same way.
fn facts(world: &World) -> Installed {
    let mut versions = BTreeMap::new();
    for e in fs::read_dir(&world.packages).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".dist-info") {
            let (n, v) = stem.split_once('-').unwrap();
            let key = match n.to_lowercase().replace('_', "-").as_str() {
                "pillow" => "Pillow".to_string(),
                "tts" => "TTS".to_string(),
                "face-alignment" => "face_alignment".to_string(),
                other => other.to_string(),
            };
            versions.insert(key, Some(v.to_string()));
        }
    }
    let dirs = ["basicsr", "face_alignment"]
        .iter()
        .map(|p| (p.to_string(), world.packages.join(p)))
        .collect();
    Installed {
        source: "fixture metadata".into(),
        python: None,
        python_version: Some("3.11.7".into()),
        versions,
        dirs,
    }
}

fn all_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir(root)
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == ".sadfix"))
        .map(|p| {
            (
                p.strip_prefix(root).unwrap().to_path_buf(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn sites(world: &World, installed: &Installed) -> Vec<Site> {
    let mut sites = scan_report(&world.install).unwrap().sites;
    judge_sites(catalog::shipped().unwrap(), &mut sites, installed);
    if let Some(outside) = site_packages::plan(&PatchOptions::NONE, installed).unwrap() {
        sites.extend(outside.plan.sites);
    }
    sites.retain(|s| matches!(s.kind, SiteKind::Compat | SiteKind::OffloadFrames));
    sites
}

/// The four checks on one run; returns the fixed texts of the changed files.
fn roundtrip(world: &World, options: PatchOptions, label: &str) -> Vec<(String, String)> {
    let installed = facts(world);
    let before_install = all_files(&world.install.root);
    let before_outside = all_files(&world.packages);
    let first = plan_gated(&world.install, &options, &installed).unwrap();
    assert!(
        first.skipped.is_empty(),
        "{label}: skipped {:?}",
        first.skipped
    );
    commit(&world.install, &first).unwrap();
    let outside = site_packages::plan(&options, &installed).unwrap();
    if options.site_packages {
        site_packages::commit(&world.install, outside.as_ref().unwrap()).unwrap();
    }
    let mut fixed = Vec::new();
    let mut recipes_used = Vec::new();
    let outside_changes = outside
        .iter()
        .filter(|_| options.site_packages)
        .flat_map(|o| {
            o.plan
                .changes
                .iter()
                .map(|c| (world.packages.join(&c.rel), c))
        });
    let inside = first
        .changes
        .iter()
        .map(|c| (world.install.root.join(&c.rel), c));
    for (path, change) in inside.chain(outside_changes) {
        let bytes = fs::read(&path).unwrap();
        let src = Source::parse(&bytes).unwrap();
        assert_eq!(
            src.syntax_error(),
            None,
            "{label}: {} re-parses",
            path.display()
        );
        fixed.push((
            change.rel.display().to_string(),
            String::from_utf8(bytes).unwrap(),
        ));
        recipes_used.extend(change.fixes.iter().map(|f| f.recipe.clone()));
    }
    let after = sites(world, &installed);
    let catalog = catalog::shipped().unwrap();
    for id in &recipes_used {
        if let Some(AlreadyApplied::Recipe(marker)) = &catalog.get(id).unwrap().already_applied {
            assert!(
                after.iter().any(
                    |s| s.recipe.as_deref() == Some(marker) && s.action == Action::AlreadyFixed
                ),
                "{label}: after {id} the code shows as {marker}"
            );
        }
    }
    let second = plan_gated(&world.install, &options, &installed).unwrap();
    assert!(
        second.changes.is_empty(),
        "{label}: a second run changes {:?} again:\n{}",
        second.changes.first().map(|c| &c.rel),
        second.changes.first().map_or("", |c| c.after.as_str())
    );
    if options.site_packages {
        let again = site_packages::plan(&options, &installed).unwrap().unwrap();
        assert!(
            again.plan.changes.is_empty(),
            "{label}: site-packages again"
        );
    }
    revert(&world.install, false).unwrap();
    assert_eq!(
        all_files(&world.install.root),
        before_install,
        "{label}: revert inside"
    );
    assert_eq!(
        all_files(&world.packages),
        before_outside,
        "{label}: revert outside"
    );
    fixed
}

fn snap(fixed: &[(String, String)], label: &str) {
    for (file, text) in fixed {
        let name = format!("{label}-{}", file.replace('/', "_").trim_end_matches(".py"));
        insta::assert_snapshot!(name, text);
    }
}

fn fixed_files(fixed: &[(String, String)]) -> Vec<&str> {
    fixed.iter().map(|(f, _)| f.as_str()).collect()
}

#[test]
fn the_drifted_packages_get_every_code_fix_with_site_packages() {
    let w = world("packages-new");
    let fixed = roundtrip(&w, COMPAT_OUTSIDE, "new");
    assert_eq!(
        fixed_files(&fixed),
        [
            "app_sadtalker.py",
            "src/face3d/extract_kp_videos.py",
            "src/face3d/util/my_awing_arch.py",
            "src/face3d/util/preprocess.py",
            "src/facerender/animate.py",
            "src/utils/croper.py",
            "src/utils/preprocess.py",
            "src/utils/text2speech.py",
            "basicsr/data/degradations.py",
        ]
    );
    snap(&fixed, "new");
}

#[test]
fn without_site_packages_basicsr_is_listed_not_edited() {
    let w = world("packages-new");
    let fixed = roundtrip(&w, COMPAT, "new-inside");
    assert!(!fixed_files(&fixed).contains(&"basicsr/data/degradations.py"));
    let installed = facts(&w);
    let outside = site_packages::plan(&COMPAT, &installed).unwrap().unwrap();
    assert_eq!(
        outside.plan.changes.len(),
        1,
        "planned, to say it is needed"
    );
}

#[test]
fn the_pins_need_nothing_and_say_why() {
    let w = world("packages-old");
    let installed = facts(&w);
    let fixed = roundtrip(&w, COMPAT_OUTSIDE, "old");
    assert_eq!(fixed_files(&fixed), Vec::<&str>::new());
    let listed = sites(&w, &installed);
    let numpy = listed
        .iter()
        .find(|s| s.recipe.as_deref() == Some("numpy-ragged-t"))
        .unwrap();
    assert_eq!(numpy.action, Action::NotNeeded);
    assert_eq!(
        numpy.gate.as_deref(),
        Some("numpy >= 1.24: not needed (numpy 1.23.5)")
    );
    let fa = listed
        .iter()
        .find(|s| s.recipe.as_deref() == Some("face-alignment-2d"))
        .unwrap();
    assert_eq!(fa.action, Action::NotNeeded, "{:?}", fa.gate);
}

#[test]
fn numpy_126_gets_the_numpy_124_fixes_only() {
    let w = world("packages-numpy126");
    let fixed = roundtrip(&w, COMPAT_OUTSIDE, "numpy126");
    assert_eq!(
        fixed_files(&fixed),
        [
            "src/face3d/util/my_awing_arch.py",
            "src/face3d/util/preprocess.py"
        ]
    );
    let pre = &fixed[1].1;
    assert!(pre.contains("axis=0).reshape(-1)"));
    assert!(
        pre.contains("category=np.VisibleDeprecationWarning"),
        "numpy 2 gate"
    );
}

#[test]
fn every_hand_fix_of_trans_params_ends_in_the_one_form() {
    for variant in [
        "index",
        "float",
        "object",
        "item",
        "asscalar",
        "exceptions",
        "pr1045-float",
    ] {
        let w = world("packages-new");
        let case = compat_fixtures().join(format!("variants/preprocess-{variant}.py"));
        fs::copy(&case, w.install.root.join("src/face3d/util/preprocess.py")).unwrap();
        let fixed = roundtrip(&w, COMPAT, variant);
        let (_, text) = fixed
            .iter()
            .find(|(f, _)| f == "src/face3d/util/preprocess.py")
            .unwrap();
        assert!(
            text.contains("    trans_params = np.array([w0, h0, s, t[0], t[1]])\n"),
            "{variant}: {text}"
        );
        assert!(text.contains("t = np.stack([sTx, sTy], axis=0).reshape(-1)\n"));
        insta::assert_snapshot!(format!("variant-{variant}"), text);
    }
}

#[test]
fn offload_frames_keeps_each_batch_on_the_host() {
    let w = world("packages-old");
    let fixed = roundtrip(&w, OFFLOAD, "offload");
    assert_eq!(
        fixed_files(&fixed),
        ["src/facerender/modules/make_animation.py"]
    );
    assert!(fixed[0]
        .1
        .contains("predictions.append(out['prediction'].cpu())"));
    snap(&fixed, "offload");
}
