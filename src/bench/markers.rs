//! The one table of what a SadTalker run prints (facts, section 4): stage markers, tqdm bar
//! descriptions, CPU tells and failure tells. Everything that reads the output looks here.

use serde::{Deserialize, Serialize};

/// The stages of a generation on the CLI path, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageId {
    /// Start-up and model loading, up to `3DMM Extraction for source image`.
    Load,
    /// Crop and face detection (`landmark Det:`).
    Preprocess,
    /// `3DMM Extraction In Video:`.
    Extract3dmm,
    /// `mel:` (CPU only).
    Mel,
    /// `audio2exp:` and the silent audio2pose that follows it.
    Audio2coeff,
    /// `Face Renderer:`, the dominant GPU stage.
    FaceRenderer,
    /// The silent video write and ffmpeg mux after `Face Renderer:: 100%`.
    VideoWrite,
    /// `seamlessClone:` with `--preprocess full` (CPU only).
    SeamlessClone,
    /// `face enhancer....` then `Face Enhancer:` with `--enhancer`.
    FaceEnhancer,
}

impl StageId {
    pub const ALL: [StageId; 9] = [
        StageId::Load,
        StageId::Preprocess,
        StageId::Extract3dmm,
        StageId::Mel,
        StageId::Audio2coeff,
        StageId::FaceRenderer,
        StageId::VideoWrite,
        StageId::SeamlessClone,
        StageId::FaceEnhancer,
    ];

    /// The name used in JSON, expectations and `--expect` files.
    pub fn key(self) -> &'static str {
        match self {
            StageId::Load => "load",
            StageId::Preprocess => "preprocess",
            StageId::Extract3dmm => "extract_3dmm",
            StageId::Mel => "mel",
            StageId::Audio2coeff => "audio2coeff",
            StageId::FaceRenderer => "face_renderer",
            StageId::VideoWrite => "video_write",
            StageId::SeamlessClone => "seamless_clone",
            StageId::FaceEnhancer => "face_enhancer",
        }
    }

    /// The label shown in tables and pictures.
    pub fn label(self) -> &'static str {
        match self {
            StageId::Load => "load models",
            StageId::Preprocess => "preprocess (face detection)",
            StageId::Extract3dmm => "3DMM extraction",
            StageId::Mel => "mel spectrogram",
            StageId::Audio2coeff => "audio2coeff (exp + pose)",
            StageId::FaceRenderer => "Face Renderer",
            StageId::VideoWrite => "video write + mux",
            StageId::SeamlessClone => "seamlessClone",
            StageId::FaceEnhancer => "Face Enhancer",
        }
    }

    pub fn from_key(key: &str) -> Option<StageId> {
        StageId::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Which stage a tqdm bar belongs to (its description without the trailing colons), and the
/// stage its silent aftermath belongs to once it reaches 100%.
pub const BARS: &[(&str, StageId, Option<StageId>)] = &[
    ("landmark Det", StageId::Preprocess, None),
    ("3DMM Extraction In Video", StageId::Extract3dmm, None),
    ("mel", StageId::Mel, None),
    // audio2pose prints nothing: the gap after audio2exp is still audio2coeff.
    ("audio2exp", StageId::Audio2coeff, None),
    // Writing the frames and the ffmpeg mux print nothing until the video is named.
    (
        "Face Renderer",
        StageId::FaceRenderer,
        Some(StageId::VideoWrite),
    ),
    ("seamlessClone", StageId::SeamlessClone, None),
    ("Face Enhancer", StageId::FaceEnhancer, None),
];

/// Print lines (stdout) that open a stage.
pub const STAGE_LINES: &[(&str, StageId)] = &[
    ("3DMM Extraction for source image", StageId::Preprocess),
    ("face enhancer....", StageId::FaceEnhancer),
];

/// The line that names the video; the last one seen names the final file.
pub const VIDEO_NAMED: &str = "The generated video is named";

/// The first line of the simulated install (`fixtures/sim-install`), a test double.
pub const SIMULATED: &str = "[sadtalker-sim]";

/// Output that shows the run is on the CPU.
pub const CPU_TELLS: &[(&str, &str)] = &[
    (
        "Could not initialize NNPACK",
        "torch fell back to CPU kernels (NNPACK)",
    ),
    (
        "cudaGetDeviceCount",
        "CUDA failed to initialise (driver/runtime mismatch, error 804 under WSL)",
    ),
    (
        "RealESRGAN is slow on CPU",
        "SadTalker switched RealESRGAN off: no CUDA",
    ),
];

/// Why a run failed, from what it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    NoFace,
    OutOfMemory,
    FfmpegMissing,
    CpuOnlyTorch,
    MissingModule,
}

/// A failure tell: text to look for, what it means, what to do next.
pub struct FailureTell {
    pub needle: &'static str,
    pub kind: FailureKind,
    pub cause: &'static str,
    pub next: &'static str,
}

