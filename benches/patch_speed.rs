//! Speed of `scan` and `patch` on a SadTalker-sized tree (about 120 Python files, 30k lines),
//! generated in a temp directory. Run with `cargo bench --bench patch_speed`; prints figures.

use sadfix::install::locate;
use sadfix::patch::catalog::{self, SHIPPED};
use sadfix::patch::engine;
use sadfix::patch::recipe::load_all;
use sadfix::patch::scan::scan_report;
use sadfix::patch::source::Source;
use sadfix::patch::PatchOptions;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 120;
const RUNS: usize = 30;

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = match std::env::var_os("SADFIX_BENCH_TREE") {
        Some(dir) => PathBuf::from(dir),
        None => tmp.path().join("SadTalker"),
    };
    let lines = generate(&root);
    println!(
        "tree: {FILES} Python files, {lines} lines, at {}",
        root.display()
    );
    println!(
        "load average at start: {} ({} cores)",
        load_average(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let load = median(10, || {
        load_all(SHIPPED).expect("recipes load");
    });
    println!("read, validate and compile every recipe: {}", ms(load));
    let start = Instant::now();
    let listed = catalog::listed().expect("recipes load").recipes.len();
    println!(
        "validate and compile the {listed} listed recipes (all that scan needs), once: {:.2} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let recipes = catalog::shipped().expect("recipes load");

    let install = locate(Some(&root), Path::new("/")).expect("the generated tree is an install");
    let start = Instant::now();
    let all_files = sadfix::install::files::read_all(sadfix::install::python_files(&install.root));
    let filter = sadfix::patch::prefilter::listed();
    let ids = filter.recipes_for(&sadfix::patch::scan::present(&filter.strings, &all_files));
    let prefilter = start.elapsed();
    let start = Instant::now();
    let needed = catalog::for_recipes(&ids)
        .expect("recipes load")
        .recipes
        .len();
    println!(
        "read the tree and find the needles and literals: {:.2} ms; validate and compile the {needed} recipes that can match, once: {:.2} ms",
        prefilter.as_secs_f64() * 1e3,
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut sites = 0;
    let scan = median(RUNS, || {
        sites = scan_report(&install).expect("scan").sites.len()
    });
    println!(
        "scan the tree (library, recipes loaded): {} ({sites} sites)",
        ms(scan)
    );
    let files = sadfix::install::files::read_all(sadfix::install::python_files(&install.root));
    let full_parse = median(5, || {
        let (_, all) = sadfix::patch::scan::analyze_files(
            catalog::shipped,
            catalog::needles(),
            &install.root,
            &files,
            &PatchOptions::default(),
            false,
        )
        .expect("scan");
        let full: usize = all
            .iter()
            .map(|(_, o)| match o {
                sadfix::patch::scan::FileOutcome::Analyzed(_, a) => a.sites.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(full, sites, "parsing whole files finds the same sites");
    });
    println!(
        "scan the tree parsing whole files (for comparison): {}",
        ms(full_parse)
    );

    let bytes = std::fs::read(root.join("inference.py")).expect("inference.py");
    let options = PatchOptions {
        force_gpu: true,
        batch_size: Some(4),
        cuda_timeout: None,
        ..PatchOptions::NONE
    };
    let mut changed = false;
    let patch = median(RUNS, || {
        let src = Source::parse(&bytes).expect("UTF-8");
        let analysis = engine::analyze(recipes, &src, Path::new("inference.py"), &options);
        let applied = engine::fix(&src, analysis.fixes);
        let fixed = src.reparse(applied.text);
        assert!(fixed.syntax_error().is_none());
        changed = fixed.text != src.text;
    });
    assert!(changed, "the patch changed inference.py");
    println!(
        "patch one inference.py in memory (parse, match, edit, re-parse): {}",
        ms(patch)
    );

    if let Some(bin) = release_binary() {
        let cli_scan = median(10, || {
            let ok = Command::new(&bin)
                .args(["scan", "--json", "--root"])
                .arg(&root)
                .output()
                .expect("run sadfix")
                .status
                .success();
            assert!(ok);
        });
        println!(
            "`sadfix scan --json` end to end (process, recipes, scan, JSON): {}",
            ms(cli_scan)
        );
        let (cli_text, cli_cpu) = median_cpu(RUNS, || {
            let ok = Command::new(&bin)
                .args(["scan", "--root"])
                .arg(&root)
                .output()
                .expect("run sadfix")
                .status
                .success();
            assert!(ok);
        });
        println!(
            "`sadfix scan` end to end: {}, CPU {:.2} ms",
            ms(cli_text),
            cli_cpu.as_secs_f64() * 1e3
        );
        match ast_grep() {
            Ok(sg) => {
                println!("ast-grep: {}", sg.display());
                let (one_pattern, sg_cpu) = median_cpu(RUNS, || {
                    let out = Command::new(&sg)
                        .args(["run", "-l", "python", "-p", "torch.cuda.is_available()"])
                        .arg(&root)
                        .output()
                        .expect("run ast-grep");
                    assert!(out.status.success(), "ast-grep found the pattern");
                });
                println!(
                    "`ast-grep run -l python -p 'torch.cuda.is_available()'` on the same tree: {}, CPU {:.2} ms",
                    ms(one_pattern),
                    sg_cpu.as_secs_f64() * 1e3
                );
                let ahead = |a: Duration, b: Duration| if a < b { "ahead" } else { "behind" };
                println!(
                    "sadfix scan vs ast-grep (one pattern): wall {:.1} vs {:.1} ms (sadfix {}), CPU {:.1} vs {:.1} ms (sadfix {})",
                    cli_text.as_secs_f64() * 1e3,
                    one_pattern.as_secs_f64() * 1e3,
                    ahead(cli_text, one_pattern),
                    cli_cpu.as_secs_f64() * 1e3,
                    sg_cpu.as_secs_f64() * 1e3,
                    ahead(cli_cpu, sg_cpu),
                );
            }
            Err(why) => println!("ast-grep: absent ({why}); no side-by-side figure"),
        }
        // `PATH=/nonexistent` leaves no python3 to find, so no `py_compile` runs.
        let patch_check = |path: Option<&str>| {
            median(10, || {
                let mut cmd = Command::new(&bin);
                cmd.args([
                    "patch",
                    "--force-gpu",
                    "--batch-size",
                    "4",
                    "--check",
                    "--root",
                ])
                .arg(&root);
                if let Some(path) = path {
                    cmd.env("PATH", path);
                }
                let status = cmd.output().expect("run sadfix").status;
                assert_eq!(status.code(), Some(1));
            })
        };
        let cli_patch = patch_check(None);
        println!("`sadfix patch --force-gpu --batch-size 4 --check` end to end (includes py_compile): {}", ms(cli_patch));
        let no_compile = patch_check(Some("/nonexistent"));
        println!(
            "the same without python3 on PATH (no py_compile): {}",
            ms(no_compile)
        );
    } else {
        println!(
            "no target/release/sadfix: run `cargo build --release` for the end-to-end figures"
        );
    }
    println!("load average at end: {}", load_average());
    compat_speed(&root, release_binary().as_deref());
}

/// `ast-grep` from PATH, or installed from PyPI (`ast-grep-cli` ships the binary) when absent.
/// The binary in pip's scripts directory comes first: a version manager's shim on PATH (pyenv)
/// is a shell script that would add its own start-up to every run.
fn ast_grep() -> Result<PathBuf, String> {
    let find = || {
        let scripts = Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ])
            .output()
            .ok()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("ast-grep"));
        scripts
            .filter(|p| p.is_file())
            .or_else(|| sadfix::install::on_path("ast-grep"))
    };
    if let Some(bin) = find() {
        return Ok(bin);
    }
    let pip = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "ast-grep-cli"])
        .output()
        .map_err(|e| format!("python3 -m pip could not run: {e}"))?;
    if !pip.status.success() {
        return Err(format!(
            "pip install ast-grep-cli failed: {}",
            String::from_utf8_lossy(&pip.stderr).trim()
        ));
    }
    find().ok_or_else(|| "installed ast-grep-cli, but no ast-grep on PATH".into())
}

