//! `doctor`'s series: each check's status (one series per check id, `status_value`'s scale,
//! `severity` and `area` as labels), the count per status, torch's build, CUDA, the driver and
//! each GPU as `_info` series, where the GPU facts came from, and the run's duration.

use super::{one_if, serde_name, severity, status_value, MetricsDoc};
use crate::doctor::check::{DoctorReport, Status};
use std::time::SystemTime;

const STATUSES: [Status; 6] = [
    Status::Ok,
    Status::Warn,
    Status::Fail,
    Status::Skip,
    Status::Timeout,
    Status::Interrupted,
];

/// Where the GPU facts came from, without the replayed file's path: `nvml`, `replay`,
/// `unavailable`.
fn gpu_source(report: &DoctorReport) -> &'static str {
    match report.gpu_source.as_str() {
        "nvml" => "nvml",
        s if s.starts_with("replay") => "replay",
        _ => "unavailable",
    }
}

/// `import` when the live import answered, `version_file` when the build was read from
/// `torch/version.py` (a path, which is no label).
fn read_from(source: &str) -> &'static str {
    if source == "import torch" {
        "import"
    } else {
        "version_file"
    }
}

pub fn doctor(report: &DoctorReport, now: SystemTime) -> MetricsDoc {
    let mut doc = MetricsDoc::for_command("doctor", now);
    let checks = doc.gauge(
        "sadfix_doctor_check_status",
        "Each doctor check: 0 ok, 1 warn, 2 fail, 3 timeout, -1 skip, -2 interrupted (>= 2 makes doctor exit 1).",
    );
    for check in &report.checks {
        let status = check.status.label();
        let area = serde_name(&check.area);
        checks.sample(
            &[
                ("check", &check.id),
                ("area", &area),
                ("severity", severity(status)),
            ],
            status_value(status),
        );
    }
    let counts = doc.gauge(
        "sadfix_doctor_checks",
        "How many doctor checks came out with each status.",
    );
    for status in STATUSES {
        let n = report.checks.iter().filter(|c| c.status == status).count();
        counts.sample(&[("status", status.label())], n as f64);
    }
    doc.gauge(
        "sadfix_doctor_duration_seconds",
        "How long doctor took, probes included.",
    )
    .value(report.elapsed_ms as f64 / 1000.0);

    let p = &report.platform;
    let source = gpu_source(report);
    doc.gauge(
        "sadfix_doctor_gpu_telemetry_info",
        "Where doctor's GPU facts came from: nvml, replay (a recorded snapshot, not this machine now) or unavailable, with NVML's failure (none when it answered).",
    )
    .sample(
        &[
            ("source", source),
            ("failure", p.nvml_failure.as_deref().unwrap_or("none")),
        ],
        1.0,
    );
    doc.gauge(
        "sadfix_nvidia_gpu_present",
        "Whether NVML or the kernel (/sys/class/drm) shows an NVIDIA GPU on this node (1), even when the driver is broken.",
    )
    .value(one_if(p.nvidia_gpu_seen));
    if let Some(torch) = &p.torch {
        doc.gauge(
            "sadfix_torch_build_info",
            "The install Python's torch build: version, CUDA and ROCm versions it was built for (empty: none), read from the import or torch/version.py.",
        )
        .sample(
            &[
                ("version", &torch.version),
                ("cuda", torch.cuda.as_deref().unwrap_or("")),
                ("hip", torch.hip.as_deref().unwrap_or("")),
                ("read_from", read_from(&torch.source)),
            ],
            1.0,
        );
    }
    if let Some(available) = p.cuda_available {
        doc.gauge(
            "sadfix_cuda_available",
            "Whether torch.cuda.is_available() returned True in the install's Python (1) or False (0).",
        )
        .value(one_if(available));
    }
    if let Some(driver) = &p.driver {
        doc.gauge(
            "sadfix_gpu_driver_info",
            "The NVIDIA driver's version and the newest CUDA it supports; source replay marks a recorded snapshot.",
        )
        .sample(
            &[
                ("version", &driver.version),
                ("cuda", driver.cuda.as_deref().unwrap_or("")),
                ("source", source),
            ],
            1.0,
        );
    }
    for gpu in &p.gpus {
        let index = gpu.index.to_string();
        doc.gauge(
            "sadfix_gpu_info",
            "Each GPU NVML lists, by index, with its name; source replay marks a recorded snapshot.",
        )
        .sample(
            &[("gpu", &index), ("name", &gpu.name), ("source", source)],
            1.0,
        );
        if let Some(total) = gpu.memory_total_bytes {
            doc.gauge("sadfix_gpu_memory_total_bytes", "Each GPU's memory.")
                .sample(&[("gpu", &index), ("source", source)], total as f64);
        }
    }
    doc
}
