//! A run sadfix follows from its start: the command (marked with `SADFIX_RUN=<id>` so that
//! every process it starts belongs to the run), or a process it only watches (`--attach`); the
//! census of its processes, the telemetry sources, Ctrl-C, and the `RunRecord` that comes out.

use super::census::{self, Census};
use super::options::{BenchOptions, Target};
use super::record::{
    GpuSourceInfo, HostMeta, Origin, RunMeta, RunRecord, VideoInfo, TRACE_VERSION,
};
use super::runner::{self, Event, Follow, RunLimits, RunOutput};
use super::sources::{own_cpu_seconds, sources_for, GpuInfo};
use super::telemetry::TelemetrySource;
use crate::exit::{coded, ExitCode};
use anyhow::Context;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A run about to start (or be watched): its command, marker, telemetry and Ctrl-C watch.
pub struct Started<'o> {
    command: Option<Command>,
    pub argv: Vec<String>,
    options: &'o BenchOptions,
    follow: Follow,
    census: Arc<Mutex<Census>>,
    sources: Option<Vec<Box<dyn TelemetrySource>>>,
    gpu: GpuInfo,
    started_unix_s: u64,
    kind: Option<&'static str>,
    /// `--attach`: where the watched process's stdout went when sadfix attached.
    root_stdout: Option<String>,
}

impl<'o> Started<'o> {
    /// Prepare `command`; `kind` is `exec` for a host's command (marked with `SADFIX_RUN`).
    pub fn now(
        command: Command,
        argv: Vec<String>,
        options: &'o BenchOptions,
        kind: Option<&'static str>,
    ) -> anyhow::Result<Self> {
        let run_id = census::new_run_id();
        let census = Arc::new(Mutex::new(Census::new(Some(run_id.clone()))));
        let (sources, gpu) = sources_for(census.clone(), None);
        Ok(Started {
            command: Some(command),
            argv,
            options,
            follow: Follow {
                run_id: Some(run_id),
                logs: options.logs.clone(),
            },
            census,
            sources: Some(sources),
            gpu,
            started_unix_s: unix_now(),
            kind,
            root_stdout: None,
        })
    }

    /// Prepare to watch `pid`, which sadfix did not start.
    pub fn watching(pid: u32, options: &'o BenchOptions) -> Self {
        let census = Arc::new(Mutex::new(Census::new(None)));
        let (sources, gpu) = sources_for(census.clone(), Some(pid));
        Started {
            command: None,
            argv: census::cmdline_of(pid),
            options,
            follow: Follow {
                run_id: None,
                logs: options.logs.clone(),
            },
            census,
            sources: Some(sources),
            gpu,
            started_unix_s: unix_now(),
            kind: Some("attach"),
            root_stdout: census::stdout_of(pid),
        }
    }

    /// Run (or watch) to the end; Ctrl-C ends the run's processes and returns what was seen.
    pub fn run(&mut self, observe: &mut dyn FnMut(Event)) -> anyhow::Result<RunOutput> {
        crate::interrupt::Watch::start().context("cannot set up the Ctrl-C handler")?;
        let sources = self.sources.take().unwrap_or_default();
        match self.command.take() {
            Some(command) => {
                let limits = RunLimits {
                    timeout: self.options.timeout,
                    interval: self.options.interval,
                };
                runner::run_followed(command, &limits, &self.follow, sources, observe).map_err(
                    |e| {
                        let hint = match (e.kind(), self.kind) {
                            (std::io::ErrorKind::NotFound, Some("exec")) => {
                                "; --exec runs it without a shell: give the program's path, or sh -c '...'"
                            }
                            _ => "",
                        };
                        coded(
                            ExitCode::RunFailed,
                            format!("cannot start {}: {e}{hint}", self.argv[0]),
                        )
                    },
                )
            }
            None => {
                let pid = match self.options.target {
                    Target::Attach { pid, .. } => pid,
                    _ => unreachable!("watching is only for --attach"),
                };
                let duration = match self.options.target {
                    Target::Attach { duration, .. } => duration,
                    _ => None,
                };
                let limits = RunLimits {
                    timeout: duration.unwrap_or(Duration::MAX),
                    interval: self.options.interval,
                };
                runner::attach(pid, &limits, &self.follow.logs, sources, observe).map_err(|e| {
                    coded(
                        ExitCode::Usage,
                        format!("--attach {pid}: {e}; give the id of a running process"),
                    )
                })
            }
        }
    }

    /// What is known about the GPU source now.
    pub fn gpu_info(&self) -> GpuSourceInfo {
        self.gpu.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The record of a finished run.
    pub fn record(&self, output: RunOutput, output_video: Option<VideoInfo>) -> RunRecord {
        let sadtalker = self
            .census
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sadtalker
            .clone();
        // A host names the audio on SadTalker's command line, not on sadfix's.
        let audio = sadtalker.as_ref().and_then(|c| c.audio.clone());
        let audio_s = audio
            .as_deref()
            .and_then(|a| super::media::wav_seconds(std::path::Path::new(a)).ok());
        let host = (self.kind.is_some() || !self.options.logs.is_empty()).then(|| HostMeta {
            kind: self.kind.map(str::to_string),
            run_id: self.follow.run_id.clone().filter(|_| self.kind.is_some()),
            logs: self.options.logs.clone(),
            logs_followed: output.logs.clone(),
            sadtalker,
            root_stdout: self.root_stdout.clone(),
        });
        RunRecord {
            meta: RunMeta {
                trace_version: TRACE_VERSION,
                origin: Origin::Recorded,
                note: None,
                sadfix_version: env!("CARGO_PKG_VERSION").to_string(),
                started_unix_s: self.started_unix_s,
                command: self.argv.clone(),
                install: None,
                audio,
                audio_s,
                batch_size: None,
                interval_ms: self.options.interval_ms(),
                gpu: self.gpu_info(),
                child_pid: Some(output.child_pid),
                wall_s: output.wall_s,
                ending: output.ending,
                output_video,
                sadfix_cpu_s: own_cpu_seconds(),
                host,
            },
            lines: output.lines,
            samples: output.samples,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
