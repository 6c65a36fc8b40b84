//! The preflight: before anything runs, the memory the Face Renderer needs for the full audio at
//! each batch size against the GPU's free memory, and what to do when the clip will not fit.

use super::audio::AudioFacts;
use crate::gpu::facts::GpuFacts;
use crate::gpu::memory::{self, RunCost, FPS};
use serde::Serialize;

/// One batch size's prediction for the full audio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchFit {
    pub batch_size: u32,
    /// `None` without GPU facts: nothing is predicted about VRAM then.
    pub predicted_peak_mb: Option<f64>,
    pub fits: Option<bool>,
    /// Whether the baseline and activations behind the figure were measured by a trial.
    #[serde(skip)]
    pub measured: bool,
}

/// What the preflight found. Serialises to the `preflight` object of `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preflight {
    pub audio_s: f64,
    pub frames: u64,
    pub size: u32,
    pub gpu_free_mb: Option<f64>,
    pub gpu_total_mb: Option<f64>,
    pub per_batch: Vec<BatchFit>,
    #[serde(skip)]
    pub audio: String,
    #[serde(skip)]
    pub gpu: Result<GpuFacts, String>,
    /// The memory a run may use: (100 - headroom)% of the free memory.
    #[serde(skip)]
    pub budget_mb: Option<f64>,
    #[serde(skip)]
    pub headroom_pct: f64,
    /// What to do when the full clip fits at no batch size.
    #[serde(skip)]
    pub advice: Vec<String>,
}

impl Preflight {
    /// The batch sizes at which the full audio is predicted to fit (all, without GPU facts).
    pub fn fitting(&self) -> Vec<u32> {
        self.per_batch
            .iter()
            .filter(|b| b.fits != Some(false))
            .map(|b| b.batch_size)
            .collect()
    }
}

/// What the preflight is computed from.
pub struct Inputs<'a> {
    pub audio: &'a AudioFacts,
    pub size: u32,
    pub batch_sizes: &'a [u32],
    pub headroom_pct: f64,
    pub gpu: Result<GpuFacts, String>,
    /// The host RAM available now, MiB, for the `--offload-frames` advice.
    pub host_ram_free_mb: Option<f64>,
}

/// The preflight with every batch size's cost taken from `cost_of` (the priors before any
/// trial, the measured figures after).
pub fn assess(inputs: Inputs, cost_of: &dyn Fn(u32) -> RunCost) -> Preflight {
    let frames = inputs.audio.frames;
    let budget_mb = inputs
        .gpu
        .as_ref()
        .ok()
        .map(|g| g.free_mb * (100.0 - inputs.headroom_pct) / 100.0);
    let per_batch: Vec<BatchFit> = inputs
        .batch_sizes
        .iter()
        .map(|&bs| {
            let cost = cost_of(bs);
            let peak = budget_mb.map(|_| memory::predicted_peak_mb(cost, frames, bs, inputs.size));
            BatchFit {
                batch_size: bs,
                predicted_peak_mb: peak,
                fits: peak.zip(budget_mb).map(|(p, b)| p <= b),
                measured: cost.measured,
            }
        })
        .collect();
    let mut preflight = Preflight {
        audio_s: inputs.audio.seconds,
        frames,
        size: inputs.size,
        gpu_free_mb: inputs.gpu.as_ref().ok().map(|g| g.free_mb),
        gpu_total_mb: inputs.gpu.as_ref().ok().map(|g| g.total_mb),
        per_batch,
        audio: inputs.audio.path.display().to_string(),
        gpu: inputs.gpu,
        budget_mb,
        headroom_pct: inputs.headroom_pct,
        advice: Vec::new(),
    };
    if preflight.fitting().is_empty() {
        preflight.advice = advice(&preflight, cost_of, inputs.host_ram_free_mb);
    }
    preflight
}

