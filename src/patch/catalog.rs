//! The shipped recipes, embedded at build time from `patches/*.yaml` and validated once.

use super::options::{PatchOption, PatchOptions};
#[cfg(test)]
use super::recipe::load_all;
use super::recipe::{load_where, read, Catalog, RecipeErrors};
use super::rule::RawRecipe;
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
        "device-unrecognised.yaml",
        include_str!("../../patches/device-unrecognised.yaml"),
    ),
    (
        "batch-size.yaml",
        include_str!("../../patches/batch-size.yaml"),
    ),
    (
        "compat-numpy.yaml",
        include_str!("../../patches/compat-numpy.yaml"),
    ),
    (
        "compat-gradio.yaml",
        include_str!("../../patches/compat-gradio.yaml"),
    ),
    (
        "compat-other.yaml",
        include_str!("../../patches/compat-other.yaml"),
    ),
    (
        "compat-site-packages.yaml",
        include_str!("../../patches/compat-site-packages.yaml"),
    ),
    (
        "offload-frames.yaml",
        include_str!("../../patches/offload-frames.yaml"),
    ),
];

/// Recipes as written, each with its file, and the errors of files that do not parse.
pub(super) type Raw = (Vec<(&'static str, RawRecipe)>, Vec<String>);

/// The shipped recipes as written, read from their YAML once per process (the metadata, the
/// needles, the prefilter and every catalog start from them), and an error for each file that
/// does not parse.
pub(super) fn raw() -> &'static Raw {
    static RAW: OnceLock<Raw> = OnceLock::new();
    RAW.get_or_init(|| read(SHIPPED))
}

/// Every needle of every shipped recipe: a file holding none of them is never parsed.
pub fn needles() -> &'static [String] {
    static NEEDLES: OnceLock<Vec<String>> = OnceLock::new();
    NEEDLES.get_or_init(|| {
        let mut all: Vec<String> = raw()
            .0
            .iter()
            .flat_map(|(_, r)| r.needles.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    })
}

/// What a shipped recipe says about itself, read from the YAML alone (nothing validated or
/// compiled): for the questions that need no matching (which recipes are gated, edit
/// site-packages, carry a tag, serve a flag).
#[derive(Debug)]
pub struct RecipeMeta {
    pub id: String,
    pub tags: Vec<String>,
    pub option: Option<PatchOption>,
    pub listed: bool,
    pub gated: bool,
    /// The packages its gates read.
    pub gate_packages: Vec<String>,
    /// With `scope: site-packages`: the files it looks at, relative to site-packages.
    pub site_packages_files: Vec<String>,
}

/// Every shipped recipe's metadata (unparsable files are left to `shipped()` to report).
pub fn metadata() -> &'static [RecipeMeta] {
    static META: OnceLock<Vec<RecipeMeta>> = OnceLock::new();
    META.get_or_init(|| {
        raw()
            .0
            .iter()
            .map(|(_, r)| RecipeMeta {
                option: r.option.as_deref().and_then(PatchOption::parse),
                listed: r.listed != Some(false),
                gated: !r.gates.is_empty(),
                gate_packages: r.gates.iter().map(|g| g.package.clone()).collect(),
                site_packages_files: if r.scope.as_deref() == Some("site-packages") {
                    r.files.clone()
                } else {
                    Vec::new()
                },
                id: r.id.clone(),
                tags: r.tags.clone(),
            })
            .collect()
    })
}

/// The metadata of recipe `id`.
pub fn meta(id: &str) -> Option<&'static RecipeMeta> {
    metadata().iter().find(|m| m.id == id)
}

