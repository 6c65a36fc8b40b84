use sadfix::patch::{catalog, engine, source::Source, PatchOptions};
use std::time::Instant;
fn main() {
    let root = std::path::PathBuf::from("/tmp/benchtree");
    let files = sadfix::install::python_files(&root);
    let cat = catalog::shipped().unwrap();
    let t = Instant::now();
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    println!("read {} files {:?}", texts.len(), t.elapsed());
    let t = Instant::now();
    let cands: Vec<&String> = texts
        .iter()
        .filter(|t| engine::worth_parsing(cat, t))
        .collect();
    println!("prefilter -> {} files {:?}", cands.len(), t.elapsed());
    let t = Instant::now();
    let srcs: Vec<Source> = cands
        .iter()
        .map(|t| Source::parse(t.as_bytes()).unwrap())
        .collect();
    let lines: usize = cands.iter().map(|t| t.lines().count()).sum();
    println!("parse {} lines {:?}", lines, t.elapsed());
    let t = Instant::now();
    for s in &srcs {
        s.syntax_error();
    }
    println!("syntax check {:?}", t.elapsed());
    let t = Instant::now();
    for s in &srcs {
        engine::analyze(cat, s, std::path::Path::new("x"), &PatchOptions::default());
    }
    println!("analyze {:?}", t.elapsed());
}
