//! Doctor's findings sorted into what a code change fixes (a `sadfix patch` command doctor
//! printed, read back through sadfix's own command line) and what only the environment fixes
//! (driver, wheel, container flags, loader path), the latter in the order to run them.

use crate::cli::{parse_from, Command};
use crate::doctor::check::{Check, DoctorReport, Status};
use crate::doctor::gathered::Gathered;
use crate::doctor::probe::ProbeOutcome;
use crate::patch::request::PatchRequest;
use crate::patch::PatchOptions;
use serde::Serialize;

/// Whether CUDA can work here, from doctor's CUDA probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CudaState {
    /// `is_available()` answered True and a tensor operation on the GPU worked.
    Works,
    /// The check did not answer before the deadline (a hang in the driver, WSL).
    Hangs,
    /// A CPU-only build, no driver, a GPU torch cannot run on, or torch does not import.
    CannotWork,
}

impl CudaState {
    pub fn of(g: &Gathered) -> CudaState {
        match &g.cuda {
            ProbeOutcome::TimedOut { .. } => CudaState::Hangs,
            ProbeOutcome::Done { result, .. } => {
                let op_ok = result.tensor_op.as_ref().is_some_and(|op| op.ok);
                if result.is_available == Some(true) && op_ok {
                    CudaState::Works
                } else {
                    CudaState::CannotWork
                }
            }
            _ => CudaState::CannotWork,
        }
    }
}

/// A finding a code change fixes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeFix {
    /// The doctor check (`code.device_selection`).
    pub check: String,
    pub status: Status,
    /// Doctor's one-line cause.
    pub cause: String,
    /// The `sadfix patch` command doctor gave.
    pub command: String,
    /// Why it is not applied by this run, when it is not.
    pub not_applied: Option<String>,
    #[serde(skip)]
    pub options: PatchOptions,
}

/// A finding only the environment fixes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvFix {
    pub check: String,
    pub status: Status,
    pub cause: String,
    /// Runnable as printed, or one sentence where no command exists.
    pub command: String,
}

/// Doctor's findings, sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sorted {
    pub code: Vec<CodeFix>,
    pub environment: Vec<EnvFix>,
}

impl Sorted {
    /// The code fixes this run applies, merged into one set of patch options.
    pub fn to_apply(&self) -> PatchOptions {
        let mut all = PatchOptions::default();
        for fix in self.code.iter().filter(|f| f.not_applied.is_none()) {
            let o = &fix.options;
            all.force_gpu |= o.force_gpu;
            all.cuda_timeout = all.cuda_timeout.or(o.cuda_timeout);
            all.compat |= o.compat;
            all.site_packages |= o.site_packages;
            all.offload_frames |= o.offload_frames;
        }
        // `--force-gpu` makes the CUDA check unconditional: a bound on it has nothing left to bound.
        if all.force_gpu {
            all.cuda_timeout = None;
        }
        all
    }
}

/// What this run may change besides the device choice.
pub struct Scope {
    pub site_packages: bool,
    pub tune: bool,
}

/// Sort every failing or warning check that carries a fix.
pub fn sort(report: &DoctorReport, scope: &Scope) -> Sorted {
    let mut sorted = Sorted::default();
    for check in report.checks.iter().filter(|c| worth_fixing(c.status)) {
        let texts = check.fix.iter().chain(check.evidence.iter());
        match texts.filter_map(|t| patch_command(t)).next() {
            // With --tune the trials answer the batch size; doctor's guess is not a fix then.
            Some((_, options)) if scope.tune && options.batch_size.is_some() => {}
            Some((command, options)) => sorted.code.push(CodeFix {
                check: check.id.clone(),
                status: check.status,
                cause: check.summary.clone(),
                not_applied: not_applied(check, &options, scope),
                command,
                options,
            }),
            None => {
                if let Some(fix) = &check.fix {
                    sorted.environment.push(EnvFix {
                        check: check.id.clone(),
                        status: check.status,
                        cause: check.summary.clone(),
                        command: fix.clone(),
                    });
                }
            }
        }
    }
    if let Some(why) = cuda_without_fix(report) {
        sorted.environment.push(why);
    }
    sorted
        .environment
        .sort_by_key(|f| (rank(&f.command), !f.status.is_failure()));
    let mut seen = std::collections::HashSet::new();
    sorted
        .environment
        .retain(|f| seen.insert(f.command.clone()));
    sorted
}