pub const FAILURE_TELLS: &[FailureTell] = &[
    FailureTell {
        needle: "No face is detected",
        kind: FailureKind::NoFace,
        cause: "no face was found in the source image",
        next: "use a front-facing portrait (--image FILE), or --preprocess full for a full-body picture",
    },
    FailureTell {
        needle: "Can't get the coeffs of the input",
        kind: FailureKind::NoFace,
        cause: "no face was found in the source image",
        next: "use a front-facing portrait (--image FILE)",
    },
    FailureTell {
        needle: "CUDA out of memory",
        kind: FailureKind::OutOfMemory,
        cause: "the GPU ran out of memory; the stack of rendered frames grows with the audio length, not the batch size",
        next: "try shorter audio or --size 256; a smaller --batch-size helps only the Face Renderer",
    },
    FailureTell {
        needle: "OutOfMemoryError",
        kind: FailureKind::OutOfMemory,
        cause: "the GPU ran out of memory; the stack of rendered frames grows with the audio length",
        next: "try shorter audio or --size 256",
    },
    FailureTell {
        needle: "ffmpeg: not found",
        kind: FailureKind::FfmpegMissing,
        cause: "ffmpeg is not on PATH (imageio-ffmpeg's own binary does not help)",
        next: "install ffmpeg (apt-get install ffmpeg), then run sadfix doctor",
    },
    FailureTell {
        needle: "No such file or directory: 'ffmpeg'",
        kind: FailureKind::FfmpegMissing,
        cause: "ffmpeg is not on PATH",
        next: "install ffmpeg (apt-get install ffmpeg), then run sadfix doctor",
    },
    FailureTell {
        needle: "Torch not compiled with CUDA enabled",
        kind: FailureKind::CpuOnlyTorch,
        cause: "a CPU-only torch build is installed, and the code calls CUDA anyway",
        next: "run sadfix doctor for the torch build to install",
    },
    FailureTell {
        needle: "ModuleNotFoundError: No module named",
        kind: FailureKind::MissingModule,
        cause: "a module SadTalker needs is not installed in this Python",
        next: "check that the right Python ran (--python, the install's venv), then run sadfix doctor",
    },
];

/// The bar entry for a description, if SadTalker prints it. A host may put its own prefix in
/// front (`12:00:01 INFO [SadTalker] Face Renderer`): the description is what the text ends
/// with, after a non-alphanumeric character.
pub fn bar_stage(desc: &str) -> Option<(StageId, Option<StageId>)> {
    BARS.iter()
        .find(|(d, _, _)| ends_with_word(desc, d))
        .map(|&(_, stage, after)| (stage, after))
}

fn ends_with_word(text: &str, word: &str) -> bool {
    let Some(cut) = text.len().checked_sub(word.len()) else {
        return false;
    };
    let (head, tail) = (&text.as_bytes()[..cut], &text.as_bytes()[cut..]);
    tail.eq_ignore_ascii_case(word.as_bytes())
        && head.last().is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// The stage a print line opens, if any.
pub fn line_stage(line: &str) -> Option<StageId> {
    STAGE_LINES
        .iter()
        .find(|(needle, _)| line.contains(needle))
        .map(|&(_, stage)| stage)
}

/// The video path in any of the known shapes: `named: X`, `named X`, `named X in Y`, and
/// behind a logger's suffix (sadtalker-z logs `named:X (aiy.py:194)`): the path ends at `.mp4`.
pub fn video_path(line: &str) -> Option<String> {
    let rest = line[line.find(VIDEO_NAMED)? + VIDEO_NAMED.len()..].trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    let path = match rest.find(".mp4 ").or_else(|| rest.find(".mp4\t")) {
        Some(i) => &rest[..i + 4],
        None => rest,
    };
    (!path.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_key_round_trips() {
        for stage in StageId::ALL {
            assert_eq!(StageId::from_key(stage.key()), Some(stage));
        }
    }

    #[test]
    fn bars_are_found_behind_a_host_prefix_and_colours() {
        assert_eq!(
            bar_stage("2026-12-02 10:00:01,123 INFO [SadTalker] Face Renderer"),
            Some((StageId::FaceRenderer, Some(StageId::VideoWrite)))
        );
        assert_eq!(bar_stage("mel").map(|b| b.0), Some(StageId::Mel));
        // Not a word boundary: another program's bar.
        assert_eq!(bar_stage("camel"), None);
    }

    #[test]
    fn video_names_in_all_variants() {
        assert_eq!(
            video_path("The generated video is named: ./results/2024_01_01_10.00.00.mp4")
                .as_deref(),
            Some("./results/2024_01_01_10.00.00.mp4")
        );
        assert_eq!(
            video_path("The generated video is named ./results/x/full##bus.mp4").as_deref(),
            Some("./results/x/full##bus.mp4")
        );
        assert_eq!(
            video_path("The generated video is named out.mp4 in ./results/x").as_deref(),
            Some("out.mp4")
        );
        assert_eq!(
            video_path("2026-12-06 00:03:28,217 - AIY - INFO - The generated video is named:./results/2026_12_05_23.58.53.mp4 (aiy.py:194)")
                .as_deref(),
            Some("./results/2026_12_05_23.58.53.mp4")
        );
        assert_eq!(video_path("The generated video is named"), None);
    }
}
