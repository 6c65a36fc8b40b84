//! A live generation: the inference command built from the install and the flags, the media
//! defaults, the telemetry sources, Ctrl-C handling, and the `RunRecord` that comes out.

use super::media;
use super::options::{BenchOptions, Generation};
use super::record::RunRecord;
use super::runner::Event;
use crate::exit::{coded, ExitCode};
use crate::install::{choose_python, Install};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

pub use super::sources::{sources, sources_for};
use super::started::Started;

/// SadTalker's own default example media, tried before any other file in the folder.
const DEFAULT_AUDIO: &[&str] = &["bus_chinese.wav"];
const DEFAULT_IMAGE: &[&str] = &["full_body_1.png", "art_0.png"];

/// Everything decided before the child starts.
pub struct Plan {
    pub command: Command,
    pub argv: Vec<String>,
    pub audio: PathBuf,
    pub audio_s: Option<f64>,
    pub audio_note: Option<String>,
    pub result_dir: PathBuf,
    /// The folder the child runs in, against which the video it names is resolved.
    pub workdir: PathBuf,
}

/// Where each run's results go: a fresh directory under `.sadfix-bench/` in the working directory.
pub const RESULTS: &str = ".sadfix-bench";

pub fn plan(install: &Install, args: &Generation, cwd: &Path) -> anyhow::Result<Plan> {
    if let Some(template) = &args.host {
        return host_plan(template, args, cwd);
    }
    let script = install.inference_script().ok_or_else(|| {
        coded(
            ExitCode::NoInstall,
            format!(
                "{}: no inference.py; sadfix bench runs the command-line path (a {} has none)",
                install.root.display(),
                install.layout.describe()
            ),
        )
    })?;
    let env = |var: &str| std::env::var(var).ok();
    let python = choose_python(args.python.as_deref(), Some(install), &env).ok_or_else(|| {
        coded(
            ExitCode::Usage,
            "no Python found (no venv, no python3 on PATH); pass --python PATH",
        )
    })?;
    let audio = media_file(
        args.audio.as_deref(),
        install,
        "examples/driven_audio",
        &["wav"],
        DEFAULT_AUDIO,
        "--audio",
    )?;
    let image = media_file(
        args.image.as_deref(),
        install,
        "examples/source_image",
        &["png", "jpg", "jpeg"],
        DEFAULT_IMAGE,
        "--image",
    )?;
    let result_dir = result_dir(cwd)?;

    let mut argv: Vec<String> = vec![
        python.path.display().to_string(),
        script.display().to_string(),
    ];
    let mut add = |flag: &str, value: String| {
        argv.push(flag.to_string());
        argv.push(value);
    };
    add("--driven_audio", audio.display().to_string());
    add("--source_image", image.display().to_string());
    add("--result_dir", result_dir.display().to_string());
    if let Some(n) = args.batch_size {
        add("--batch_size", n.to_string());
    }
    if let Some(px) = args.size {
        add("--size", px.to_string());
    }
    if let Some(name) = &args.enhancer {
        add("--enhancer", name.clone());
    }
    if let Some(mode) = &args.preprocess {
        add("--preprocess", mode.clone());
    }
    argv.extend(args.passthrough.iter().cloned());
    // SadTalker resolves gfpgan/weights and ./results from the working directory.
    Ok(Plan::new(argv, install.root.clone(), audio, result_dir))
}

impl Plan {
    /// `argv` run in `workdir`, rendering `audio` into `result_dir`.
    fn new(argv: Vec<String>, workdir: PathBuf, audio: PathBuf, result_dir: PathBuf) -> Plan {
        let (audio_s, audio_note) = match media::wav_seconds(&audio) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(format!("audio length unknown: {e}"))),
        };
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).current_dir(&workdir);
        Plan {
            command,
            argv,
            audio,
            audio_s,
            audio_note,
            result_dir,
            workdir,
        }
    }
}