/// CUDA unavailable with no command that fixes it (no NVIDIA GPU here at all): the reason, said
/// as a sentence, so the list never leaves out why nothing was changed.
fn cuda_without_fix(report: &DoctorReport) -> Option<EnvFix> {
    let check = |id: &str| report.checks.iter().find(|c| c.id == id);
    let cuda = check("cuda.available").filter(|c| worth_fixing(c.status) && c.fix.is_none())?;
    let torch_fixed = check("torch.build").is_some_and(|c| c.fix.is_some());
    if torch_fixed {
        return None;
    }
    let no_gpu = check("gpu.vendor").is_some_and(|c| c.summary.starts_with("no GPU found"));
    let command = if no_gpu {
        "this machine has no NVIDIA GPU (neither NVML nor /sys/class/drm lists one), so SadTalker \
         can only run on its CPU here: on a machine with an NVIDIA GPU and its driver, install a \
         CUDA build of torch and run sadfix fix there"
    } else {
        "CUDA cannot work with this torch and driver and no single command fixes it: the checks \
         of sadfix doctor say which layer fails"
    };
    Some(EnvFix {
        check: cuda.id.clone(),
        status: cuda.status,
        cause: cuda.summary.clone(),
        command: command.into(),
    })
}

fn worth_fixing(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Timeout | Status::Warn)
}

/// Why a code fix is left for the user in this run.
fn not_applied(check: &Check, o: &PatchOptions, scope: &Scope) -> Option<String> {
    if o.batch_size.is_some() {
        return Some("`sadfix fix --tune` measures the batch size instead of guessing".into());
    }
    if o.site_packages && !scope.site_packages {
        return Some(
            "edits site-packages, outside the install: only with `sadfix fix --site-packages`"
                .into(),
        );
    }
    if check.status == Status::Warn {
        return Some("a warning, not a failure: fix changes what is broken now".into());
    }
    None
}

/// The first `sadfix patch ...` command in `text`, parsed by sadfix's own command line.
pub fn patch_command(text: &str) -> Option<(String, PatchOptions)> {
    let start = text.find("sadfix patch")?;
    let words = shell_words(&text[start..]);
    let mut taken: Vec<String> = words[..2].to_vec();
    let mut wants_value = false;
    for word in &words[2..] {
        let word = word.trim_end_matches([',', ';', ')']);
        if word.starts_with("--") {
            wants_value = matches!(
                word,
                "--root" | "--batch-size" | "--cuda-timeout" | "--python"
            );
            taken.push(word.to_string());
        } else if wants_value {
            taken.push(word.to_string());
            wants_value = false;
        } else {
            break;
        }
    }
    let cli = parse_from(taken.iter().map(Into::into).collect()).ok()?;
    let Command::Patch(args) = &cli.command else {
        return None;
    };
    let shown: Vec<String> = taken
        .iter()
        .map(|w| crate::doctor::shell::quote(w))
        .collect();
    match PatchRequest::from_args(args).ok()? {
        PatchRequest::Change { options, .. } => Some((shown.join(" "), options)),
        PatchRequest::Revert { .. } => None,
    }
}

