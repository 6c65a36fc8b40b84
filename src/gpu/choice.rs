//! Which of NVML's GPUs a run uses. NVML numbers GPUs in PCI order; CUDA numbers them fastest
//! first unless `CUDA_DEVICE_ORDER=PCI_BUS_ID`, and `CUDA_VISIBLE_DEVICES` may name an index,
//! a UUID (`GPU-...`) or a MIG instance (`MIG-...`). The surest answer is NVML listing the run's
//! processes on a GPU; before that, the environment is mapped, and a mapping that is a guess
//! says so.

use serde::{Deserialize, Serialize};

/// One GPU as NVML numbers it, with what `CUDA_VISIBLE_DEVICES` may name it by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ids {
    pub index: u32,
    pub name: String,
    pub uuid: Option<String>,
}

/// How the run's GPU was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// NVML lists the run's processes on it.
    Processes,
    /// The only GPU NVML lists.
    Only,
    /// `CUDA_VISIBLE_DEVICES` names its UUID, or a MIG instance on it.
    Uuid,
    /// An index in PCI order (`CUDA_DEVICE_ORDER=PCI_BUS_ID`), or every GPU is the same model,
    /// so CUDA's fastest-first order is PCI order too.
    Index,
    /// An index in CUDA's fastest-first order taken as NVML's: a guess.
    Guess,
}

/// The run's GPU: NVML's index, and why that one.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub index: u32,
    pub basis: Basis,
    /// One sentence for the report.
    pub why: String,
}

/// The GPU of a run whose processes NVML lists: the first GPU holding one of `tree`.
pub fn by_processes(per_gpu: &[(u32, Vec<u32>)], tree: &[u32]) -> Option<Choice> {
    let (index, _) = per_gpu
        .iter()
        .find(|(_, pids)| pids.iter().any(|p| tree.contains(p)))?;
    Some(Choice {
        index: *index,
        basis: Basis::Processes,
        why: format!("NVML lists the run's processes on GPU {index}"),
    })
}

/// The GPU a CUDA program started with `visible` (`CUDA_VISIBLE_DEVICES`) and `order`
/// (`CUDA_DEVICE_ORDER`) uses as its device 0, among NVML's `gpus`. `mig_parent` finds the GPU
/// of a `MIG-<uuid>` (through NVML). An error says why no GPU is visible.
pub fn by_environment(
    gpus: &[Ids],
    visible: Option<&str>,
    order: Option<&str>,
    mig_parent: &dyn Fn(&str) -> Option<u32>,
) -> Result<Choice, String> {
    if gpus.is_empty() {
        return Err("NVML lists no GPU".into());
    }
    let pci_order = order.is_some_and(|o| o.trim() == "PCI_BUS_ID");
    let visible = visible.map(str::trim);
    // CUDA reads the list up to the first entry it cannot parse; the run's device is the first.
    let first = visible.map(|v| v.split(',').next().unwrap_or("").trim());
    let shown = |v: &str| format!("CUDA_VISIBLE_DEVICES={v}");
    let Some(first) = first else {
        return Ok(by_index(
            gpus,
            0,
            pci_order,
            "no CUDA_VISIBLE_DEVICES".into(),
        ));
    };
    let env = shown(visible.unwrap_or_default());
    if first.is_empty() || first.starts_with('-') {
        return Err(format!(
            "{env} hides every GPU from CUDA: the run uses the CPU"
        ));
    }
    if let Some(mig) = first.strip_prefix("MIG-") {
        // MIG-GPU-<uuid>/<gi>/<ci> (drivers before R470) names its GPU; MIG-<uuid> needs NVML.
        let parent = match mig.strip_prefix("GPU-") {
            Some(rest) => {
                let gpu_uuid = format!("GPU-{}", rest.split('/').next().unwrap_or(""));
                by_uuid(gpus, &gpu_uuid).map(|g| g.index)
            }
            None => mig_parent(first),
        };
        return parent
            .map(|index| Choice {
                index,
                basis: Basis::Uuid,
                why: format!("{env} names a MIG instance on GPU {index}"),
            })
            .ok_or_else(|| format!("{env} names a MIG instance NVML does not list"));
    }
    if first.starts_with("GPU-") {
        return by_uuid(gpus, first)
            .map(|g| Choice {
                index: g.index,
                basis: Basis::Uuid,
                why: format!("{env} names GPU {} by its UUID", g.index),
            })
            .ok_or_else(|| format!("{env} names a UUID NVML does not list"));
    }
    match first.parse::<u32>() {
        Ok(i) if (i as usize) < gpus.len() => Ok(by_index(gpus, i, pci_order, env)),
        Ok(i) => Err(format!(
            "{env} names device {i}, but NVML lists {} GPU(s)",
            gpus.len()
        )),
        Err(_) => Err(format!(
            "{env} is neither an index, a GPU- UUID nor a MIG- id: CUDA sees no GPU"
        )),
    }
}

