//! Whether an attribute assignment belongs to a model object that is moved to the run's device:
//! `self.device = 'cpu'` in a class whose own `to(self, device)` sets `self.device = device`
//! (Deep3DFaceRecon's `ParametricFaceModel` in SadTalker's `src/face3d/models/bfm.py`). Such a
//! literal is a starting value, not the run's device: the caller's `.to(device)` replaces it.
//!
//! Read from the text by indentation, not from the tree, so a partial parse (which keeps only
//! the header line of an enclosing class) judges a site exactly as a whole-file parse does.

use super::site::Site;
use crate::install::files::FileBytes;
use regex::Regex;
use std::path::Path;

/// The recipe whose sites are such starting values.
pub const RECIPE: &str = "device-cpu-moved-by-to";

/// Name, in each such site's note, where the install moves an instance of its class with
/// `.to(...)` (`self.facemodel = ParametricFaceModel(...)` then `self.facemodel.to(...)`), or
/// that nothing does. Only the files holding an instance of the class are looked at twice.
pub fn name_callers(root: &Path, files: &[FileBytes], sites: &mut [Site]) {
    if !sites.iter().any(|s| s.recipe.as_deref() == Some(RECIPE)) {
        return;
    }
    let texts: Vec<(&Path, &str)> = files
        .iter()
        .filter_map(|f| {
            let text = std::str::from_utf8(f.bytes.as_deref().ok()?).ok()?;
            Some((f.path.strip_prefix(root).unwrap_or(&f.path), text))
        })
        .collect();
    for site in sites
        .iter_mut()
        .filter(|s| s.recipe.as_deref() == Some(RECIPE))
    {
        let Some(class) = texts
            .iter()
            .find(|(rel, _)| *rel == site.file.as_path())
            .and_then(|&(_, text)| class_at_line(text, site.line))
        else {
            continue;
        };
        // One automaton per class, run only over the files that name the class.
        let found = made_regex(&class).and_then(|made| {
            texts
                .iter()
                .filter(|(_, text)| text.contains(class.as_str()))
                .find_map(|(rel, text)| {
                    moved_by(text, &made).map(|line| format!("{}:{line}", rel.display()))
                })
        });
        site.note.push_str(&match found {
            Some(at) => format!(" ({class} is moved at {at})"),
            None => format!(" (no code in the install moves a {class} with .to(...))"),
        });
    }
}