/// The 1-, 5- and 15-minute load averages: the figures mean little on a busy machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// CPU time (user + system) of the children that have ended so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Median wall time and median CPU time (all threads) of a command run `runs` times: CPU time
/// moves less with the load of other work on the machine than wall time does.
fn median_cpu(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..runs {
        let (start, before) = (Instant::now(), children_cpu());
        f();
        wall.push(start.elapsed());
        cpu.push(children_cpu().saturating_sub(before));
    }
    wall.sort();
    cpu.sort();
    (wall[runs / 2], cpu[runs / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms (median)", d.as_secs_f64() * 1000.0)
}

fn release_binary() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/sadfix");
    bin.is_file().then_some(bin)
}

/// Write the tree; returns the number of lines.
fn generate(root: &Path) -> usize {
    let mut total = 0;
    let mut write = |rel: &str, text: String| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        total += text.lines().count();
        std::fs::write(path, text).unwrap();
    };
    write("inference.py", inference());
    write("src/utils/init_path.py", module(0, 250));
    write("src/gradio_demo.py", gradio());
    let dirs = [
        "src/facerender/modules",
        "src/audio2exp_models",
        "src/audio2pose_models",
        "src/face3d/models",
        "src/utils",
    ];
    for i in 0..FILES - 3 {
        write(
            &format!("{}/module_{i}.py", dirs[i % dirs.len()]),
            module(i, 250),
        );
    }
    total
}

