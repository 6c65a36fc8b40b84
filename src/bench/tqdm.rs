//! Reading one tqdm progress bar as SadTalker prints it: `Face Renderer:: 37%|###7 | 161/430
//! [00:52<01:23, 3.08it/s]`. SadTalker's descriptions already end in `:`, so tqdm's own colon makes
//! it double; some logs have no space before the percentage.

use serde::{Deserialize, Serialize};

/// A progress rate as tqdm shows it: iterations per second, or seconds per iteration when slower
/// than one per second (on the CPU, `Face Renderer` is the second kind).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    ItPerS(f64),
    SPerIt(f64),
}

impl Rate {
    /// Iterations per second, whichever way it was printed.
    pub fn per_second(self) -> f64 {
        match self {
            Rate::ItPerS(v) => v,
            Rate::SPerIt(v) if v > 0.0 => 1.0 / v,
            Rate::SPerIt(_) => 0.0,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Rate::ItPerS(v) => format!("{v:.2} it/s"),
            Rate::SPerIt(v) => format!("{v:.2} s/it"),
        }
    }
}

/// One drawing of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The description without its trailing colons: `Face Renderer`.
    pub desc: String,
    pub done: u64,
    pub total: u64,
    pub rate: Option<Rate>,
    /// Seconds since the bar was created, from tqdm's elapsed field (`[00:02<...`), whole
    /// seconds as tqdm prints them.
    pub elapsed_s: Option<f64>,
}

/// Parse a bar, or `None` when the line is not one.
pub fn parse_bar(line: &str) -> Option<Bar> {
    let line = line.trim();
    let bar_open = line.find("%|")?;
    let head = &line[..bar_open];
    // The percentage is the run of digits (and spaces) right before `%|`.
    let pct_start = head
        .rfind(|c: char| !(c.is_ascii_digit() || c == ' '))
        .map_or(0, |i| {
            i + head[i..].chars().next().map_or(1, char::len_utf8)
        });
    let desc = head[..pct_start]
        .trim()
        .trim_end_matches(':')
        .trim()
        .to_string();
    let after = &line[bar_open + 2..];
    let bar_close = after.find('|')?;
    let counts = after[bar_close + 1..].trim_start();
    let (counts, bracket) = match counts.find('[') {
        Some(i) => (counts[..i].trim(), Some(&counts[i + 1..])),
        None => (counts.trim(), None),
    };
    let (done, total) = counts.split_once('/')?;
    let done = done.trim().parse().ok()?;
    let total = total.trim().parse().ok()?;
    let rate = bracket.and_then(parse_rate);
    let elapsed_s = bracket.and_then(parse_elapsed);
    Some(Bar {
        desc,
        done,
        total,
        rate,
        elapsed_s,
    })
}

/// The elapsed time inside `[00:52<01:23, 3.08it/s]` (`mm:ss` or `h:mm:ss`), seconds.
fn parse_elapsed(bracket: &str) -> Option<f64> {
    let field = bracket.split(['<', ']', ',']).next()?.trim();
    let parts: Vec<u64> = field
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let seconds = match parts[..] {
        [m, s] => m * 60 + s,
        [h, m, s] => (h * 60 + m) * 60 + s,
        _ => return None,
    };
    Some(seconds as f64)
}

/// The rate inside `[00:52<01:23, 3.08it/s]`, if it is known yet (`?it/s` is not).
fn parse_rate(bracket: &str) -> Option<Rate> {
    let inner = bracket.split(']').next()?;
    let field = inner.split(',').nth(1)?.trim();
    if let Some(v) = field.strip_suffix("it/s") {
        return v.trim().parse().ok().map(Rate::ItPerS);
    }
    if let Some(v) = field.strip_suffix("s/it") {
        return v.trim().parse().ok().map(Rate::SPerIt);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_double_colon_bar() {
        let bar =
            parse_bar("Face Renderer:: 37%|###7      | 161/430 [00:52<01:23,  3.08it/s]").unwrap();
        assert_eq!(bar.desc, "Face Renderer");
        assert_eq!((bar.done, bar.total), (161, 430));
        assert_eq!(bar.rate, Some(Rate::ItPerS(3.08)));
        assert_eq!(bar.elapsed_s, Some(52.0));
    }

    #[test]
    fn reads_the_elapsed_field_in_minutes_and_hours() {
        let bar = parse_bar("Face Renderer:: 99%|#########9| 4300/4330 [1:02:03<00:25,  1.16it/s]")
            .unwrap();
        assert_eq!(bar.elapsed_s, Some(3723.0));
        let bar = parse_bar("mel:   0%|          | 0/275 [00:00<?, ?it/s]").unwrap();
        assert_eq!(bar.elapsed_s, Some(0.0));
        let bar = parse_bar("mel: 10%|#         | 27/275").unwrap();
        assert_eq!(bar.elapsed_s, None);
    }

    #[test]
    fn reads_seconds_per_iteration_and_no_space_before_the_percentage() {
        let bar =
            parse_bar("Face Renderer::100%|##########| 25/25 [00:31<00:00,  1.26s/it]").unwrap();
        assert_eq!(bar.desc, "Face Renderer");
        assert_eq!(bar.done, 25);
        assert_eq!(bar.rate, Some(Rate::SPerIt(1.26)));
        assert!((bar.rate.unwrap().per_second() - 0.7936).abs() < 1e-3);
    }

    #[test]
    fn the_first_drawing_has_no_rate_yet() {
        let bar = parse_bar("mel:   0%|          | 0/275 [00:00<?, ?it/s]").unwrap();
        assert_eq!(bar.desc, "mel");
        assert_eq!((bar.done, bar.total, bar.rate), (0, 275, None));
        let bar =
            parse_bar("3DMM Extraction In Video:: 100%|██████████| 1/1 [00:00<00:00, 11.2it/s]")
                .unwrap();
        assert_eq!(bar.desc, "3DMM Extraction In Video");
    }

    #[test]
    fn ordinary_lines_are_not_bars() {
        assert_eq!(parse_bar("using safetensor as default"), None);
        assert_eq!(parse_bar("GPU at 100%|fine"), None);
    }
}
