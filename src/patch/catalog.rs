//! The shipped recipes, embedded at build time from `patches/*.yaml` and validated once.

use super::recipe::{load_all, Recipe, RecipeErrors};
use std::sync::OnceLock;

/// Every shipped recipe file, in the order their recipes are tried.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "device-conditions.yaml",
        include_str!("../../patches/device-conditions.yaml"),
    ),
    (
        "device-blocks.yaml",
        include_str!("../../patches/device-blocks.yaml"),
    ),
    (
        "device-hardcoded.yaml",
        include_str!("../../patches/device-hardcoded.yaml"),
    ),
    (
        "device-forced.yaml",
        include_str!("../../patches/device-forced.yaml"),
    ),
    (
        "device-timeout.yaml",
        include_str!("../../patches/device-timeout.yaml"),
    ),
    (
        "device-libraries.yaml",
        include_str!("../../patches/device-libraries.yaml"),
    ),
    (
        "batch-size.yaml",
        include_str!("../../patches/batch-size.yaml"),
    ),
];

/// The validated shipped recipes (loaded on first use).
pub fn shipped() -> Result<&'static [Recipe], RecipeErrors> {
    static CATALOG: OnceLock<Result<Vec<Recipe>, RecipeErrors>> = OnceLock::new();
    CATALOG
        .get_or_init(|| load_all(SHIPPED))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}