fn inference() -> String {
    let mut s = String::from("import os\nimport sys\nimport shutil\nfrom argparse import ArgumentParser\n\nimport torch\n\n\n");
    s.push_str("def main(args):\n");
    for i in 0..100 {
        let _ = writeln!(
            s,
            "    step_{i} = os.path.join(args.result_dir, 'step_{i}')  # stage {i}"
        );
    }
    s.push_str("    shutil.rmtree(args.result_dir, ignore_errors=True)\n\n\nif __name__ == '__main__':\n    parser = ArgumentParser()\n");
    for name in [
        "driven_audio",
        "source_image",
        "ref_eyeblink",
        "ref_pose",
        "checkpoint_dir",
        "result_dir",
    ] {
        let _ = writeln!(
            s,
            "    parser.add_argument(\"--{name}\", default=None, help=\"path to {name}\")"
        );
    }
    s.push_str("    parser.add_argument(\"--batch_size\", type=int, default=2,  help=\"the batch size of facerender\")\n");
    s.push_str("    parser.add_argument(\"--cpu\", dest=\"cpu\", action=\"store_true\")\n    args = parser.parse_args()\n\n");
    s.push_str("    if torch.cuda.is_available() and not args.cpu:\n        args.device = \"cuda\"\n    else:\n        args.device = \"cpu\"\n\n    main(args)\n");
    s
}

fn gradio() -> String {
    let mut s = String::from("import torch\n\n\nclass SadTalker():\n\n    def __init__(self, checkpoint_path='checkpoints'):\n\n");
    s.push_str("        if torch.cuda.is_available() :\n            device = \"cuda\"\n        else:\n            device = \"cpu\"\n\n        self.device = device\n");
    s.push_str("\n\n");
    s.push_str(&module(999, 200));
    s.push('\n');
    s
}

/// A module in SadTalker's style: torch layers that move tensors to the device they are given.
/// Like the real tree, only some modules spell out a device or a batch size: one in eight has
/// a `device='cuda'` default, one in ten a `batch_size=` keyword, one in twelve a CUDA check.
fn module(n: usize, lines: usize) -> String {
    let default = if n.is_multiple_of(8) {
        "device='cuda'"
    } else {
        "device=None"
    };
    let mut s = format!("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Block{n}(nn.Module):\n    def __init__(self, dim=256, {default}):\n        super().__init__()\n        self.device = device\n");
    if n.is_multiple_of(10) {
        s.push_str("        self.loader = make_loader(dim, batch_size=8)\n");
    }
    if n.is_multiple_of(12) {
        s.push_str("        if torch.cuda.is_available():\n            torch.cuda.empty_cache()\n");
    }
    let mut i = 0;
    while s.lines().count() < lines - 6 {
        let _ = write!(
            s,
            "\n    def forward_{i}(self, x, scale={i}):\n        y = F.interpolate(x.to(self.device), scale_factor=scale)\n        if y.shape[0] > {i}:\n            y = y * {i} + torch.zeros_like(y)\n        return y.detach().cpu() if scale else y\n"
        );
        i += 1;
    }
    s.push_str(
        "\n\ndef load(path):\n    state = torch.load(path, map_location='cpu')\n    return state\n",
    );
    s
}

/// `patch --compat` next to `--force-gpu` on the same tree, after the figures above: the
/// fixture's compat files (SadTalker's shapes) are added to the tree, and the gates read the
/// fixture's drifted package metadata with this machine's python3.
fn compat_speed(root: &Path, bin: Option<&Path>) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat");
    for rel in [
        "app_sadtalker.py",
        "src/face3d/util/preprocess.py",
        "src/face3d/util/my_awing_arch.py",
        "src/face3d/extract_kp_videos.py",
        "src/utils/preprocess.py",
        "src/utils/croper.py",
        "src/utils/text2speech.py",
        "src/facerender/animate.py",
        "src/facerender/modules/make_animation.py",
    ] {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join("SadTalker").join(rel), &to).unwrap();
    }
    let install = locate(Some(root), Path::new("/")).expect("still an install");
    // The probe (and the CLI below) find the drifted metadata first on sys.path.
    std::env::set_var("PYTHONPATH", fixture.join("packages-new"));
    let facts = sadfix::patch::installed::read(&install, None).ok();
    let Some(facts) = facts else {
        println!("patch --compat: skipped (no python3 to read the package versions)");
        return;
    };
    let plan_with = |options: &PatchOptions| {
        median(10, || {
            let plan = sadfix::patch::plan::plan_gated(&install, options, &facts).expect("plan");
            assert!(!plan.changes.is_empty());
        })
    };
    let force = plan_with(&PatchOptions {
        force_gpu: true,
        ..PatchOptions::NONE
    });
    let compat = plan_with(&PatchOptions {
        compat: true,
        ..PatchOptions::NONE
    });
    println!(
        "plan --force-gpu / --compat (library, versions read once): {} / {}",
        ms(force),
        ms(compat)
    );
    let Some(bin) = bin else { return };
    let cli = |flag: &str| {
        median(10, || {
            let status = Command::new(bin)
                .args(["patch", flag, "--check", "--root"])
                .arg(root)
                .output()
                .expect("run sadfix")
                .status;
            assert_eq!(status.code(), Some(1));
        })
    };
    println!(
        "`sadfix patch --force-gpu --check` / `--compat --check` end to end (compat includes the package probe): {} / {}",
        ms(cli("--force-gpu")),
        ms(cli("--compat"))
    );
}
