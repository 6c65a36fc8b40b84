//! Files as they are on disk: a symlinked `inference.py` is patched and reverted through the
//! link, a hard-linked one is refused untouched, the install lock goes when released, and a
//! file that is not UTF-8 is refused with the offending byte, never rewritten.

mod util;

use sadfix::install::{locate, Install};
use sadfix::patch::apply::commit;
use sadfix::patch::scan::scan_report;
use sadfix::patch::{plan, revert, PatchError, PatchOptions};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const FORCE: PatchOptions = PatchOptions {
    force_gpu: true,
    batch_size: None,
    cuda_timeout: None,
    ..PatchOptions::NONE
};

/// An install whose `inference.py` is written by `place` (given the install root).
fn install(place: impl FnOnce(&Path)) -> (tempfile::TempDir, Install) {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("src/utils")).unwrap();
    fs::write(tmp.path().join("src/utils/init_path.py"), "").unwrap();
    place(tmp.path());
    let install = locate(Some(tmp.path()), Path::new("/")).unwrap();
    (tmp, install)
}

fn family_a() -> Vec<u8> {
    fs::read(util::fixtures().join("cases/family-a.py")).unwrap()
}

#[test]
fn a_symlinked_inference_py_stays_a_link_through_patch_and_revert() {
    let original = family_a();
    let (_tmp, install) = install(|root| {
        fs::create_dir_all(root.join("shared")).unwrap();
        fs::write(root.join("shared/inference.py"), &original).unwrap();
        std::os::unix::fs::symlink("shared/inference.py", root.join("inference.py")).unwrap();
    });
    let link = install.root.join("inference.py");
    let target = install.root.join("shared/inference.py");
    let is_link = || {
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    };

    let first = plan(&install, &FORCE).unwrap();
    assert_eq!(
        first.changes.len(),
        1,
        "the link and its target are one file"
    );
    assert_eq!(first.changes[0].rel, Path::new("inference.py"));
    commit(&install, &first).unwrap_or_else(|e| panic!("{e}"));
    assert!(is_link(), "the link is still a link after patch");
    let fixed = fs::read_to_string(&target).unwrap();
    assert!(fixed.contains("if not args.cpu:"), "{fixed}");
    assert!(plan(&install, &FORCE).unwrap().changes.is_empty());

    revert(&install, false).unwrap();
    assert!(is_link(), "the link is still a link after revert");
    assert_eq!(fs::read(&target).unwrap(), original);
}

#[test]
fn a_hard_linked_file_is_refused_and_keeps_both_names() {
    let original = family_a();
    let (tmp, install) = install(|root| {
        fs::write(root.join("inference.py"), &original).unwrap();
        fs::hard_link(root.join("inference.py"), root.join("inference_copy.py")).unwrap();
    });
    let file = install.root.join("inference.py");
    let err = commit(&install, &plan(&install, &FORCE).unwrap()).unwrap_err();
    assert!(
        matches!(err, PatchError::HardLinked { links: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("hard links"), "{err}");
    assert_eq!(fs::read(&file).unwrap(), original);
    assert_eq!(fs::metadata(&file).unwrap().nlink(), 2);
    assert!(!tmp.path().join(".sadfix/lock").exists());
}

#[test]
fn the_lock_file_goes_when_the_patch_and_the_revert_are_done() {
    let original = family_a();
    let (_tmp, install) = install(|root| fs::write(root.join("inference.py"), &original).unwrap());
    let lock = install.state_dir().join("lock");
    commit(&install, &plan(&install, &FORCE).unwrap()).unwrap();
    assert!(install.state_dir().exists(), "the journal and backup stay");
    assert!(!lock.exists(), "no lock file after patch");
    revert(&install, false).unwrap();
    assert!(!lock.exists(), "no lock file after revert");
}

#[test]
fn a_latin1_file_is_refused_with_the_byte_offset_and_never_rewritten() {
    let mut original = family_a();
    let comment = b"# r\xe9glage du p\xe9riph\xe9rique\n";
    original.splice(0..0, comment.iter().copied());
    let (_tmp, install) = install(|root| fs::write(root.join("inference.py"), &original).unwrap());
    let file = install.root.join("inference.py");

    let err = plan(&install, &FORCE).unwrap_err();
    assert!(
        matches!(err, PatchError::NotUtf8 { offset: 3, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("inference.py") && message.contains("byte 3"),
        "{message}"
    );
    assert_eq!(fs::read(&file).unwrap(), original);

    let report = scan_report(&install).unwrap();
    assert_eq!(report.unparsed.len(), 1, "{report:?}");
    assert!(report.unparsed[0].reason.contains("byte 3"), "{report:?}");
}
