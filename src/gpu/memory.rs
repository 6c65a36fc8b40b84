//! The Face Renderer's GPU memory model (facts section 9): rendered frames pile up on the GPU
//! and `torch.stack` copies them while the list is still alive, so the peak grows with the audio;
//! the per-iteration activations grow with the batch size and the size squared.

const MIB: f64 = 1024.0 * 1024.0;

/// SadTalker's video frame rate, and the 16 kHz samples behind one frame.
pub const FPS: f64 = 25.0;
pub const SAMPLES_PER_FRAME: u64 = 640;

/// Weights, CUDA context and preprocessing models before any trial measured them (W'). The
/// weights alone are 753 MiB (facts 1.2); the context and the face models add roughly as much.
pub const BASELINE_PRIOR_MB: f64 = 1500.0;

/// One float32 frame of `size` x `size` RGB, in MiB: 0.75 at 256, 3 at 512.
pub fn frame_mb(size: u32) -> f64 {
    3.0 * f64::from(size) * f64::from(size) * 4.0 / MIB
}

/// Frames after the batch padding: `bs * ceil(N / bs)`.
pub fn padded_frames(frames: u64, batch_size: u32) -> u64 {
    let bs = u64::from(batch_size.max(1));
    frames.div_ceil(bs) * bs
}

/// The generator's transient activations for one iteration, measured on CPU (facts 1.3):
/// 118 MiB + 513 MiB x bs x (S/256)^2.
pub fn activation_prior_mb(batch_size: u32, size: u32) -> f64 {
    let scale = (f64::from(size) / 256.0).powi(2);
    118.0 + 513.0 * f64::from(batch_size) * scale
}

/// What one run costs on the GPU besides the frames: the baseline and the activations at a
/// batch size, measured by a trial or taken from the priors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCost {
    pub baseline_mb: f64,
    pub activation_mb: f64,
    /// Both figures come from a trial on this GPU, not from the priors.
    pub measured: bool,
}

impl RunCost {
    pub fn prior(batch_size: u32, size: u32) -> RunCost {
        RunCost {
            baseline_mb: BASELINE_PRIOR_MB,
            activation_mb: activation_prior_mb(batch_size, size),
            measured: false,
        }
    }

    /// From a trial: the process's memory when `Face Renderer:` began (W') and its peak over
    /// the run, for a trial of `frames` frames: `A = peak - W' - N_pad x F`.
    pub fn measured(
        baseline_mb: f64,
        peak_mb: f64,
        frames: u64,
        batch_size: u32,
        size: u32,
    ) -> RunCost {
        let stacked = padded_frames(frames, batch_size) as f64 * frame_mb(size);
        // The trial's own peak may be the stack itself (long trials): then A is not seen, and
        // the prior is the better guess.
        let seen = peak_mb - baseline_mb - stacked;
        let activation_mb = if seen > 0.0 {
            seen
        } else {
            activation_prior_mb(batch_size, size)
        };
        RunCost {
            baseline_mb,
            activation_mb,
            measured: true,
        }
    }
}

/// Peak GPU memory of one run over `frames` frames, MiB:
/// `W' + max(N_pad x F + A, 2 x N_pad x F)`.
pub fn predicted_peak_mb(cost: RunCost, frames: u64, batch_size: u32, size: u32) -> f64 {
    let frames_mb = padded_frames(frames, batch_size) as f64 * frame_mb(size);
    cost.baseline_mb + (frames_mb + cost.activation_mb).max(2.0 * frames_mb)
}

/// The most frames one run can render within `budget_mb`, or `None` when not even the
/// baseline and one batch fit.
pub fn max_frames(cost: RunCost, budget_mb: f64, batch_size: u32, size: u32) -> Option<u64> {
    let f = frame_mb(size);
    let left = budget_mb - cost.baseline_mb;
    // Both terms must fit: the stack (2 x N x F) and the loop (N x F + A).
    let by_stack = left / (2.0 * f);
    let by_loop = (left - cost.activation_mb) / f;
    let n = by_stack.min(by_loop).floor();
    if n < f64::from(batch_size) {
        return None;
    }
    // Whole batches only, so that N_pad stays within the budget.
    let bs = u64::from(batch_size.max(1));
    Some((n as u64) / bs * bs)
}

/// Host RAM that `sadfix patch --offload-frames` needs instead: the frames kept in host memory
/// next to SadTalker's own copies, about 4.25 x F x N (facts 9, the `--cpu` figure), MiB.
pub fn offload_host_ram_mb(frames: u64, size: u32) -> f64 {
    4.25 * frame_mb(size) * frames as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes_and_padding_follow_the_facts() {
        assert_eq!(frame_mb(256), 0.75);
        assert_eq!(frame_mb(512), 3.0);
        assert_eq!(padded_frames(6177, 2), 6178);
        assert_eq!(padded_frames(100, 4), 100);
        assert_eq!(padded_frames(50, 8), 56);
    }

    #[test]
    fn the_field_report_of_a_stack_that_did_not_fit_is_reproduced() {
        // OpenTalker/SadTalker#130: mel 6177, bs 2, "Tried to allocate 4.53 GiB" at the stack.
        let stacked = padded_frames(6177, 2) as f64 * frame_mb(256);
        assert!((stacked / 1024.0 - 4.53).abs() < 0.01);
        let cost = RunCost::prior(2, 256);
        let peak = predicted_peak_mb(cost, 6177, 2, 256);
        assert_eq!(peak, cost.baseline_mb + 2.0 * stacked);
    }

    #[test]
    fn short_audio_is_bound_by_the_activations_long_audio_by_the_stack() {
        let cost = RunCost::prior(4, 256);
        let short = predicted_peak_mb(cost, 100, 4, 256);
        assert_eq!(short, cost.baseline_mb + 75.0 + activation_prior_mb(4, 256));
        let long = predicted_peak_mb(cost, 7500, 4, 256);
        assert_eq!(long, cost.baseline_mb + 2.0 * 7500.0 * 0.75);
    }

    #[test]
    fn the_longest_clip_matches_the_facts_table() {
        // 6 GiB left after W' at 256 px: 4096 frames (164 s).
        let cost = RunCost {
            baseline_mb: 0.0,
            activation_mb: 600.0,
            measured: false,
        };
        assert_eq!(max_frames(cost, 6144.0, 1, 256), Some(4096));
        assert_eq!(max_frames(cost, 6144.0, 8, 256), Some(4096));
        assert_eq!(max_frames(cost, 100.0, 1, 256), None);
    }

    #[test]
    fn a_measured_activation_replaces_the_prior() {
        let cost = RunCost::measured(2000.0, 3200.0, 100, 4, 256);
        assert_eq!(cost.activation_mb, 3200.0 - 2000.0 - 75.0);
        // A trial whose peak is the stack says nothing about A: the prior stays.
        let stack_bound = RunCost::measured(2000.0, 2050.0, 100, 4, 256);
        assert_eq!(stack_bound.activation_mb, activation_prior_mb(4, 256));
    }
}
