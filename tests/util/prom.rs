//! The Prometheus text format (0.0.4) read back strictly, so tests check what sadfix's
//! `--metrics` files say rather than grep them.

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: HELP and TYPE per family, the samples in order.
#[derive(Debug, Default)]
pub struct Exposition {
    pub help: BTreeMap<String, String>,
    pub kind: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample matching; panics when there is not exactly one.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0].value
    }
}

/// The text format (0.0.4), strictly: a sample's family must have HELP and TYPE before it.
pub fn parse(text: &str) -> Exposition {
    let mut exp = Exposition::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(
                exp.help.insert(name.into(), help.into()).is_none(),
                "HELP twice: {name}"
            );
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(
                exp.kind.insert(name.into(), kind.into()).is_none(),
                "TYPE twice: {name}"
            );
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            exp.samples.push(sample(line));
        }
    }
    for s in &exp.samples {
        assert!(
            exp.help.contains_key(&s.name) && exp.kind.contains_key(&s.name),
            "{s:?}"
        );
    }
    exp
}

fn sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect("a name");
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        loop {
            let (start, c) = chars.next().expect("unterminated labels");
            if c == '}' {
                rest = &body[start + 1..];
                break;
            }
            let eq = body[start..].find("=\"").expect("label=\"") + start;
            let key = body[start..eq].trim_start_matches(',').to_string();
            for _ in start..eq + 1 {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars.next().expect("unterminated value").1 {
                    '\\' => match chars.next().expect("escape").1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => panic!("bad escape \\{c} in {line}"),
                    },
                    '"' => break,
                    '\n' => panic!("raw newline"),
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
        }
    }
    let value = rest
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("value in {line}"));
    Sample {
        name,
        labels,
        value,
    }
}
