//! The values and labels the commands' series share: the status scale of doctor's checks and
//! bench's verdicts with its `severity`, enum names as `--json` spells them, yes/no, MiB.

/// The value of a doctor check's or a bench verdict's status series: 0 ok, 1 warn, 2 fail,
/// 3 timeout; negative when not judged (-1 skip, -2 interrupted). `>= 2` is a failure (doctor
/// exits 1), `>= 1` needs attention.
pub fn status_value(status: &str) -> f64 {
    match status {
        "ok" | "pass" => 0.0,
        "warn" => 1.0,
        "fail" => 2.0,
        "timeout" => 3.0,
        "skip" => -1.0,
        _ => -2.0,
    }
}

/// The `severity` label of a status series, in Alertmanager's usual words.
pub fn severity(status: &str) -> &'static str {
    match status {
        "fail" | "timeout" => "critical",
        "warn" => "warning",
        "ok" | "pass" => "none",
        _ => "info",
    }
}

/// An enum's name as `--json` spells it (`snake_case`; a tagged one's `kind`).
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// `true`/`false` for a label.
pub fn flag(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// 1 or 0 for a yes/no gauge.
pub fn one_if(value: bool) -> f64 {
    if value {
        1.0
    } else {
        0.0
    }
}

/// MiB (what NVML's figures are kept in) to bytes.
pub fn mib_to_bytes(mib: f64) -> f64 {
    mib * 1_048_576.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_scale_puts_failures_at_two_and_above() {
        let failing = ["fail", "timeout"];
        for s in [
            "ok",
            "pass",
            "warn",
            "fail",
            "timeout",
            "skip",
            "interrupted",
        ] {
            assert_eq!(status_value(s) >= 2.0, failing.contains(&s), "{s}");
        }
        assert_eq!(severity("timeout"), "critical");
        assert_eq!(severity("skip"), "info");
    }
}