/// A host's own command (tune's `--exec`): its placeholders filled in, run in sadfix's working
/// folder (where a host finds its `./checkpoints`), without a shell.
fn host_plan(template: &[String], args: &Generation, cwd: &Path) -> anyhow::Result<Plan> {
    let given = |path: Option<&Path>, flag: &str| -> anyhow::Result<Option<PathBuf>> {
        match path {
            Some(p) if !p.is_file() => Err(coded(
                ExitCode::Usage,
                format!("{flag} {}: no such file", p.display()),
            )),
            Some(p) => Ok(Some(std::fs::canonicalize(p).unwrap_or_else(|_| p.into()))),
            None => Ok(None),
        }
    };
    let audio = given(args.audio.as_deref(), "--audio")?
        .ok_or_else(|| coded(ExitCode::Usage, "--exec: give the audio with --audio FILE"))?;
    let image = given(args.image.as_deref(), "--image")?;
    let result_dir = result_dir(cwd)?;
    let workdir = std::env::current_dir().context("cannot read the working directory")?;
    let number = |n: Option<u32>| n.map(|n| n.to_string());
    let values = [
        ("{audio}", Some(audio.display().to_string())),
        ("{image}", image.as_ref().map(|p| p.display().to_string())),
        ("{batch_size}", number(args.batch_size)),
        ("{size}", number(args.size)),
        ("{result_dir}", Some(result_dir.display().to_string())),
    ];
    let mut argv = Vec::with_capacity(template.len());
    for arg in template {
        let mut arg = arg.clone();
        for (name, value) in &values {
            if !arg.contains(name) {
                continue;
            }
            let value = value.as_deref().ok_or_else(|| {
                coded(
                    ExitCode::Usage,
                    format!("--exec: the command holds {name}, but no value was given for it"),
                )
            })?;
            arg = arg.replace(name, value);
        }
        argv.push(arg);
    }
    Ok(Plan::new(argv, workdir, audio, result_dir))
}

/// A fresh directory for one run's results under `.sadfix-bench/` in `cwd`.
fn result_dir(cwd: &Path) -> anyhow::Result<PathBuf> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let dir = cwd
        .join(RESULTS)
        .join(format!("{}-{}", stamp.as_secs(), std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the result directory {}", dir.display()))?;
    Ok(dir)
}

/// The media file given, or the install's own example (SadTalker's default name first).
fn media_file(
    given: Option<&Path>,
    install: &Install,
    folder: &str,
    extensions: &[&str],
    preferred: &[&str],
    flag: &str,
) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            return Err(coded(
                ExitCode::Usage,
                format!("{flag} {}: no such file", path.display()),
            ));
        }
        return Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    }
    let dir = install.root.join(folder);
    if let Some(p) = preferred.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
        return Ok(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        coded(
            ExitCode::Usage,
            format!("no example in {}; pass {flag} FILE", dir.display()),
        )
    })
}

/// Run the plan to its end and record it. Ctrl-C ends the child's group, not sadfix.
pub fn run(
    plan: Plan,
    install: &Install,
    options: &BenchOptions,
    observe: &mut dyn FnMut(Event),
) -> anyhow::Result<RunRecord> {
    let batch_size = match &options.target {
        super::options::Target::Install(g) => g.batch_size,
        _ => None,
    };
    let mut started = Started::now(plan.command, plan.argv, options, None)?;
    let output = started.run(observe)?;
    let timeline = super::stages::parse(&output.lines, output.wall_s);
    let ffprobe = crate::install::on_path("ffprobe");
    let output_video = timeline.output_video.as_ref().map(|named| {
        let path = plan.workdir.join(named);
        media::probe_video(&path, ffprobe.as_deref())
    });
    let mut record = started.record(output, output_video);
    record.meta.note = plan.audio_note;
    record.meta.install = Some(install.root.display().to_string());
    record.meta.audio = Some(plan.audio.display().to_string());
    record.meta.audio_s = plan.audio_s;
    record.meta.batch_size = batch_size;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(template: &[&str], image: Option<&Path>, dir: &Path) -> anyhow::Result<Plan> {
        let audio = dir.join("talk.wav");
        std::fs::write(&audio, b"RIFF").unwrap();
        let generation = Generation {
            audio: Some(audio),
            image: image.map(Path::to_path_buf),
            batch_size: Some(4),
            host: Some(template.iter().map(|s| s.to_string()).collect()),
            ..Generation::default()
        };
        let install = Install {
            root: dir.to_path_buf(),
            layout: crate::install::Layout::SitePackages,
            host: None,
        };
        plan(&install, &generation, dir)
    }

    #[test]
    fn a_hosts_command_gets_each_trials_values_and_runs_in_the_working_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        let p = host(
            &[
                "python",
                "app.py",
                "--audio={audio}",
                "-b",
                "{batch_size}",
                "{result_dir}",
            ],
            None,
            &dir,
        )
        .unwrap();
        assert_eq!(
            p.argv[2],
            format!("--audio={}", dir.join("talk.wav").display())
        );
        assert_eq!(p.argv[3..5], ["-b", "4"]);
        assert_eq!(p.argv[5], p.result_dir.display().to_string());
        assert!(p.result_dir.starts_with(dir.join(RESULTS)) && p.result_dir.is_dir());
        assert_eq!(p.workdir, std::env::current_dir().unwrap());
        let Err(err) = host(&["python", "app.py", "{image}"], None, &dir) else {
            panic!("{{image}} without --image was accepted");
        };
        assert!(err.to_string().contains("holds {image}"), "{err}");
    }
}