/// The name of the class enclosing 1-based `line`.
fn class_at_line(text: &str, line: usize) -> Option<String> {
    let at: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let class = enclosing_class(text, at)?;
    let name = class.trim_start().strip_prefix("class ")?;
    let name: String = name
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The 1-based line where an instance of `class` made in `text` is moved with `.to(`.
#[cfg(test)]
fn moved_in(text: &str, class: &str) -> Option<usize> {
    moved_by(text, &made_regex(class)?)
}

/// An assignment of a new instance of `class` (`x = module.Class(`), the target captured.
fn made_regex(class: &str) -> Option<Regex> {
    Regex::new(&format!(
        r"(?m)^\s*([\w.]+)\s*=\s*(?:[\w.]+\.)?{}\s*\(",
        regex::escape(class)
    ))
    .ok()
}

/// The 1-based line where an instance that `made` finds in `text` is moved with `.to(`.
fn moved_by(text: &str, made: &Regex) -> Option<usize> {
    let line = made.captures_iter(text).find_map(|c| {
        let target = format!("{}.to(", &c[1]);
        let at = text.find(&target)?;
        Some(text[..at].matches('\n').count() + 1)
    });
    line
}

/// `target` (e.g. `self.device`), assigned at byte `at`, sits in a class whose method
/// `to(self, <p>)` assigns `self.<attr> = <p>`.
pub fn reassigned_by_to(text: &str, at: usize, target: &str) -> bool {
    let Some(attr) = target.trim().strip_prefix("self.") else {
        return false;
    };
    let Some(class) = enclosing_class(text, at) else {
        return false;
    };
    methods_named(class, "to").any(|(param, body)| {
        body.lines().any(|l| {
            let l: String = l
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            l == format!("self.{attr}={param}")
        })
    })
}

/// A line's indentation (tabs count as one column: only comparisons within a file matter).
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A line that opens or continues code (not blank, not a comment).
fn is_code(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// The text of the class that encloses byte `at`: its header line up to the first code line
/// indented no deeper than the header.
fn enclosing_class(text: &str, at: usize) -> Option<&str> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut bound = indent(&text[line_start..]);
    let mut end = line_start;
    for line in text[..line_start].split_inclusive('\n').rev() {
        let start = end - line.len();
        end = start;
        if !is_code(line) || indent(line) >= bound {
            continue;
        }
        bound = indent(line);
        if line.trim_start().starts_with("class ") {
            return Some(block(text, start));
        }
        if bound == 0 {
            return None;
        }
    }
    None
}

/// From the line at byte `start` to the first later code line indented no deeper.
fn block(text: &str, start: usize) -> &str {
    let head = &text[start..];
    let depth = indent(head);
    let mut end = head.find('\n').map_or(head.len(), |i| i + 1);
    while end < head.len() {
        let line_end = head[end..].find('\n').map_or(head.len(), |i| end + i + 1);
        let line = &head[end..line_end];
        if is_code(line) && indent(line) <= depth {
            break;
        }
        end = line_end;
    }
    &head[..end]
}

/// Each method `name(self, p, ...)` of a class text: its first parameter after `self` and its
/// body.
fn methods_named<'a>(class: &'a str, name: &'a str) -> impl Iterator<Item = (String, &'a str)> {
    let mut offset = 0;
    class
        .split_inclusive('\n')
        .filter_map(move |line| {
            let start = offset;
            offset += line.len();
            let t = line.trim_start();
            let rest = t.strip_prefix("def ")?.trim_start().strip_prefix(name)?;
            let params = rest.trim_start().strip_prefix('(')?;
            let mut names = params.split([',', ')']).map(str::trim);
            (names.next()? == "self").then_some(())?;
            let param = names.next()?.split(['=', ':']).next()?.trim().to_string();
            (!param.is_empty()).then_some((param, start))
        })
        .map(move |(param, start)| (param, block(class, start)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BFM: &str = "class ParametricFaceModel:\n    def __init__(self, bfm_folder='./BFM'):\n        self.device = 'cpu'\n\n    def to(self, device):\n        self.device = device\n        for key, value in self.__dict__.items():\n            pass\n\nclass Other:\n    def __init__(self):\n        self.device = 'cpu'\n";

    #[test]
    fn a_class_whose_to_reassigns_the_attribute_moves_it() {
        let at = BFM.find("self.device = 'cpu'").unwrap();
        assert!(reassigned_by_to(BFM, at, "self.device"));
        assert!(!reassigned_by_to(BFM, at, "self.size"));
    }

    #[test]
    fn another_class_in_the_same_file_is_not_moved() {
        let at = BFM.rfind("self.device = 'cpu'").unwrap();
        assert!(!reassigned_by_to(BFM, at, "self.device"));
    }

    #[test]
    fn an_args_object_without_to_stays_on_the_cpu() {
        let aiy = "class SadTalkerArgs:\n    def __init__(self, driven_audio):\n        self.device = 'cpu'\n        self.batch_size = 2\n\n    def to_dict(self, device):\n        self.device = device\n";
        let at = aiy.find("self.device = 'cpu'").unwrap();
        assert!(!reassigned_by_to(aiy, at, "self.device"));
    }

    #[test]
    fn a_to_that_ignores_its_argument_does_not_move_it() {
        let text = "class M:\n    def __init__(self):\n        self.device = 'cpu'\n    def to(self, device):\n        self.device = 'cpu'\n";
        let at = text.find("self.device").unwrap();
        assert!(!reassigned_by_to(text, at, "self.device"));
    }

    #[test]
    fn crlf_line_endings_read_the_same() {
        let crlf = BFM.replace('\n', "\r\n");
        let at = crlf.find("self.device = 'cpu'").unwrap();
        assert!(reassigned_by_to(&crlf, at, "self.device"));
    }

    #[test]
    fn the_caller_that_moves_an_instance_is_found() {
        let caller = "class FaceReconModel:\n    def __init__(self, device):\n        self.facemodel = bfm.ParametricFaceModel(\n            bfm_folder='./BFM')\n\n    def forward(self):\n        self.facemodel.to(self.device)\n";
        assert_eq!(moved_in(caller, "ParametricFaceModel"), Some(7));
        assert_eq!(moved_in(caller, "Other"), None);
        assert_eq!(
            class_at_line(BFM, 3).as_deref(),
            Some("ParametricFaceModel")
        );
    }

    #[test]
    fn module_level_assignments_have_no_class() {
        let text = "opts.device = 'cpu'\n";
        assert!(!reassigned_by_to(text, 0, "opts.device"));
    }
}
