//! The audio the user will render: its length and exact frame count, read from the WAV header,
//! and the trial clip cut from its start as a 16 kHz mono 16-bit PCM WAV (so that the trial's
//! frame count is exactly 25 per second and no ffmpeg is needed to read it).

use crate::gpu::memory::SAMPLES_PER_FRAME;
use std::path::{Path, PathBuf};

/// What tune needs to know about the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFacts {
    pub path: PathBuf,
    pub seconds: f64,
    /// SadTalker's frame count: `floor(ceil(L x 16000 / sr) / 640)` (facts 3.2).
    pub frames: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: no such file; pass --audio with a WAV file")]
    Missing { path: String },
    #[error("{path}: tune reads WAV audio only; convert it first: ffmpeg -i {path} -ac 1 -ar 16000 {stem}.wav, then pass --audio {stem}.wav")]
    NotWav { path: String, stem: String },
    #[error("{path}: not a readable WAV file ({why}); pass a PCM or float WAV")]
    Unreadable { path: String, why: String },
    #[error("{path}: cannot write the trial clip ({why})")]
    Write { path: String, why: String },
}

/// SadTalker's frame count for `samples` samples per channel at `rate` Hz.
pub fn frame_count(samples: u64, rate: u32) -> u64 {
    let at_16k = (samples * 16_000).div_ceil(u64::from(rate.max(1)));
    at_16k / SAMPLES_PER_FRAME
}

/// Read the length and frame count of a WAV file.
pub fn inspect(path: &Path) -> Result<AudioFacts, AudioError> {
    let reader = open(path)?;
    let spec = reader.spec();
    let samples = u64::from(reader.duration());
    Ok(AudioFacts {
        path: path.to_path_buf(),
        seconds: samples as f64 / f64::from(spec.sample_rate.max(1)),
        frames: frame_count(samples, spec.sample_rate),
    })
}

fn open(path: &Path) -> Result<hound::WavReader<std::io::BufReader<std::fs::File>>, AudioError> {
    if !path.is_file() {
        return Err(AudioError::Missing {
            path: path.display().to_string(),
        });
    }
    let is_wav = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if !is_wav {
        let stem = path.with_extension("");
        return Err(AudioError::NotWav {
            path: path.display().to_string(),
            stem: stem.display().to_string(),
        });
    }
    hound::WavReader::open(path).map_err(|e| AudioError::Unreadable {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Write the first `seconds` of `source` to `dest` as 16 kHz mono 16-bit PCM. Channels are
/// averaged; another rate is resampled linearly, which is enough: speech content changes
/// neither the memory nor the speed of a run, only the frame count does (facts 3.4).
pub fn cut_trial(source: &Path, seconds: f64, dest: &Path) -> Result<u64, AudioError> {
    let mut reader = open(source)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let unreadable = |e: hound::Error| AudioError::Unreadable {
        path: source.display().to_string(),
        why: e.to_string(),
    };
    let wanted_in = (seconds * f64::from(spec.sample_rate)).round() as usize * channels;
    let scale = match spec.sample_format {
        hound::SampleFormat::Float => 1.0,
        hound::SampleFormat::Int => f64::from(1u32 << (spec.bits_per_sample.clamp(1, 32) - 1)),
    };
    let mut interleaved: Vec<f64> = Vec::with_capacity(wanted_in);
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>().take(wanted_in) {
                interleaved.push(f64::from(s.map_err(unreadable)?));
            }
        }
        hound::SampleFormat::Int => {
            for s in reader.samples::<i32>().take(wanted_in) {
                interleaved.push(f64::from(s.map_err(unreadable)?) / scale);
            }
        }
    }
    let mono: Vec<f64> = interleaved
        .chunks(channels)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let out_len = (seconds * 16_000.0).round() as usize;
    let ratio = f64::from(spec.sample_rate) / 16_000.0;
    let write_err = |e: hound::Error| AudioError::Write {
        path: dest.display().to_string(),
        why: e.to_string(),
    };
    let out_spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(dest, out_spec).map_err(write_err)?;
    let mut written = 0u64;
    for i in 0..out_len {
        let at = i as f64 * ratio;
        let j = at.floor() as usize;
        if j >= mono.len() {
            break;
        }
        let next = mono.get(j + 1).copied().unwrap_or(mono[j]);
        let v = mono[j] + (next - mono[j]) * (at - j as f64);
        let pcm = (v * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        writer.write_sample(pcm).map_err(write_err)?;
        written += 1;
    }
    writer.finalize().map_err(write_err)?;
    Ok(frame_count(written, 16_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(path: &Path, rate: u32, channels: u16, seconds: f64) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let n = (seconds * f64::from(rate)) as usize * usize::from(channels);
        for i in 0..n {
            w.write_sample(((i % 200) as i16 - 100) * 50).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn frames_follow_sadtalkers_formula() {
        assert_eq!(frame_count(16_000 * 4, 16_000), 100);
        // 44.1 kHz: ceil(L x 16000 / 44100) samples at 16 kHz, then floor over 640.
        assert_eq!(frame_count(44_100 * 5 * 60, 44_100), 7500);
        assert_eq!(frame_count(639, 16_000), 0);
        assert_eq!(frame_count(13_999, 16_000), 21);
    }

    #[test]
    fn a_trial_clip_is_16k_mono_with_25_frames_per_second() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("long.wav");
        wav(&src, 44_100, 2, 6.0);
        let facts = inspect(&src).unwrap();
        assert_eq!(facts.frames, 150);
        let dest = tmp.path().join("trial.wav");
        assert_eq!(cut_trial(&src, 4.0, &dest).unwrap(), 100);
        let out = hound::WavReader::open(&dest).unwrap();
        assert_eq!(out.spec().sample_rate, 16_000);
        assert_eq!(out.spec().channels, 1);
        assert_eq!(out.duration(), 64_000);
    }

    #[test]
    fn other_formats_get_the_conversion_to_run() {
        let tmp = tempfile::tempdir().unwrap();
        let mp3 = tmp.path().join("talk.mp3");
        std::fs::write(&mp3, b"ID3").unwrap();
        let err = inspect(&mp3).unwrap_err().to_string();
        let (mp3, wav) = (mp3.display(), tmp.path().join("talk.wav"));
        let convert = format!("ffmpeg -i {mp3} -ac 1 -ar 16000 {}", wav.display());
        assert!(err.contains(&convert), "{err}");
        let bad = tmp.path().join("bad.wav");
        std::fs::write(&bad, b"not a wav").unwrap();
        assert!(inspect(&bad)
            .unwrap_err()
            .to_string()
            .contains("not a readable WAV"));
    }

    #[test]
    fn a_missing_file_is_named_with_what_to_pass() {
        let err = inspect(Path::new("/nonexistent/talk.wav"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/nonexistent/talk.wav: no such file; pass --audio with a WAV file"
        );
    }
}
