//! Stage parser tests over output shaped like real SadTalker runs (facts, section 4).

use super::*;
use crate::bench::record::Stream;

/// An upstream CLI run on a GPU with 11 s of audio (N = 275 frames, batch size 2), as the
/// pipes deliver it: tqdm redraws split at `\r`, prints on stdout.
const GPU_RUN: &[(f64, Stream, &str)] = &[
    (4.1, Stream::Stdout, "using safetensor as default"),
    (6.0, Stream::Stdout, "3DMM Extraction for source image"),
    (
        6.2,
        Stream::Stderr,
        "landmark Det::   0%|          | 0/1 [00:00<?, ?it/s]",
    ),
    (
        6.9,
        Stream::Stderr,
        "landmark Det:: 100%|██████████| 1/1 [00:00<00:00,  1.43it/s]",
    ),
    (
        7.0,
        Stream::Stderr,
        "3DMM Extraction In Video::   0%|          | 0/1 [00:00<?, ?it/s]",
    ),
    (
        7.3,
        Stream::Stderr,
        "3DMM Extraction In Video:: 100%|██████████| 1/1 [00:00<00:00,  3.51it/s]",
    ),
    (
        7.4,
        Stream::Stderr,
        "mel::   0%|          | 0/275 [00:00<?, ?it/s]",
    ),
    (
        7.5,
        Stream::Stderr,
        "mel:: 100%|██████████| 275/275 [00:00<00:00, 39416.68it/s]",
    ),
    (
        7.6,
        Stream::Stderr,
        "audio2exp::   0%|          | 0/28 [00:00<?, ?it/s]",
    ),
    (
        8.1,
        Stream::Stderr,
        "audio2exp:: 100%|██████████| 28/28 [00:00<00:00, 61.77it/s]",
    ),
    (
        9.6,
        Stream::Stderr,
        "Face Renderer::   0%|          | 0/138 [00:00<?, ?it/s]",
    ),
    (
        21.0,
        Stream::Stderr,
        "Face Renderer::  37%|###7      | 51/138 [00:11<00:19,  4.48it/s]",
    ),
    (
        40.3,
        Stream::Stderr,
        "Face Renderer::100%|██████████| 138/138 [00:30<00:00,  4.49it/s]",
    ),
    (
        44.8,
        Stream::Stdout,
        "The generated video is named ./results/2024_03_01_10.00.00/art_0##bus.mp4",
    ),
    (
        44.9,
        Stream::Stdout,
        "The generated video is named: ./results/2024_03_01_10.00.00.mp4",
    ),
];

fn lines(run: &[(f64, Stream, &str)]) -> Vec<OutputLine> {
    run.iter()
        .map(|&(t, stream, text)| OutputLine {
            t,
            stream,
            text: text.to_string(),
        })
        .collect()
}

fn ids(timeline: &Timeline) -> Vec<StageId> {
    timeline.stages.iter().map(|s| s.id).collect()
}

#[test]
fn a_gpu_run_gives_every_stage_in_order_with_its_bounds() {
    let timeline = parse(&lines(GPU_RUN), 45.0);
    assert_eq!(
        ids(&timeline),
        vec![
            StageId::Load,
            StageId::Preprocess,
            StageId::Extract3dmm,
            StageId::Mel,
            StageId::Audio2coeff,
            StageId::FaceRenderer,
            StageId::VideoWrite,
        ]
    );
    let load = timeline.stage(StageId::Load).unwrap();
    assert_eq!((load.start_s, load.end_s), (0.0, 6.0));
    // The silent audio2pose gap (8.1 to 9.6 s) belongs to audio2coeff.
    let a2c = timeline.stage(StageId::Audio2coeff).unwrap();
    assert_eq!((a2c.start_s, a2c.end_s), (7.6, 9.6));
    let renderer = timeline.stage(StageId::FaceRenderer).unwrap();
    assert_eq!((renderer.start_s, renderer.end_s), (9.6, 40.3));
    assert_eq!((renderer.done, renderer.total), (Some(138), Some(138)));
    assert_eq!(renderer.rate, Some(Rate::ItPerS(4.49)));
    // Video write and mux run silently until the run ends.
    let write = timeline.stage(StageId::VideoWrite).unwrap();
    assert_eq!((write.start_s, write.end_s), (40.3, 45.0));
    assert_eq!(timeline.batch_size_inferred(), Some(2));
    assert_eq!(
        timeline.output_video.as_deref(),
        Some("./results/2024_03_01_10.00.00.mp4")
    );
    assert!(timeline.cpu_tells.is_empty());
    assert!(timeline.failures.is_empty());
    assert!(!timeline.simulated);
}

