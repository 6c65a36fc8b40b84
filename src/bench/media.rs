//! The media around a run: the audio length from the WAV header, and the output video's size
//! and duration (the duration only where `ffprobe` is on PATH, run with a deadline).

use super::record::VideoInfo;
use crate::process::{run_bounded, DEFAULT_GRACE};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Seconds of audio in a WAV file, from its header.
pub fn wav_seconds(path: &Path) -> Result<f64, String> {
    let reader = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    if spec.sample_rate == 0 {
        return Err(format!("{}: sample rate 0", path.display()));
    }
    Ok(reader.duration() as f64 / spec.sample_rate as f64)
}

/// What can be found out about the video at `path` now.
pub fn probe_video(path: &Path, ffprobe: Option<&Path>) -> VideoInfo {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file());
    let mut info = VideoInfo {
        path: path.display().to_string(),
        exists: meta.is_some(),
        size_bytes: meta.map(|m| m.len()),
        duration_s: None,
        probe_note: None,
    };
    if !info.exists {
        return info;
    }
    let Some(ffprobe) = ffprobe else {
        info.probe_note = Some("ffprobe is not on PATH; duration unknown".into());
        return info;
    };
    let mut cmd = Command::new(ffprobe);
    cmd.args(["-v", "error", "-show_entries", "format=duration", "-of"])
        .arg("default=noprint_wrappers=1:nokey=1")
        .arg(path);
    match run_bounded(cmd, Duration::from_secs(20), DEFAULT_GRACE) {
        Ok(done) if done.success() => {
            let text = String::from_utf8_lossy(&done.stdout);
            info.duration_s = text.trim().parse().ok();
            if info.duration_s.is_none() {
                info.probe_note = Some(format!("ffprobe gave no duration ({})", text.trim()));
            }
        }
        Ok(done) => {
            info.probe_note = Some(format!(
                "ffprobe could not read it: {}",
                done.stderr_tail(1)
            ))
        }
        Err(e) => info.probe_note = Some(format!("ffprobe did not run: {e}")),
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_audio_length_from_the_header() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for _ in 0..24000 {
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(wav_seconds(&path).unwrap(), 1.5);
        assert!(wav_seconds(&tmp.path().join("missing.wav")).is_err());
    }

    #[test]
    fn a_missing_video_is_reported_missing() {
        let info = probe_video(Path::new("/nonexistent/x.mp4"), None);
        assert!(!info.exists);
        assert_eq!(info.size_bytes, None);
    }
}
