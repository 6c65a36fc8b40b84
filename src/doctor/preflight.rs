//! `preflight.memory` (with `doctor --audio FILE`): whether that audio's Face Renderer run fits
//! the GPU's free memory at the install's batch-size default, by tune's memory model.

use super::check::{Area, Check, Status};
use crate::gpu::memory::RunCost;
use crate::gpu::snapshot::GpuView;
use crate::patch::Site;
use crate::tune::audio::{self, AudioFacts};
use crate::tune::preflight::{self, Inputs};
use std::path::Path;

const ID: &str = "preflight.memory";
/// SadTalker's default `--size`.
const SIZE: u32 = 256;
const HEADROOM_PCT: f64 = 15.0;

/// Read the audio up front, so that a bad `--audio` stops doctor before any probe runs.
pub fn read_audio(path: &Path) -> Result<AudioFacts, String> {
    audio::inspect(path).map_err(|e| e.to_string())
}

/// The check, from the audio and what doctor gathered.
pub fn memory_check(audio: &AudioFacts, gpu: &GpuView, sites: &Result<Vec<Site>, String>) -> Check {
    // SadTalker's own default when the code holds no readable one.
    let batch_size = sites
        .as_ref()
        .ok()
        .and_then(|all| crate::patch::default_batch_size(all))
        .unwrap_or(2);
    let facts = crate::gpu::facts::from_view(gpu, &|var| std::env::var(var).ok());
    let free = facts.as_ref().ok().map(|g| g.free_mb);
    let p = preflight::assess(
        Inputs {
            audio,
            size: SIZE,
            batch_sizes: &[batch_size],
            headroom_pct: HEADROOM_PCT,
            gpu: facts,
            host_ram_free_mb: Some(super::system::resources().available_ram as f64 / 1048576.0),
        },
        &|bs| RunCost::prior(bs, SIZE),
    );
    let what = format!(
        "{} ({:.1} s, {} frames) at batch {batch_size}, --size {SIZE}",
        audio.path.display(),
        audio.seconds,
        audio.frames
    );
    let (Some(peak), Some(free), Some(budget)) =
        (p.per_batch[0].predicted_peak_mb, free, p.budget_mb)
    else {
        let why = p.gpu.as_ref().err().cloned().unwrap_or_default();
        return Check::new(
            ID,
            Area::Gpu,
            Status::Skip,
            format!("no GPU facts ({why}): memory for {what} not predicted"),
        );
    };
    let evidence = format!(
        "predicted peak {peak:.0} MiB (W' + max(N x F + A, 2 x N x F), model priors), {free:.0} MiB free, {budget:.0} MiB with {HEADROOM_PCT:.0}% headroom"
    );
    if peak <= budget {
        return Check::new(
            ID,
            Area::Gpu,
            Status::Ok,
            format!("{what} fits the GPU's free memory"),
        )
        .evidence(evidence);
    }
    if peak <= free {
        return Check::new(
            ID,
            Area::Gpu,
            Status::Warn,
            format!("{what} is near the limit of the GPU's free memory"),
        )
        .evidence(evidence)
        .evidence("sadfix tune measures the real peak on this GPU")
        .fix(format!(
            "sadfix tune --audio {}",
            super::shell::quote(&audio.path.display().to_string())
        ));
    }
    let mut advice = p.advice.into_iter();
    Check::new(
        ID,
        Area::Gpu,
        Status::Fail,
        format!("{what} will not fit: CUDA out of memory after Face Renderer"),
    )
    .evidence(evidence)
    .fix_opt(advice.next())
    .evidence_all(advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::snapshot::{GpuInfo, GpuSnapshot};

    fn six_gib() -> GpuView {
        GpuView::Replay(
            GpuSnapshot {
                driver_version: "550".into(),
                cuda_driver: None,
                gpus: vec![GpuInfo {
                    index: 0,
                    name: "test".into(),
                    memory_total: Some(6 << 30),
                    memory_used: Some(0),
                    utilization: None,
                    processes: vec![],
                    notes: vec![],
                    ..GpuInfo::default()
                }],
            },
            "gpu.json".into(),
        )
    }

    fn audio(seconds: f64) -> AudioFacts {
        AudioFacts {
            path: "talk.wav".into(),
            seconds,
            frames: (seconds * 25.0) as u64,
        }
    }

    #[test]
    fn ok_near_the_limit_and_will_not_fit() {
        let sites = Err("no scan".to_string());
        assert_eq!(
            memory_check(&audio(10.0), &six_gib(), &sites).status,
            Status::Ok
        );
        // 6144 MiB free, 5222 MiB budget: 2 x N x 0.75 + 1500 lands between them at 110 s.
        assert_eq!(
            memory_check(&audio(110.0), &six_gib(), &sites).status,
            Status::Warn
        );
        let fail = memory_check(&audio(300.0), &six_gib(), &sites);
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.fix.unwrap().contains("clips of at most"));
        let none = memory_check(
            &audio(300.0),
            &GpuView::Unavailable("no NVML".into()),
            &sites,
        );
        assert_eq!(none.status, Status::Skip);
    }
}
