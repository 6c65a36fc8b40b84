//! The model weights: the files for the layout in use (safetensors or the old `.pth` set,
//! facts section 5) and GFPGAN's, each judged by `weight_files`.

use super::check::{Area, Check, Status};
use super::weight_files::{file_state, FileState};
use std::path::Path;

const NEW_LAYOUT: [(&str, bool); 4] = [
    ("SadTalker_V0.0.2_256.safetensors", true),
    ("SadTalker_V0.0.2_512.safetensors", false),
    ("mapping_00109-model.pth.tar", true),
    ("mapping_00229-model.pth.tar", true),
];
const OLD_LAYOUT: [&str; 8] = [
    "auido2exp_00300-model.pth",
    "auido2pose_00140-model.pth",
    "epoch_20.pth",
    "facevid2vid_00189-model.pth.tar",
    "wav2lip.pth",
    "mapping_00109-model.pth.tar",
    "mapping_00229-model.pth.tar",
    "shape_predictor_68_face_landmarks.dat",
];
const GFPGAN: [&str; 4] = [
    "alignment_WFLW_4HG.pth",
    "detection_Resnet50_Final.pth",
    "GFPGANv1.4.pth",
    "parsing_parsenet.pth",
];
const DOWNLOAD_SCRIPT: &str = "scripts/download_models.sh";

/// The install's own download script where it has one (a clone does; a vendored or packaged
/// copy often does not): then a command, else the same step as a sentence.
fn download_fix(root: &Path) -> String {
    if root.join(DOWNLOAD_SCRIPT).is_file() {
        format!(
            "cd {} && bash {DOWNLOAD_SCRIPT}",
            super::shell::quote(&root.display().to_string())
        )
    } else {
        format!(
            "download the weights SadTalker's README lists (upstream's {DOWNLOAD_SCRIPT}, which this install lacks) into {}/checkpoints and {}/gfpgan/weights",
            root.display(),
            root.display()
        )
    }
}

fn describe(rel: &str, state: &FileState) -> Option<String> {
    match state {
        FileState::Sound => None,
        FileState::Missing => Some(format!("{rel}: missing")),
        FileState::Empty => Some(format!("{rel}: zero bytes")),
        FileState::Damaged(why) => Some(format!("{rel}: {why}")),
    }
}

/// `weights.checkpoints`: the files of the layout in use under `checkpoints/`.
pub fn check_checkpoints(root: &Path) -> Check {
    let dir = root.join("checkpoints");
    let safetensors = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.ends_with(".safetensors"))
        });
    let (layout, files): (&str, Vec<(&str, bool)>) = if safetensors {
        ("safetensors layout", NEW_LAYOUT.to_vec())
    } else {
        (
            "old .pth layout",
            OLD_LAYOUT.iter().map(|f| (*f, true)).collect(),
        )
    };
    let mut problems = Vec::new();
    let mut optional_missing = Vec::new();
    let mut present = 0;
    for (name, required) in &files {
        let rel = format!("checkpoints/{name}");
        let state = file_state(&dir.join(name));
        match (&state, required) {
            (FileState::Sound, _) => present += 1,
            (FileState::Missing, false) => optional_missing.push(rel),
            _ => problems.extend(describe(&rel, &state)),
        }
    }
    let fix = download_fix(root);
    if present == 0 && !safetensors {
        return Check::new(
            "weights.checkpoints",
            Area::Weights,
            Status::Fail,
            "no SadTalker weights in checkpoints/",
        )
        .evidence(format!("looked in {}", dir.display()))
        .fix(fix);
    }
    let evidence: Vec<String> = optional_missing
        .iter()
        .map(|rel| format!("{rel}: missing (needed only for --size 512)"))
        .collect();
    if problems.is_empty() {
        let status = if optional_missing.is_empty() {
            Status::Ok
        } else {
            Status::Warn
        };
        return Check::new(
            "weights.checkpoints",
            Area::Weights,
            status,
            format!("{present} weight files sound ({layout})"),
        )
        .evidence_all(evidence)
        .fix_opt((status == Status::Warn).then_some(fix));
    }
    Check::new(
        "weights.checkpoints",
        Area::Weights,
        Status::Fail,
        format!(
            "{} weight file(s) missing or damaged ({layout})",
            problems.len()
        ),
    )
    .evidence_all(problems)
    .evidence_all(evidence)
    .fix(fix)
}

/// `weights.gfpgan`: GFPGAN's weights under `gfpgan/weights` (SadTalker resolves the directory
/// from the working directory, which is the install root when run as documented).
pub fn check_gfpgan(root: &Path) -> Check {
    let dir = root.join("gfpgan/weights");
    let problems: Vec<String> = GFPGAN
        .iter()
        .filter_map(|name| {
            describe(
                &format!("gfpgan/weights/{name}"),
                &file_state(&dir.join(name)),
            )
        })
        .collect();
    if problems.is_empty() {
        return Check::new(
            "weights.gfpgan",
            Area::Weights,
            Status::Ok,
            format!("{} GFPGAN weight files sound", GFPGAN.len()),
        );
    }
    Check::new(
        "weights.gfpgan",
        Area::Weights,
        Status::Warn,
        "GFPGAN weights missing or damaged: --enhancer gfpgan downloads them at run time, which fails offline",
    )
    .evidence_all(problems)
    .fix(download_fix(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_checkpoints_directory_fails_with_the_download_command() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("checkpoints")).unwrap();
        let check = check_checkpoints(tmp.path());
        assert_eq!(check.status, Status::Fail);
        // No download script in this install: the step as a sentence, not a command that fails.
        assert!(check.fix.unwrap().starts_with("download the weights"));
        assert_eq!(check_gfpgan(tmp.path()).status, Status::Warn);
        std::fs::create_dir_all(tmp.path().join("scripts")).unwrap();
        std::fs::write(tmp.path().join(DOWNLOAD_SCRIPT), "").unwrap();
        assert!(check_checkpoints(tmp.path())
            .fix
            .unwrap()
            .ends_with("bash scripts/download_models.sh"));
    }
}
