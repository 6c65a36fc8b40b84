//! sadfix's own matcher for tree-sitter query text. Compiling a query with tree-sitter analyses
//! every pattern against the whole grammar (most of a scan's time); here a pattern is read into
//! a tree of steps in microseconds and matched by walking a node's children. Recipes use it;
//! tree-sitter's query engine stays the reference its tests compare against (`tests/patterns.rs`).

mod ast;
mod parse;
mod walk;

pub use ast::{PatternError, Patterns};
pub use parse::compile;
pub use walk::{matches_at, Capture};