/// Words as a POSIX shell splits them, for the commands doctor prints (single quotes, as
/// `doctor::shell::quote` writes them, and backslashes).
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&q| q != '\''));
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The order to run environment fixes in: the driver (and its reboot) before the torch wheel
/// built for it, then the environment of the shell, then packages, tools and weights.
fn rank(command: &str) -> u8 {
    let has = |s: &str| command.contains(s);
    if has("driver") || has("modprobe") || has("reboot") || has("docker run") || has("wsl ") {
        0
    } else if has("pip install") && has("torch ") {
        1
    } else if command.starts_with("export ") || command.starts_with("unset ") {
        2
    } else if has("pip install") {
        3
    } else if has("apt-get") || has("dnf ") || has("pacman ") {
        4
    } else if has("download_models") {
        5
    } else {
        6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::check::{Area, InstallSummary};

    fn report(checks: Vec<Check>) -> DoctorReport {
        DoctorReport {
            schema_version: 1,
            install: InstallSummary {
                root: "/i".into(),
                layout: "standalone".into(),
                host: None,
            },
            python: None,
            gpu_source: "nvml".into(),
            platform: Default::default(),
            checks,
            elapsed_ms: 0,
        }
    }

    fn check(id: &str, status: Status, fix: &str) -> Check {
        Check::new(id, Area::Code, status, format!("{id} summary")).fix(fix)
    }

    #[test]
    fn without_a_gpu_the_reason_is_said_even_though_no_command_fixes_it() {
        let bare = |id: &str, status: Status, summary: &str| {
            Check::new(id, Area::Torch, status, summary.to_string())
        };
        let sorted = sort(
            &report(vec![
                bare("torch.build", Status::Warn, "CPU-only torch build 1.13.0a0"),
                bare(
                    "cuda.available",
                    Status::Warn,
                    "torch.cuda.is_available() is False: torch is a CPU-only build",
                ),
                bare(
                    "gpu.vendor",
                    Status::Skip,
                    "no GPU found: neither NVML nor /sys/class/drm lists one",
                ),
                check("weights.gfpgan", Status::Warn, "download the weights"),
            ]),
            &Scope {
                site_packages: false,
                tune: false,
            },
        );
        let first = &sorted.environment[0];
        assert_eq!(first.check, "cuda.available");
        assert!(
            first.command.starts_with("this machine has no NVIDIA GPU"),
            "{first:?}"
        );
        assert_eq!(sorted.environment.len(), 2);
        // A torch.build fix (a wheel for the driver) is the cause's own command: no sentence then.
        let with_wheel = sort(
            &report(vec![
                check("torch.build", Status::Fail, "pip install torch"),
                bare("cuda.available", Status::Fail, "CPU-only build"),
            ]),
            &Scope {
                site_packages: false,
                tune: false,
            },
        );
        assert_eq!(with_wheel.environment.len(), 1);
        assert_eq!(with_wheel.environment[0].check, "torch.build");
    }

    #[test]
    fn patch_commands_are_read_through_the_command_line() {
        let (cmd, o) = patch_command("sadfix patch --root '/a b' --force-gpu").unwrap();
        assert!(o.force_gpu);
        assert_eq!(cmd, "sadfix patch --root '/a b' --force-gpu");
        let (_, o) = patch_command(
            "sadfix patch --offload-frames keeps the rendered frames in host RAM: the GPU",
        )
        .unwrap();
        assert!(o.offload_frames);
        assert_eq!(
            patch_command("sadfix patch --cuda-timeout 10")
                .unwrap()
                .1
                .cuda_timeout,
            Some(10)
        );
        assert!(patch_command("python3 -m pip install numpy==1.23.4").is_none());
        assert!(patch_command("sadfix patch --revert").is_none());
    }

    #[test]
    fn findings_sort_into_code_and_ordered_environment_fixes() {
        let pip = "python3 -m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu124";
        let sorted = sort(
            &report(vec![
                check(
                    "weights.checkpoints",
                    Status::Fail,
                    "cd /i && bash scripts/download_models.sh",
                ),
                check("torch.build", Status::Fail, pip),
                check("cuda.available", Status::Fail, pip),
                check(
                    "gpu.driver",
                    Status::Fail,
                    "sudo apt-get install -y nvidia-driver && sudo reboot",
                ),
                check(
                    "code.device_selection",
                    Status::Fail,
                    "sadfix patch --force-gpu",
                ),
                check(
                    "code.batch_size",
                    Status::Warn,
                    "sadfix patch --batch-size 4",
                ),
                check(
                    "packages.basicsr",
                    Status::Fail,
                    "sadfix patch --compat --site-packages",
                ),
                check("system.resources", Status::Warn, "").fix_opt(None),
            ]),
            &Scope {
                site_packages: false,
                tune: false,
            },
        );
        let commands: Vec<&str> = sorted
            .environment
            .iter()
            .map(|f| f.command.as_str())
            .collect();
        assert_eq!(
            commands,
            vec![
                "sudo apt-get install -y nvidia-driver && sudo reboot",
                pip,
                "cd /i && bash scripts/download_models.sh"
            ]
        );
        let applied: Vec<&str> = sorted
            .code
            .iter()
            .filter(|f| f.not_applied.is_none())
            .map(|f| f.check.as_str())
            .collect();
        assert_eq!(applied, vec!["code.device_selection"]);
        let o = sorted.to_apply();
        assert!(o.force_gpu && !o.compat && o.batch_size.is_none());
    }
}