/// The recipes that edit files of the install's Python (`scope: site-packages`), compiled
/// apart: planning them never compiles the install's recipes.
pub fn site_packages() -> Result<&'static Catalog, RecipeErrors> {
    static CATALOG: OnceLock<Result<Catalog, RecipeErrors>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let (raws, errors) = raw();
            load_where(raws, errors, &|r| {
                r.scope.as_deref() == Some("site-packages")
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The validated shipped recipes (loaded on first use).
pub fn shipped() -> Result<&'static Catalog, RecipeErrors> {
    static CATALOG: OnceLock<Result<Catalog, RecipeErrors>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let (raws, errors) = raw();
            load_where(raws, errors, &|_| true)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The recipes `scan` lists (no `listed: false` ones): what a scan, and a patch that asks
/// for no unlisted recipe's flag, needs.
pub fn listed() -> Result<&'static Catalog, RecipeErrors> {
    static CATALOG: OnceLock<Result<Catalog, RecipeErrors>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let (raws, errors) = raw();
            load_where(raws, errors, &|r| r.listed != Some(false))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The listed recipes named in `ids` (what `prefilter` says can match a tree), each distinct
/// set validated once per process.
pub fn for_recipes(ids: &[String]) -> Result<&'static Catalog, RecipeErrors> {
    type Cache = Vec<(Vec<String>, &'static Result<Catalog, RecipeErrors>)>;
    static CACHE: std::sync::Mutex<Cache> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let found = match cache.iter().find(|(key, _)| key.as_slice() == ids) {
        Some((_, catalog)) => *catalog,
        None => {
            let (raws, errors) = raw();
            let built = load_where(raws, errors, &|r| {
                r.listed != Some(false) && ids.contains(&r.id)
            });
            let leaked: &'static Result<Catalog, RecipeErrors> = Box::leak(Box::new(built));
            cache.push((ids.to_vec(), leaked));
            leaked
        }
    };
    found.as_ref().map_err(Clone::clone)
}

/// The smallest catalog that serves `options`: `listed()` unless a flag asks for a recipe
/// only the whole catalog has.
pub fn for_options(options: &PatchOptions) -> fn() -> Result<&'static Catalog, RecipeErrors> {
    let wants_unlisted = metadata()
        .iter()
        .filter(|m| !m.listed)
        .filter_map(|m| m.option)
        .any(|o| options.wants(o));
    if wants_unlisted {
        shipped
    } else {
        listed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_recipe_loads() {
        let recipes = &shipped().unwrap_or_else(|e| panic!("{e}")).recipes;
        assert!(recipes.len() >= 20);
        for family in ["A", "B", "C", "D", "E", "F", "G", "H", "HxN", "I", "K", "L"] {
            assert!(
                recipes.iter().any(|r| r.family == family),
                "no recipe for family {family}"
            );
        }
    }

    #[test]
    fn the_early_needles_are_the_recipes_needles() {
        let mut from_recipes: Vec<String> = shipped()
            .unwrap()
            .recipes
            .iter()
            .flat_map(|r| r.needles.clone())
            .collect();
        from_recipes.sort();
        from_recipes.dedup();
        assert_eq!(needles(), from_recipes.as_slice());
    }

    #[test]
    fn the_listed_catalog_is_every_listed_recipe() {
        let all = shipped().unwrap();
        let ids = |c: &Catalog| c.recipes.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let expected: Vec<String> = all
            .recipes
            .iter()
            .filter(|r| r.listed)
            .map(|r| r.id.clone())
            .collect();
        assert!(expected.len() < all.recipes.len());
        assert_eq!(ids(listed().unwrap()), expected);
        let timeout = PatchOptions {
            cuda_timeout: Some(5),
            ..PatchOptions::default()
        };
        assert_eq!(ids(for_options(&timeout)().unwrap()), ids(all));
        let force = PatchOptions {
            force_gpu: true,
            ..PatchOptions::default()
        };
        assert_eq!(ids(for_options(&force)().unwrap()), expected);
    }

    #[test]
    fn every_file_in_patches_is_shipped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("patches");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml"))
            .collect();
        on_disk.sort();
        let mut shipped: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
        shipped.sort();
        assert_eq!(on_disk, shipped);
    }

    #[test]
    fn a_bad_recipe_reports_every_error_at_once() {
        let bad = r#"
- id: Bad_Id
  title: t
  kind: gpu
  family: A
  action: fix_it
  option: force-gpu
  needles: []
  query: "(if_statement condition: (_) @cond) @site"
  value: missing
  note: n
  guards:
    - capture: nowhere
      equals: x
    - capture: cond
      matches: "("
    - capture: cond
      inside: no_such_node
  rewrite:
    replace: cond
    with: "{unknown}"
- id: second
  title: t
  kind: device
  family: A
  action: report_only
  needles: [x]
  query: "(if_statement"
  value: site
  note: n
"#;
        let errors = load_all(&[("bad.yaml", bad)]).unwrap_err().0;
        let all = errors.join("\n");
        for expected in [
            "id must be",
            "kind \"gpu\"",
            "action \"fix_it\"",
            "needles",
            "value capture @missing",
            "guard capture @nowhere",
            "bad regular expression",
            "no_such_node",
            "{unknown}",
            "already_applied",
            "second: query does not compile",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn unknown_fields_are_errors_and_every_file_is_reported() {
        let extra = "- id: x\n  colour: red\n";
        let errors = load_all(&[("one.yaml", extra), ("two.yaml", "- nonsense")])
            .unwrap_err()
            .0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("one.yaml") && errors[0].contains("colour"));
        assert!(errors[1].starts_with("two.yaml"));
    }
}
