//! No circle between source files: every `use crate::...`, `use super::...` and inline
//! `crate::`/`super::` path of `src/` becomes an edge from its file to the file that defines the
//! item (a `pub use` re-export is followed to where the item lives; `mod x;` declarations are the
//! tree, not edges), and any strongly connected set of two or more files fails the test with one
//! circle spelled out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file: its module path (`["patch", "edit"]`) and its text without comments or
/// string contents.
struct ModFile {
    module: Vec<String>,
    path: PathBuf,
    code: String,
}

/// Blank out comments, string and char literals (keeping byte positions), so a `mod` or a path
/// inside them is never read.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                let mut j = i;
                while j < b.len() {
                    if b[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if b[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let start = i + 2 + hashes;
                let end = text[start..]
                    .find(&close)
                    .map_or(b.len(), |n| start + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{1F}') or a lifetime ('a).
                let end = if b.get(i + 1) == Some(&b'\\') {
                    text[i + 2..].find('\'').map(|n| i + 2 + n + 1)
                } else {
                    let ch = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (b.get(i + 1 + ch) == Some(&b'\'')).then_some(i + 2 + ch)
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 outside literals")
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path, // ::
    Punct(char),
}

fn tokens(code: &str) -> Vec<Tok> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if is_ident(c) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(Tok::Ident(code[start..i].to_string()));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok::Path);
            i += 2;
        } else {
            if !c.is_ascii_whitespace() {
                out.push(Tok::Punct(c as char));
            }
            i += 1;
        }
    }
    out
}

