//! Seeded mutations of a Python file as editors, formatters, forks and broken disks leave it:
//! reindented, requoted, respaced, commented, parenthesised, CRLF, tabs, a BOM, truncated, or
//! with random bytes. The same seed always gives the same file.
#![allow(dead_code)]

/// A small xorshift generator: deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The mutations, by name (the name goes into a kept case's file name).
pub const MUTATIONS: &[&str] = &[
    "reindent",
    "quotes",
    "spacing",
    "comment",
    "blank-lines",
    "parentheses",
    "crlf",
    "tabs",
    "bom",
    "truncate",
    "random-bytes",
];

/// Apply mutation `which` (an index into `MUTATIONS`) to `bytes`.
pub fn mutate(bytes: &[u8], which: usize, rng: &mut Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let lossless = std::str::from_utf8(bytes).is_ok();
    let out = match MUTATIONS[which % MUTATIONS.len()] {
        "truncate" => return bytes[..rng.below(bytes.len() + 1)].to_vec(),
        "random-bytes" => {
            let mut out = bytes.to_vec();
            let at = rng.below(out.len() + 1);
            let n = 1 + rng.below(4);
            let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            out.splice(at..at, junk);
            return out;
        }
        "bom" => format!("\u{feff}{}", text.trim_start_matches('\u{feff}')),
        "crlf" => text.replace("\r\n", "\n").replace('\n', "\r\n"),
        "reindent" => reindent(&text, &" ".repeat(1 + rng.below(8))),
        "tabs" => reindent(&text, "\t"),
        "quotes" => requote(&text, rng),
        "spacing" => respace(&text, rng),
        "comment" => at_line(&text, rng, |indent| format!("{indent}# inserted comment\n")),
        "blank-lines" => {
            let lines = "\n".repeat(1 + rng.below(2));
            at_line(&text, rng, |_| lines.clone())
        }
        "parentheses" => parenthesise(&text, rng),
        _ => unreachable!("every mutation is handled"),
    };
    if lossless {
        out.into_bytes()
    } else {
        // Keep the bytes that were not UTF-8 as they were: a text mutation would hide them.
        bytes.to_vec()
    }
}

/// Each leading run of four spaces becomes `unit`.
fn reindent(text: &str, unit: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            format!(
                "{}{}{}",
                unit.repeat(spaces / 4),
                " ".repeat(spaces % 4),
                &line[spaces..]
            )
        })
        .collect()
}

/// Swap the quotes of one simple string literal.
fn requote(text: &str, rng: &mut Rng) -> String {
    let spots: Vec<(usize, usize)> = simple_strings(text);
    if spots.is_empty() {
        return text.to_string();
    }
    let (start, end) = spots[rng.below(spots.len())];
    let quote = if &text[start..start + 1] == "\"" {
        "'"
    } else {
        "\""
    };
    format!(
        "{}{quote}{}{quote}{}",
        &text[..start],
        &text[start + 1..end - 1],
        &text[end..]
    )
}

/// `"..."` or `'...'` on one line, holding no quote or backslash.
fn simple_strings(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' || b[i] == b'\'' {
            let q = b[i];
            let mut j = i + 1;
            while j < b.len() && b[j] != q && !matches!(b[j], b'"' | b'\'' | b'\\' | b'\n') {
                j += 1;
            }
            if j < b.len() && b[j] == q {
                out.push((i, j + 1));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// More spaces after one comma, around one `=` or before one colon at a line end.
fn respace(text: &str, rng: &mut Rng) -> String {
    let choices = [
        (", ", ",   "),
        (" = ", "  =  "),
        (":\n", " :\n"),
        ("(", "( "),
    ];
    let (from, to) = choices[rng.below(choices.len())];
    let spots: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
    if spots.is_empty() {
        return text.to_string();
    }
    let at = spots[rng.below(spots.len())];
    format!("{}{to}{}", &text[..at], &text[at + from.len()..])
}

/// Insert `what(indent of the following line)` before a random line.
fn at_line(text: &str, rng: &mut Rng, what: impl Fn(&str) -> String) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i <= text.len())
        .collect();
    let at = starts[rng.below(starts.len())];
    let rest = &text[at..];
    let indent = &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()];
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let insert = what(indent).replace('\n', newline);
    format!("{}{insert}{}", &text[..at], rest)
}

/// Wrap one `if`/`elif` condition in parentheses, on one line or split over three.
fn parenthesise(text: &str, rng: &mut Rng) -> String {
    let re = regex::Regex::new(r"(?m)^([ \t]*)(if|elif) (.+):([ \t]*(?:#[^\r\n]*)?)\r?$").unwrap();
    let found: Vec<regex::Captures<'_>> = re.captures_iter(text).collect();
    if found.is_empty() {
        return text.to_string();
    }
    let c = &found[rng.below(found.len())];
    let whole = c.get(0).unwrap();
    let (indent, kw, cond, tail) = (&c[1], &c[2], &c[3], &c[4]);
    let wrapped = if rng.below(2) == 0 {
        format!("{indent}{kw} ({cond}):{tail}")
    } else {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        format!("{indent}{kw} ({newline}{indent}    {cond}  # wrapped{newline}{indent}):{tail}")
    };
    let end = whole.start() + whole.as_str().trim_end_matches('\r').len();
    format!("{}{wrapped}{}", &text[..whole.start()], &text[end..])
}
