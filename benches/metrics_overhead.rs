//! What `--metrics FILE` costs each command: the document built from the command's report,
//! rendered and written atomically (temporary file, chmod, rename) into a temporary directory.
//! The reports are real: doctor's from `sadfix doctor --json` on the simulated install with a
//! replayed GPU, bench's from the committed GPU trace, tune's preflight from the replayed 6 GiB
//! GPU with sixteen trials. Run with `cargo bench --bench metrics_overhead`; prints figures.

use sadfix::bench::expect::Expectations;
use sadfix::doctor::check::DoctorReport;
use sadfix::gpu::snapshot as telemetry;
use sadfix::gpu::{facts as gpu, memory};
use sadfix::report::metrics::{self, MetricsDoc};
use sadfix::tune::audio;
use sadfix::tune::outcome::{Extra, TuneReport};
use sadfix::tune::preflight::{self, Inputs};
use sadfix::tune::recommend::Recommendation;
use sadfix::tune::trial::{Trial, TrialStatus};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

const RUNS: usize = 2000;

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "load average at start: {} ({} cores); {RUNS} writes per command into {}",
        load_average(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        dir.path().display()
    );

    let doctor = doctor_report(&fixtures);
    let record = sadfix::bench::trace::read(&fixtures.join("traces/gpu-synthetic")).expect("trace");
    let bench = sadfix::bench::report_of(
        &record,
        &Expectations::builtin(),
        Some("gpu-synthetic".into()),
        false,
    );
    let tune = tune_report(&fixtures);

    measure("doctor", &dir.path().join("sadfix-doctor.prom"), |now| {
        metrics::doctor::doctor(&doctor, now)
    });
    measure("bench", &dir.path().join("sadfix-bench.prom"), |now| {
        metrics::bench::bench(&bench, now)
    });
    measure("tune", &dir.path().join("sadfix-tune.prom"), |now| {
        metrics::tune::tune(&tune, now)
    });
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().ends_with(".prom"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// Build, render and write `RUNS` times; print the wall time's median, 99th percentile and
/// worst, the CPU time this thread spent (what the work costs, without the waits for a core on a
/// loaded machine) and the share of building the document alone.
fn measure(command: &str, path: &Path, build: impl Fn(SystemTime) -> MetricsDoc) {
    let mut built = Vec::with_capacity(RUNS);
    let mut total = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let cpu_start = thread_cpu();
        let start = Instant::now();
        let doc = build(SystemTime::now());
        let mid = Instant::now();
        metrics::write(path, &doc).expect("metrics written");
        let end = Instant::now();
        cpu.push(thread_cpu().saturating_sub(cpu_start));
        built.push(mid - start);
        total.push(end - start);
        bytes = doc.render().len();
    }
    built.sort();
    total.sort();
    cpu.sort();
    let series = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    println!(
        "{command:>6}: {series:>3} series, {bytes:>5} bytes; build + write: wall median {}, p99 {}, max {}; CPU median {}, p99 {}; building alone: median {}",
        us(total[RUNS / 2]),
        us(total[RUNS * 99 / 100]),
        us(total[RUNS - 1]),
        us(cpu[RUNS / 2]),
        us(cpu[RUNS * 99 / 100]),
        us(built[RUNS / 2]),
    );
}

/// CPU time of this thread (user and system).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn us(d: Duration) -> String {
    format!("{:.1} us", d.as_secs_f64() * 1e6)
}

/// A real doctor report: the binary on the simulated install, the GPU replayed.
fn doctor_report(fixtures: &Path) -> DoctorReport {
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    let out = Command::new(env!("CARGO_BIN_EXE_sadfix"))
        .arg("--root")
        .arg(fixtures.join("sim-install"))
        .args(["doctor", "--json", "--python"])
        .arg(String::from_utf8_lossy(&python.stdout).trim())
        .env(
            "SADFIX_GPU_REPLAY",
            fixtures.join("doctor/gpu/rtx3090-driver-550.json"),
        )
        .output()
        .expect("sadfix doctor runs");
    serde_json::from_slice(&out.stdout).expect("doctor --json parses")
}

/// The preflight on the replayed 6 GiB GPU, with a trial at every batch size at 1 and 2 runs.
fn tune_report(fixtures: &Path) -> TuneReport {
    let audio = audio::inspect(&fixtures.join("sim-install/examples/driven_audio/sim_2s.wav"))
        .expect("audio");
    let view = telemetry::from_replay(&fixtures.join("tune/gpu-6gib.json")).expect("snapshot");
    let batch_sizes = [1, 2, 4, 8, 16, 32, 48, 64];
    let pre = preflight::assess(
        Inputs {
            audio: &audio,
            size: 256,
            batch_sizes: &batch_sizes,
            headroom_pct: 15.0,
            gpu: gpu::from_view(&view, &|_| None),
            host_ram_free_mb: Some(16_000.0),
        },
        &|bs| memory::RunCost::prior(bs, 256),
    );
    let trials = batch_sizes
        .iter()
        .flat_map(|&bs| [1, 2].map(|p| (bs, p)))
        .map(|(batch_size, parallel)| Trial {
            batch_size,
            parallel,
            status: TrialStatus::Ok,
            render_s_per_frame: Some(0.3),
            wall_s: Some(20.0 / f64::from(parallel)),
            videos_per_min: Some(3.0 * f64::from(parallel)),
            gpu_mem_peak_mb: Some(2000.0 + 100.0 * f64::from(batch_size)),
            gpu_util_mean: Some(80.0),
            note: None,
            cpu_mean: None,
            baseline_mb: None,
            failure: None,
            overhead_s: 0.0,
            simulated: true,
            gpu_unavailable: None,
            device: None,
        })
        .collect();
    TuneReport {
        schema_version: 1,
        device: None,
        preflight: pre,
        trials,
        recommendation: Some(Recommendation {
            batch_size: 4,
            parallel: 2,
            speedup: Some(2.28),
            applied: false,
            videos_per_min: 6.0,
            default_batch_size: Some(2),
            by_time_alone: true,
            predicted_mb: None,
        }),
        extra: Extra {
            default_batch_size: Some(2),
            simulated: true,
            ..Extra::default()
        },
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|_| "?".into())
}