/// The files of the crate, found from `lib.rs` through its `mod x;` declarations.
fn load(src: &Path) -> Vec<ModFile> {
    let mut files = Vec::new();
    let mut todo = vec![(Vec::<String>::new(), src.join("lib.rs"))];
    while let Some((module, path)) = todo.pop() {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let code = strip(&text);
        let owns_dir = matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("lib.rs" | "mod.rs")
        );
        let here = path.parent().expect("a file has a parent").to_path_buf();
        let child_dir = if owns_dir {
            here.clone()
        } else {
            here.join(path.file_stem().expect("a file has a stem"))
        };
        for (name, attr_path) in file_mods(&text, &code) {
            let child = match attr_path {
                Some(p) => here.join(p),
                None if child_dir.join(format!("{name}.rs")).exists() => {
                    child_dir.join(format!("{name}.rs"))
                }
                None => child_dir.join(&name).join("mod.rs"),
            };
            let mut m = module.clone();
            m.push(name);
            todo.push((m, child));
        }
        files.push(ModFile { module, path, code });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// `mod name;` declarations (not inline `mod name { }`), with a `#[path = "..."]` before them;
/// `#[cfg(test)]` ones are left out (tests may use any file).
fn file_mods(text: &str, code: &str) -> Vec<(String, Option<String>)> {
    let toks = tokens(code);
    let mut out = Vec::new();
    let mut search_from = 0;
    for w in toks.windows(3) {
        if let [Tok::Ident(kw), Tok::Ident(name), Tok::Punct(';')] = w {
            if kw != "mod" {
                continue;
            }
            // The path attribute sits in a string, so read it from the original text.
            let at = code[search_from..]
                .find(&format!("mod {name};"))
                .map(|n| search_from + n);
            // The attribute lines right above the declaration, in any order.
            let attr = at.map(|at| {
                text[..at]
                    .trim_end()
                    .rsplit('\n')
                    .map(str::trim)
                    .take_while(|l| l.starts_with("#["))
                    .collect::<Vec<&str>>()
            });
            if let Some(at) = at {
                search_from = at + 1;
            }
            let attrs = attr.unwrap_or_default();
            if attrs.contains(&"#[cfg(test)]") {
                continue;
            }
            let path = attrs
                .iter()
                .find_map(|l| l.strip_prefix("#[path = \"")?.strip_suffix("\"]"))
                .map(str::to_string);
            out.push((name.clone(), path));
        }
    }
    out
}

/// A path as written in a file, with the module it was written in (the file's module plus any
/// inline `mod x { }` around it).
struct Written {
    segments: Vec<String>,
    scope: Vec<String>,
    is_use: bool,
    public_use: bool,
    alias: Option<String>,
}

fn written_paths(file: &ModFile) -> Vec<Written> {
    let toks = tokens(&file.code);
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let scope = |inline: &[(String, usize)]| {
        let mut s = file.module.clone();
        s.extend(inline.iter().map(|(n, _)| n.clone()));
        s
    };
    let mut i = 0;
    while i < toks.len() {
        // `#[cfg(test)] mod tests { ... }`: tests may use any file, so their paths are no edges.
        let cfg_test = [
            Tok::Punct('#'),
            Tok::Punct('['),
            Tok::Ident("cfg".into()),
            Tok::Punct('('),
            Tok::Ident("test".into()),
            Tok::Punct(')'),
            Tok::Punct(']'),
            Tok::Ident("mod".into()),
        ];
        if toks[i..].starts_with(&cfg_test) && toks.get(i + 9) == Some(&Tok::Punct('{')) {
            let mut level = 0;
            let mut j = i + 9;
            while j < toks.len() {
                match toks[j] {
                    Tok::Punct('{') => level += 1,
                    Tok::Punct('}') => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        match &toks[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(kw)
                if kw == "mod"
                    && matches!(toks.get(i + 1), Some(Tok::Ident(_)))
                    && toks.get(i + 2) == Some(&Tok::Punct('{')) =>
            {
                if let Some(Tok::Ident(name)) = toks.get(i + 1) {
                    inline.push((name.clone(), depth));
                }
                depth += 1;
                i += 3;
                continue;
            }
            Tok::Ident(kw) if kw == "use" => {
                let public = i > 0
                    && (toks[i - 1] == Tok::Ident("pub".into()) || toks[i - 1] == Tok::Punct(')'));
                let end = (i..toks.len())
                    .find(|&j| toks[j] == Tok::Punct(';'))
                    .unwrap_or(toks.len());
                let mut trees = Vec::new();
                use_tree(&toks[i + 1..end], Vec::new(), &mut trees);
                for (segments, alias) in trees {
                    out.push(Written {
                        segments,
                        scope: scope(&inline),
                        is_use: true,
                        public_use: public,
                        alias,
                    });
                }
                i = end + 1;
                continue;
            }
            // `crate::x`, `super::x` and `name::x` in code (a bare name is resolved later: a
            // child module or a module brought in by `use`, else another crate or a type).
            Tok::Ident(first)
                if toks.get(i + 1) == Some(&Tok::Path) && (i == 0 || toks[i - 1] != Tok::Path) =>
            {
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::Path) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(s)) => segments.push(s.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                out.push(Written {
                    segments,
                    scope: scope(&inline),
                    is_use: false,
                    public_use: false,
                    alias: None,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Expand a use tree (`a::{b, c::d as e, f::*}`) into full paths with their aliases.
fn use_tree(toks: &[Tok], prefix: Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    let mut path = prefix;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Ident(s) if s == "as" => {
                let alias = match toks.get(i + 1) {
                    Some(Tok::Ident(a)) => Some(a.clone()),
                    _ => None,
                };
                out.push((path, alias));
                return;
            }
            Tok::Ident(s) => path.push(s.clone()),
            Tok::Punct('*') => path.push("*".into()),
            Tok::Path => {}
            Tok::Punct('{') => {
                let mut depth = 0;
                let mut start = i + 1;
                for j in i..toks.len() {
                    match toks[j] {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                use_tree(&toks[start..j], path.clone(), out);
                                return;
                            }
                        }
                        Tok::Punct(',') if depth == 1 => {
                            use_tree(&toks[start..j], path.clone(), out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if !path.is_empty() {
        out.push((path, None));
    }
}

struct Crate {
    files: Vec<ModFile>,
    by_module: BTreeMap<Vec<String>, usize>,
    /// Per file: module names it brought in with `use` (`use crate::tune::audio::{self}`).
    aliases: Vec<BTreeMap<String, Vec<String>>>,
    /// Per file: a name it re-exports (`pub use x::Y`) and the absolute path it stands for.
    reexports: Vec<BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn new(files: Vec<ModFile>) -> Self {
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        let mut krate = Crate {
            files,
            by_module,
            aliases: Vec::new(),
            reexports: Vec::new(),
        };
        krate.aliases = vec![BTreeMap::new(); krate.files.len()];
        let aliases = (0..krate.files.len())
            .map(|i| {
                written_paths(&krate.files[i])
                    .into_iter()
                    .filter(|w| w.is_use)
                    .filter_map(|w| {
                        let mut abs = krate.absolute(i, &w)?;
                        if abs.last().is_some_and(|s| s == "self") {
                            abs.pop();
                        }
                        if !krate.by_module.contains_key(&abs) {
                            return None;
                        }
                        Some((w.alias.clone().or_else(|| abs.last().cloned())?, abs))
                    })
                    .collect()
            })
            .collect();
        krate.aliases = aliases;
        let reexports = (0..krate.files.len())
            .map(|i| {
                written_paths(&krate.files[i])
                    .into_iter()
                    .filter(|w| w.public_use)
                    .filter_map(|w| {
                        let abs = krate.absolute(i, &w)?;
                        let name = w.alias.clone().or_else(|| abs.last().cloned())?;
                        Some((name, abs))
                    })
                    .collect()
            })
            .collect();
        krate.reexports = reexports;
        krate
    }

    /// The path from the crate root, or None for another crate's path.
    fn absolute(&self, file: usize, w: &Written) -> Option<Vec<String>> {
        let mut segs = w.segments.iter().peekable();
        let mut base: Vec<String> = match segs.peek().map(|s| s.as_str()) {
            Some("crate") => {
                segs.next();
                Vec::new()
            }
            Some("super") | Some("self") => {
                let mut b = w.scope.clone();
                while let Some(s) = segs.peek() {
                    match s.as_str() {
                        "super" => {
                            b.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    segs.next();
                }
                b
            }
            Some(first) => {
                // A bare first segment is a child module of the scope, a module this file
                // imported, or another crate's (or a type's) path.
                let mut b = w.scope.clone();
                b.push(first.to_string());
                if self.by_module.contains_key(&b) {
                    b.pop();
                    b
                } else {
                    let module = self.aliases.get(file)?.get(first)?;
                    segs.next();
                    module.clone()
                }
            }
            None => return None,
        };
        base.extend(segs.cloned());
        Some(base)
    }

    /// The file that defines what `abs` names.
    fn defining_file(&self, abs: &[String], hops: usize) -> Option<usize> {
        let segs: Vec<&String> = abs.iter().filter(|s| *s != "*").collect();
        let mut k = segs.len();
        while k > 0 && !self.by_module.contains_key(&owned(&segs[..k])) {
            k -= 1;
        }
        let file = *self.by_module.get(&owned(&segs[..k]))?;
        // A module named alone (`use crate::install::{self}`) is no edge: its uses are, once
        // resolved; a glob (`use super::*`) takes everything the module defines.
        let glob = abs.last().is_some_and(|s| s == "*");
        if k == segs.len() && !glob || segs.get(k).is_some_and(|s| *s == "self") {
            return None;
        }
        if hops < 8 {
            if let Some(name) = segs.get(k) {
                if let Some(target) = self.reexports[file].get(name.as_str()) {
                    if target.as_slice() != abs {
                        return self.defining_file(target, hops + 1).or(Some(file));
                    }
                }
            }
        }
        Some(file)
    }

    fn edges(&self) -> BTreeMap<usize, BTreeSet<usize>> {
        let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for (i, f) in self.files.iter().enumerate() {
            // A `pub use` is a facade, no dependency of its file: paths through it are
            // followed to the file that defines the item.
            for w in written_paths(f).into_iter().filter(|w| !w.public_use) {
                let Some(abs) = self.absolute(i, &w) else {
                    continue;
                };
                if let Some(to) = self.defining_file(&abs, 0) {
                    if to != i {
                        edges.entry(i).or_default().insert(to);
                    }
                }
            }
        }
        edges
    }

    fn name(&self, i: usize) -> String {
        let p = &self.files[i].path;
        let src = p
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "src"));
        match src {
            Some(src) => p.strip_prefix(src).unwrap_or(p).display().to_string(),
            None => p.display().to_string(),
        }
    }
}

fn owned(s: &[&String]) -> Vec<String> {
    s.iter().map(|s| (*s).clone()).collect()
}

/// Every circle, one per strongly connected set of files, as "a.rs -> b.rs -> a.rs".
fn circles(krate: &Crate) -> Vec<String> {
    let edges = krate.edges();
    let n = krate.files.len();
    // Tarjan's strongly connected components.
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        sets: Vec<Vec<usize>>,
    }
    fn visit(v: usize, edges: &BTreeMap<usize, BTreeSet<usize>>, s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in edges.get(&v).into_iter().flatten() {
            match s.index[w] {
                None => {
                    visit(w, edges, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut set = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                set.push(w);
                if w == v {
                    break;
                }
            }
            if set.len() > 1 {
                s.sets.push(set);
            }
        }
    }
    let mut s = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        sets: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(v, &edges, &mut s);
        }
    }
    s.sets
        .iter()
        .map(|set| {
            let members: BTreeSet<usize> = set.iter().copied().collect();
            let start = *members.iter().next().expect("a set has members");
            let cycle = shortest_cycle(start, &members, &edges);
            let names: Vec<String> = cycle.iter().map(|&i| krate.name(i)).collect();
            let mut all: Vec<String> = members.iter().map(|&i| krate.name(i)).collect();
            all.sort();
            format!(
                "{} (files in this circle: {})",
                names.join(" -> "),
                all.join(", ")
            )
        })
        .collect()
}

/// The shortest way from `start` back to itself inside `members` (breadth first).
fn shortest_cycle(
    start: usize,
    members: &BTreeSet<usize>,
    edges: &BTreeMap<usize, BTreeSet<usize>>,
) -> Vec<usize> {
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in edges.get(&v).into_iter().flatten() {
            if !members.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![start, v];
                let mut at = v;
                while at != start {
                    at = came_from[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = came_from.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

#[test]
fn no_circle_between_source_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let krate = Crate::new(load(&src));
    assert!(
        krate.files.len() > 100,
        "only {} files found",
        krate.files.len()
    );
    let found = circles(&krate);
    assert!(
        found.is_empty(),
        "import circles between files in src/:\n  {}",
        found.join("\n  ")
    );
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let p = dir.path().join("src").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn circles_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tree(files);
    circles(&Crate::new(load(&dir.path().join("src"))))
}

#[test]
fn two_files_that_import_each_other_are_a_circle() {
    let found = circles_of(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "b.rs",
            "pub struct B;\nfn f() -> super::a::A { super::a::A }\n",
        ),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a.rs -> b.rs -> a.rs"), "{found:?}");
}

#[test]
fn a_longer_circle_through_a_reexport_and_a_nested_use_is_found() {
    let found = circles_of(&[
        ("lib.rs", "mod p;\n"),
        (
            "p/mod.rs",
            "pub mod x;\npub mod y;\npub mod z;\npub use z::Z;\n",
        ),
        ("p/x.rs", "use super::{y::{self, Y}};\npub struct X;\n"),
        ("p/y.rs", "use crate::p::Z as Zed;\npub struct Y;\n"),
        (
            "p/z.rs",
            "pub struct Z;\nmod tests {\n    use super::super::x::X;\n}\n",
        ),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("p/x.rs -> p/y.rs -> p/z.rs -> p/x.rs"),
        "{found:?}"
    );
}

#[test]
fn paths_in_comments_strings_tests_of_the_same_file_and_other_crates_are_no_edges() {
    let found = circles_of(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        (
            "a.rs",
            "// use crate::b::B;\nconst S: &str = \"crate::b::B\";\nuse crate::b::B;\n",
        ),
        (
            "b.rs",
            "/* crate::a */ use std::path::Path;\npub struct B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    const C: char = '\"';\n    fn f<'a>(x: &'a str) {}\n}\n",
        ),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
