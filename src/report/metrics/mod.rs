//! Prometheus metrics for node_exporter's textfile collector: each command's report turned into
//! one `MetricsDoc` (families with HELP and TYPE, samples with escaped labels), rendered in the
//! text exposition format and written atomically (`write`). One file per command's series;
//! `docs/fleet.md` lists every series, its unit and the status scale.

pub mod bench;
pub mod doctor;
pub mod fix;
pub mod tune;
mod values;
mod write;

pub use values::{flag, mib_to_bytes, one_if, serde_name, severity, status_value};
pub use write::{write, MetricsError};

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The kind of a metric family. Every sadfix series is a snapshot of one run, so a gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
        }
    }
}

/// One sample: its labels (name, value) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// One metric family: a name, its help, its kind and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

impl Family {
    /// Add a sample with these labels.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Family {
        debug_assert!(
            labels.iter().all(|(n, _)| valid_name(n, false)),
            "{labels:?}"
        );
        self.samples.push(Sample {
            labels: labels.iter().map(|(n, v)| (*n, v.to_string())).collect(),
            value,
        });
        self
    }

    /// Add a sample without labels.
    pub fn value(&mut self, value: f64) -> &mut Family {
        self.sample(&[], value)
    }
}

/// The series of one command's run, in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsDoc {
    pub families: Vec<Family>,
}

impl MetricsDoc {
    /// A document for `command` (`doctor`, `bench`, ...), with the series every file has:
    /// sadfix's version and when this run ended (`now`).
    pub fn for_command(command: &'static str, now: SystemTime) -> MetricsDoc {
        let mut doc = MetricsDoc {
            families: Vec::new(),
        };
        doc.gauge(
            "sadfix_info",
            "sadfix's version, per command that wrote metrics (always 1).",
        )
        .sample(
            &[("command", command), ("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        doc.gauge(
            "sadfix_last_run_timestamp_seconds",
            "When the command's last run ended, in seconds since the Unix epoch.",
        )
        .sample(&[("command", command)], since_epoch.as_secs_f64());
        doc
    }

    /// The gauge family `name`, added at the end the first time it is asked for.
    pub fn gauge(&mut self, name: &'static str, help: &'static str) -> &mut Family {
        debug_assert!(valid_name(name, true), "{name}");
        let at = match self.families.iter().position(|f| f.name == name) {
            Some(at) => at,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    kind: Kind::Gauge,
                    samples: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[at]
    }

    /// The family named `name`, if any.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The text exposition format (version 0.0.4). Families without samples are left out.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64 * self.families.len() + 4096);
        for family in self.families.iter().filter(|f| !f.samples.is_empty()) {
            let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
            let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.name());
            for sample in &family.samples {
                out.push_str(family.name);
                if !sample.labels.is_empty() {
                    out.push('{');
                    for (i, (name, value)) in sample.labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                    }
                    out.push('}');
                }
                out.push(' ');
                out.push_str(&number(sample.value));
                out.push('\n');
            }
        }
        out
    }
}

/// A label value as the format asks: backslash, double quote and line feed escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Go's `ParseFloat` reads it: the shortest text that reads back the same.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, without `:` for label names.
fn valid_name(name: &str, metric: bool) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic()
            || c == '_'
            || (metric && c == ':')
            || (!first && c.is_ascii_digit())
    };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| ok(c, true)) && chars.all(|c| ok(c, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut doc = MetricsDoc::for_command("doctor", UNIX_EPOCH + Duration::from_secs(7));
        doc.gauge("sadfix_test_info", "A \\ help\nline.")
            .sample(&[("name", "a \"quoted\" \\ name\nsecond line")], 1.0);
        let text = doc.render();
        assert!(
            text.contains(r#"sadfix_test_info{name="a \"quoted\" \\ name\nsecond line"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("# HELP sadfix_test_info A \\\\ help\\nline."),
            "{text}"
        );
        assert!(text.contains("sadfix_last_run_timestamp_seconds{command=\"doctor\"} 7\n"));
    }

    #[test]
    fn a_family_is_written_once_and_an_empty_one_not_at_all() {
        let mut doc = MetricsDoc::for_command("bench", UNIX_EPOCH);
        doc.gauge("sadfix_x_seconds", "x.")
            .sample(&[("stage", "a")], 0.5);
        doc.gauge("sadfix_x_seconds", "x.")
            .sample(&[("stage", "b")], 1.25);
        doc.gauge("sadfix_empty_seconds", "nothing measured.");
        let text = doc.render();
        assert_eq!(text.matches("# TYPE sadfix_x_seconds gauge").count(), 1);
        assert!(text
            .contains("sadfix_x_seconds{stage=\"a\"} 0.5\nsadfix_x_seconds{stage=\"b\"} 1.25\n"));
        assert!(!text.contains("sadfix_empty_seconds"), "{text}");
    }

    #[test]
    fn values_read_back_exactly_and_special_values_are_spelled_as_go_reads_them() {
        for v in [97.304650426, 0.1 + 0.2, 1e-9, 3.0, 123456789012.0] {
            assert_eq!(number(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("sadfix_doctor_check_status", true));
        assert!(valid_name("sadfix:rule", true));
        assert!(!valid_name("sadfix:rule", false));
        assert!(!valid_name("9lives", true));
        assert!(!valid_name("", false));
    }
}