/// CUDA's device `i` as NVML's: exact in PCI order or among GPUs of one model, else a guess.
fn by_index(gpus: &[Ids], i: u32, pci_order: bool, env: String) -> Choice {
    let index = gpus.get(i as usize).map_or(i, |g| g.index);
    let one_model = gpus.iter().all(|g| g.name == gpus[0].name);
    let (basis, why) = if gpus.len() == 1 {
        (Basis::Only, format!("{env}; GPU {index} is the only GPU"))
    } else if pci_order {
        (
            Basis::Index,
            format!(
                "{env} with CUDA_DEVICE_ORDER=PCI_BUS_ID: CUDA's device {i} is NVML's GPU {index}"
            ),
        )
    } else if one_model {
        (
            Basis::Index,
            format!("{env}: CUDA's device {i} is NVML's GPU {index} (every GPU is the same model, so CUDA's fastest-first order is PCI order)"),
        )
    } else {
        (
            Basis::Guess,
            format!(
                "{env}: CUDA's device {i} taken as NVML's GPU {index}, a guess: CUDA numbers GPUs \
                 fastest first, NVML in PCI order (CUDA_DEVICE_ORDER=PCI_BUS_ID makes them agree)"
            ),
        )
    };
    Choice { index, basis, why }
}

/// The GPU whose UUID starts with `uuid` (CUDA accepts a unique prefix).
fn by_uuid<'a>(gpus: &'a [Ids], uuid: &str) -> Option<&'a Ids> {
    let mut found = gpus
        .iter()
        .filter(|g| g.uuid.as_deref().is_some_and(|u| u.starts_with(uuid)));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(second: &str) -> Vec<Ids> {
        vec![
            Ids {
                index: 0,
                name: "NVIDIA GeForce RTX 3060".into(),
                uuid: Some("GPU-aaaa0000-0000-0000-0000-000000000000".into()),
            },
            Ids {
                index: 1,
                name: second.into(),
                uuid: Some("GPU-bbbb1111-0000-0000-0000-000000000001".into()),
            },
        ]
    }

    fn no_mig(_: &str) -> Option<u32> {
        None
    }

    #[test]
    fn an_index_is_exact_in_pci_order_or_on_one_model_and_a_guess_otherwise() {
        let mixed = two("NVIDIA GeForce RTX 4090");
        let guess = by_environment(&mixed, Some("1"), None, &no_mig).unwrap();
        assert_eq!((guess.index, guess.basis), (1, Basis::Guess));
        assert!(guess.why.contains("a guess"), "{}", guess.why);
        let pci = by_environment(&mixed, Some("1,0"), Some("PCI_BUS_ID"), &no_mig).unwrap();
        assert_eq!((pci.index, pci.basis), (1, Basis::Index));
        let same = two("NVIDIA GeForce RTX 3060");
        let exact = by_environment(&same, Some("1"), None, &no_mig).unwrap();
        assert_eq!((exact.index, exact.basis), (1, Basis::Index));
        let default = by_environment(&mixed, None, None, &no_mig).unwrap();
        assert_eq!((default.index, default.basis), (0, Basis::Guess));
        let only = by_environment(&mixed[..1], None, None, &no_mig).unwrap();
        assert_eq!(only.basis, Basis::Only);
    }

    #[test]
    fn uuids_prefixes_and_mig_ids_name_their_gpu() {
        let gpus = two("NVIDIA A100-SXM4-40GB");
        let by_full = by_environment(
            &gpus,
            Some("GPU-bbbb1111-0000-0000-0000-000000000001"),
            None,
            &no_mig,
        )
        .unwrap();
        assert_eq!((by_full.index, by_full.basis), (1, Basis::Uuid));
        let by_prefix = by_environment(&gpus, Some("GPU-bbbb"), None, &no_mig).unwrap();
        assert_eq!(by_prefix.index, 1);
        // An ambiguous prefix names none.
        assert!(by_environment(&gpus, Some("GPU-"), None, &no_mig).is_err());
        let old_mig = by_environment(
            &gpus,
            Some("MIG-GPU-bbbb1111-0000-0000-0000-000000000001/1/0"),
            None,
            &no_mig,
        )
        .unwrap();
        assert_eq!((old_mig.index, old_mig.basis), (1, Basis::Uuid));
        let new_mig = by_environment(
            &gpus,
            Some("MIG-7c1d0000-0000-0000-0000-000000000000"),
            None,
            &|id| id.starts_with("MIG-7c1d").then_some(1),
        )
        .unwrap();
        assert_eq!(new_mig.index, 1);
        assert!(new_mig.why.contains("MIG instance on GPU 1"));
    }

    #[test]
    fn a_hidden_or_unknown_device_is_a_reason() {
        let gpus = two("NVIDIA GeForce RTX 4090");
        for visible in ["", "-1", "5", "abc", "GPU-ffff"] {
            let why = by_environment(&gpus, Some(visible), None, &no_mig).unwrap_err();
            assert!(why.contains("CUDA_VISIBLE_DEVICES="), "{why}");
        }
    }

    #[test]
    fn the_run_s_processes_decide_over_the_environment() {
        let per_gpu = vec![(0, vec![10, 11]), (1, vec![4242])];
        let chosen = by_processes(&per_gpu, &[4000, 4242]).unwrap();
        assert_eq!((chosen.index, chosen.basis), (1, Basis::Processes));
        assert_eq!(by_processes(&per_gpu, &[7]), None);
    }
}