#[test]
fn a_cpu_run_is_told_by_seconds_per_iteration_and_nnpack() {
    let run = [
        (
            3.0,
            Stream::Stderr,
            "[W NNPACK.cpp:53] Could not initialize NNPACK! Reason: Unsupported hardware.",
        ),
        (5.0, Stream::Stdout, "3DMM Extraction for source image"),
        (
            9.0,
            Stream::Stderr,
            "mel:: 100%|██████████| 50/50 [00:00<00:00, 9000.1it/s]",
        ),
        (
            9.5,
            Stream::Stderr,
            "audio2exp:: 100%|██████████| 5/5 [00:01<00:00,  3.1it/s]",
        ),
        (
            11.0,
            Stream::Stderr,
            "Face Renderer::   4%|4         | 1/25 [00:01<00:31,  1.31s/it]",
        ),
        (
            42.0,
            Stream::Stderr,
            "Face Renderer:: 100%|##########| 25/25 [00:31<00:00,  1.26s/it]",
        ),
    ];
    let timeline = parse(&lines(&run), 44.0);
    let tells: Vec<&str> = timeline.cpu_tells.iter().map(|t| t.what.as_str()).collect();
    assert_eq!(tells.len(), 2, "{tells:?}");
    assert!(tells[0].contains("NNPACK"));
    assert!(tells[1].contains("1.26 s/it"));
    assert_eq!(timeline.batch_size_inferred(), Some(2));
    // No `landmark Det:` bar was seen: the stage list has what the output showed, in order.
    assert_eq!(
        ids(&timeline),
        vec![
            StageId::Load,
            StageId::Preprocess,
            StageId::Mel,
            StageId::Audio2coeff,
            StageId::FaceRenderer,
            StageId::VideoWrite,
        ]
    );
}

#[test]
fn enhancer_and_seamless_clone_follow_the_first_video_name() {
    let mut run = GPU_RUN[..GPU_RUN.len() - 1].to_vec();
    run.extend_from_slice(&[
        (
            45.0,
            Stream::Stderr,
            "seamlessClone::   0%|          | 0/275 [00:00<?, ?it/s]",
        ),
        (
            49.5,
            Stream::Stderr,
            "seamlessClone::  50%|#####     | 137/275 [00:04<00:04, 30.4it/s]",
        ),
        (
            54.0,
            Stream::Stderr,
            "seamlessClone:: 100%|##########| 275/275 [00:09<00:00, 30.5it/s]",
        ),
        (54.1, Stream::Stdout, "face enhancer...."),
        (
            60.0,
            Stream::Stderr,
            "Face Enhancer:: 100%|##########| 275/275 [00:05<00:00, 55.00it/s]",
        ),
        (
            60.5,
            Stream::Stdout,
            "The generated video is named: ./results/2024_03_01_10.00.00.mp4",
        ),
    ]);
    let timeline = parse(&lines(&run), 61.0);
    let write = timeline.stage(StageId::VideoWrite).unwrap();
    assert_eq!((write.start_s, write.end_s), (40.3, 45.0));
    let enhancer = timeline.stage(StageId::FaceEnhancer).unwrap();
    assert_eq!((enhancer.start_s, enhancer.end_s), (54.1, 61.0));
    assert_eq!(enhancer.total, Some(275));
}

#[test]
fn failure_tells_are_found_with_their_cause() {
    let run = [
        (5.0, Stream::Stdout, "3DMM Extraction for source image"),
        (6.0, Stream::Stdout, "No face is detected in the input file"),
        (6.0, Stream::Stdout, "Can't get the coeffs of the input"),
        (
            7.0,
            Stream::Stderr,
            "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 4.50 GiB",
        ),
    ];
    let timeline = parse(&lines(&run), 8.0);
    let kinds: Vec<FailureKind> = timeline.failures.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FailureKind::NoFace, FailureKind::OutOfMemory]);
    assert!(timeline.failures[1].cause.contains("out of memory"));

    let run = [
        (1.0, Stream::Stderr, "AssertionError: Torch not compiled with CUDA enabled"),
        (9.0, Stream::Stderr, "sh: 1: ffmpeg: not found"),
        (9.1, Stream::Stderr, "FileNotFoundError: [Errno 2] No such file or directory: './results/x/temp_art_0##bus.mp4'"),
        (9.2, Stream::Stderr, "ModuleNotFoundError: No module named 'torch'"),
    ];
    let kinds: Vec<FailureKind> = parse(&lines(&run), 10.0)
        .failures
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            FailureKind::CpuOnlyTorch,
            FailureKind::FfmpegMissing,
            FailureKind::MissingModule
        ]
    );
}

