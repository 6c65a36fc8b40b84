//! The patch engine: recipes (from `patches/*.yaml`), tree-sitter matching, edits, apply,
//! backup and revert, and the `scan` listing built on the same matching.

pub mod command;
pub mod site;

pub use site::{Action, Site, SiteKind};