/// What to do when the full clip fits at no batch size: shorter clips (with the split points),
/// `--size 256`, the memory other processes hold, and keeping the frames in host RAM.
fn advice(
    p: &Preflight,
    cost_of: &dyn Fn(u32) -> RunCost,
    host_free_mb: Option<f64>,
) -> Vec<String> {
    let (Ok(gpu), Some(budget)) = (&p.gpu, p.budget_mb) else {
        return Vec::new();
    };
    let smallest = p.per_batch.iter().map(|b| b.batch_size).min().unwrap_or(1);
    let cost = cost_of(smallest);
    let mut out = Vec::new();
    match memory::max_frames(cost, budget, smallest, p.size) {
        Some(max_n) if max_n > 0 => {
            let pieces = p.frames.div_ceil(max_n).max(2);
            let step = p.audio_s / pieces as f64;
            let points: Vec<String> = (1..pieces).map(|i| clock(step * i as f64)).collect();
            let secs: Vec<String> = (1..pieces)
                .map(|i| format!("{:.0}", step * i as f64))
                .collect();
            out.push(format!(
                "render it in {pieces} clips of at most {:.0} s (batch {smallest} holds {max_n} frames, {:.0} s): split at {}; \
                 ffmpeg -i {} -f segment -segment_times {} -ac 1 -ar 16000 part%02d.wav",
                step.ceil(),
                max_n as f64 / FPS,
                points.join(", "),
                crate::doctor::shell::quote(&p.audio),
                secs.join(",")
            ));
        }
        _ => out.push(format!(
            "not even one batch fits in {budget:.0} MiB next to the models: free GPU memory first"
        )),
    }
    if p.size == 512 {
        let at_256 =
            memory::predicted_peak_mb(RunCost::prior(smallest, 256), p.frames, smallest, 256);
        let verdict = if at_256 <= budget {
            "fits"
        } else {
            "does not fit either"
        };
        out.push(format!(
            "--size 256 needs a quarter of the frame memory: about {at_256:.0} MiB at batch {smallest}, which {verdict}"
        ));
    }
    if gpu.used_mb() >= 1.0 {
        let holders = if gpu.others.is_empty() {
            "no process is listed (the display, or another container)".to_string()
        } else {
            gpu.others
                .iter()
                .map(|o| match &o.name {
                    Some(name) => format!("pid {} ({name})", o.pid),
                    None => format!("pid {}", o.pid),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let need = p
            .per_batch
            .iter()
            .filter_map(|b| b.predicted_peak_mb)
            .fold(f64::INFINITY, f64::min);
        let whole = gpu.total_mb * (100.0 - p.headroom_pct) / 100.0;
        let would = if need <= whole {
            "would then fit"
        } else {
            "would still not fit"
        };
        out.push(format!(
            "{:.0} MiB of the GPU is already in use: {holders}; closing what holds it frees that memory (the clip {would})",
            gpu.used_mb()
        ));
    }
    let offload_gpu = cost.baseline_mb + cost.activation_mb;
    let ram = memory::offload_host_ram_mb(p.frames, p.size);
    let ram_note = match host_free_mb {
        Some(free) if free >= ram => format!("{:.1} GiB free now", free / 1024.0),
        Some(free) => format!("only {:.1} GiB free now", free / 1024.0),
        None => "host RAM unknown".into(),
    };
    out.push(format!(
        "sadfix patch --offload-frames keeps the rendered frames in host RAM: the GPU then needs about {offload_gpu:.0} MiB, \
         the host about {:.1} GiB of RAM for {} frames ({ram_note})",
        ram / 1024.0,
        p.frames
    ));
    out
}

/// `m:ss`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::facts::{GpuSource, OtherProcess};

    fn gpu(total_mb: f64, free_mb: f64) -> GpuFacts {
        GpuFacts {
            index: 0,
            chosen_by: "the only GPU".into(),
            name: "test GPU".into(),
            total_mb,
            free_mb,
            source: GpuSource::Replay("gpu.json".into()),
            others: vec![OtherProcess {
                pid: 77,
                name: None,
            }],
        }
    }

    fn audio(seconds: f64) -> AudioFacts {
        AudioFacts {
            path: "talk.wav".into(),
            seconds,
            frames: (seconds * 25.0) as u64,
        }
    }

    fn run(seconds: f64, size: u32, gpu_facts: Result<GpuFacts, String>) -> Preflight {
        assess(
            Inputs {
                audio: &audio(seconds),
                size,
                batch_sizes: &[1, 2, 4, 8],
                headroom_pct: 15.0,
                gpu: gpu_facts,
                host_ram_free_mb: Some(32_000.0),
            },
            &|bs| RunCost::prior(bs, size),
        )
    }

    #[test]
    fn five_minutes_on_a_6_gib_gpu_do_not_fit_and_the_advice_names_every_way_out() {
        let p = run(300.0, 256, Ok(gpu(6144.0, 6144.0)));
        assert_eq!(p.frames, 7500);
        assert!(p.per_batch.iter().all(|b| b.fits == Some(false)));
        assert!(p.fitting().is_empty());
        let text = p.advice.join("\n");
        assert!(text.contains("clips of at most"), "{text}");
        assert!(text.contains("4 clips of at most 75 s"), "{text}");
        assert!(text.contains("split at 1:15, 2:30, 3:45"), "{text}");
        assert!(text.contains("--offload-frames"), "{text}");
        // Nothing else holds memory here: no line about other processes.
        assert!(!text.contains("already in use"), "{text}");
    }

    #[test]
    fn a_short_clip_fits_at_small_batches_only() {
        // At batch 8 the activations (4.2 GiB) no longer fit next to the models.
        let p = run(10.0, 256, Ok(gpu(6144.0, 6144.0)));
        assert_eq!(p.fitting(), vec![1, 2, 4]);
        let p = run(10.0, 512, Ok(gpu(6144.0, 6144.0)));
        assert_eq!(p.fitting(), vec![1]);
        assert!(p.advice.is_empty());
    }

    #[test]
    fn at_512_the_advice_offers_256_and_names_the_other_processes() {
        let p = run(60.0, 512, Ok(gpu(8192.0, 5000.0)));
        assert!(p.fitting().is_empty());
        let text = p.advice.join("\n");
        assert!(text.contains("--size 256"), "{text}");
        assert!(text.contains("pid 77"), "{text}");
    }

    #[test]
    fn without_gpu_facts_nothing_is_predicted() {
        let p = run(300.0, 256, Err("no NVML".into()));
        assert!(p
            .per_batch
            .iter()
            .all(|b| b.predicted_peak_mb.is_none() && b.fits.is_none()));
        assert_eq!(p.fitting(), vec![1, 2, 4, 8]);
        assert!(p.advice.is_empty());
    }
}