#[test]
fn the_error_line_is_the_evidence_not_the_traceback_echo_of_the_source() {
    let run = [
        (7.0, Stream::Stderr, "Traceback (most recent call last):"),
        (7.0, Stream::Stderr, "  File \"inference.py\", line 178, in main"),
        (
            7.0,
            Stream::Stderr,
            "    raise RuntimeError(\"CUDA out of memory. Tried to allocate 4.50 GiB \"",
        ),
        (
            7.0,
            Stream::Stderr,
            "RuntimeError: CUDA out of memory. Tried to allocate 4.50 GiB (GPU 0; 7.79 GiB total capacity)",
        ),
    ];
    let timeline = parse(&lines(&run), 8.0);
    assert_eq!(timeline.failures.len(), 1);
    assert!(
        timeline.failures[0]
            .line
            .starts_with("RuntimeError: CUDA out of memory"),
        "{}",
        timeline.failures[0].line
    );
}

#[test]
fn the_simulated_install_is_recognised() {
    let run = [(
        0.1,
        Stream::Stdout,
        "[sadtalker-sim] simulated SadTalker install",
    )];
    assert!(parse(&lines(&run), 1.0).simulated);
}

/// The Face Renderer of a short GPU run as a direct run's pipes deliver it: each redraw at its
/// own time.
const DIRECT_RENDERER: &[(f64, Stream, &str)] = &[
    (
        3.0,
        Stream::Stderr,
        "audio2exp:: 100%|██████████| 28/28 [00:00<00:00, 61.77it/s]",
    ),
    (
        5.0,
        Stream::Stderr,
        "Face Renderer::   0%|          | 0/10 [00:00<?, ?it/s]",
    ),
    (
        6.0,
        Stream::Stderr,
        "Face Renderer::  50%|#####     | 5/10 [00:01<00:01,  5.00it/s]",
    ),
    (
        7.0,
        Stream::Stderr,
        "Face Renderer:: 100%|██████████| 10/10 [00:02<00:00,  5.00it/s]",
    ),
    (
        9.0,
        Stream::Stdout,
        "The generated video is named: ./results/2024_03_01_10.00.00.mp4",
    ),
];

/// The same run re-printed by a host that reads lines: tqdm's `\r` redraws reach it only with
/// the next redraw, so the 0% line arrives with the 50% one and the stage's first line is late.
const HOST_RENDERER: &[(f64, Stream, &str)] = &[
    (
        3.0,
        Stream::Stdout,
        "[host] audio2exp:: 100%|██████████| 28/28 [00:00<00:00, 61.77it/s]",
    ),
    (
        6.0,
        Stream::Stdout,
        "[host] Face Renderer::   0%|          | 0/10 [00:00<?, ?it/s]",
    ),
    (
        6.0,
        Stream::Stdout,
        "[host] Face Renderer::  50%|#####     | 5/10 [00:01<00:01,  5.00it/s]",
    ),
    (
        7.0,
        Stream::Stdout,
        "[host] Face Renderer:: 100%|██████████| 10/10 [00:02<00:00,  5.00it/s]",
    ),
    (
        9.0,
        Stream::Stdout,
        "[host] The generated video is named: ./results/2024_03_01_10.00.00.mp4",
    ),
];

#[test]
fn a_line_reading_host_gives_the_stage_table_of_a_direct_run_from_tqdm_s_elapsed_field() {
    let direct = parse(&lines(DIRECT_RENDERER), 9.5);
    let host = parse(&lines(HOST_RENDERER), 9.5);
    let renderer = |t: &Timeline| {
        let s = t.stage(StageId::FaceRenderer).unwrap();
        (s.start_s, s.end_s)
    };
    assert_eq!(renderer(&direct), (5.0, 7.0));
    assert_eq!(renderer(&host), renderer(&direct));
    let bounds = |t: &Timeline| -> Vec<(StageId, f64, f64)> {
        t.stages
            .iter()
            .map(|s| (s.id, s.start_s, s.end_s))
            .collect()
    };
    assert_eq!(bounds(&host), bounds(&direct));
}

#[test]
fn the_elapsed_field_never_moves_a_stage_before_the_one_it_follows() {
    // A bar claiming more time than the run has had: its stage starts where the previous did.
    let run: &[(f64, Stream, &str)] = &[
        (
            2.0,
            Stream::Stderr,
            "audio2exp:: 100%|██████████| 28/28 [00:00<00:00, 61.77it/s]",
        ),
        (
            3.0,
            Stream::Stderr,
            "Face Renderer:: 100%|██████████| 10/10 [00:09<00:00,  1.10it/s]",
        ),
    ];
    let timeline = parse(&lines(run), 4.0);
    let audio2exp = timeline.stage(StageId::Audio2coeff).unwrap();
    let renderer = timeline.stage(StageId::FaceRenderer).unwrap();
    assert_eq!(renderer.start_s, audio2exp.start_s);
    assert_eq!(audio2exp.end_s, renderer.start_s);
}
