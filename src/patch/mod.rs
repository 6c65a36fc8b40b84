//! The patch engine: recipes (from `patches/*.yaml`), tree-sitter matching, edits, apply,
//! backup and revert, and the `scan` listing built on the same matching.

pub mod apply;
pub mod catalog;
pub mod command;
pub mod cuda_check;
pub mod edit;
pub mod engine;
pub mod error;
pub mod gate;
pub mod guard;
pub mod helper;
pub mod installed;
pub mod journal;
pub mod judge;
pub mod lock;
pub mod matcher;
pub mod mover;
pub mod options;
pub mod outcome;
pub mod outline;
pub mod pip;
pub mod plan;
pub mod prefilter;
pub mod recipe;
pub mod request;
pub mod revert;
pub mod rewrite;
pub mod rule;
pub mod scan;
pub mod site;
pub mod site_packages;
pub mod source;
pub mod template;
pub mod validate;
pub mod verify;
pub mod wheels;
pub mod write;

pub use error::PatchError;
pub use options::{PatchOption, PatchOptions};
pub use plan::{plan, Plan};
pub use recipe::{Applicability, RecipeErrors};
pub use revert::{revert, RevertOutcome};
pub use scan::{scan_install, ScanError, ScanReport};
pub use site::{batch_size_site, default_batch_size, Action, Site, SiteKind};
