//! Every fixture case through the real pipeline (scan, plan, commit, re-plan, revert) on a
//! temporary install: the fixed text is snapshotted, re-parses without ERROR nodes, a second
//! apply changes nothing, the recipe's "already applied" site appears, and revert gives back
//! the original bytes.

mod util;

use sadfix::install::{locate, Install};
use sadfix::patch::apply::commit;
use sadfix::patch::catalog;
use sadfix::patch::recipe::AlreadyApplied;
use sadfix::patch::scan::scan_report;
use sadfix::patch::source::Source;
use sadfix::patch::{plan, revert, Action, PatchOptions};
use std::fs;
use std::path::Path;

const FORCE: PatchOptions = PatchOptions {
    force_gpu: true,
    batch_size: None,
    cuda_timeout: None,
    ..PatchOptions::NONE
};
const BATCH4: PatchOptions = PatchOptions {
    force_gpu: false,
    batch_size: Some(4),
    cuda_timeout: None,
    ..PatchOptions::NONE
};
const TIMEOUT5: PatchOptions = PatchOptions {
    force_gpu: false,
    batch_size: None,
    cuda_timeout: Some(5),
    ..PatchOptions::NONE
};
const FORCE_BATCH16: PatchOptions = PatchOptions {
    force_gpu: true,
    batch_size: Some(16),
    cuda_timeout: None,
    ..PatchOptions::NONE
};

use Action::*;

/// A minimal install whose `inference.py` is the case.
fn install_with(case: &[u8]) -> (tempfile::TempDir, Install) {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("src/utils")).unwrap();
    fs::write(tmp.path().join("src/utils/init_path.py"), "").unwrap();
    fs::write(tmp.path().join("inference.py"), case).unwrap();
    let install = locate(Some(tmp.path()), Path::new("/")).unwrap();
    (tmp, install)
}

/// Line endings and the BOM made visible, so the snapshot shows they were kept.
fn visible(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace('\u{feff}', "<BOM>")
        .replace('\r', "<CR>")
        .replace('\t', "<TAB>")
}

fn sites(install: &Install) -> Vec<(String, Action)> {
    scan_report(install)
        .unwrap()
        .sites
        .into_iter()
        .map(|s| (s.family, s.action))
        .collect()
}

/// Run one case; `expect` lists the (family, action) scan reports before patching.
fn check(case: &str, label: &str, options: PatchOptions, changes: bool, expect: &[(&str, Action)]) {
    let original = fs::read(util::fixtures().join("cases").join(case)).unwrap();
    let (_tmp, install) = install_with(&original);
    let file = install.root.join("inference.py");
    let expect: Vec<(String, Action)> = expect.iter().map(|(f, a)| (f.to_string(), *a)).collect();
    assert_eq!(sites(&install), expect, "{case}: scan");

    let first = plan(&install, &options).unwrap();
    assert_eq!(
        !first.changes.is_empty(),
        changes,
        "{case}: whether {label} changes it"
    );
    assert!(
        first.skipped.is_empty(),
        "{case}: skipped fixes {:?}",
        first.skipped
    );
    commit(&install, &first).unwrap();
    let fixed = fs::read(&file).unwrap();
    let src = Source::parse(&fixed).unwrap();
    assert_eq!(
        src.syntax_error(),
        None,
        "{case}: the result re-parses cleanly"
    );
    if changes {
        insta::assert_snapshot!(
            format!("{}-{label}", case.trim_end_matches(".py")),
            visible(&fixed)
        );
        let after = scan_report(&install).unwrap().sites;
        let recipes = catalog::shipped().unwrap();
        for fix in &first.changes[0].fixes {
            let recipe = recipes.get(&fix.recipe).unwrap();
            if let Some(AlreadyApplied::Recipe(marker)) = &recipe.already_applied {
                assert!(
                    after
                        .iter()
                        .any(|s| s.recipe.as_deref() == Some(marker.as_str())),
                    "{case}: after {} the file shows as {marker}; sites: {after:?}",
                    fix.recipe
                );
            }
        }
    } else {
        assert_eq!(fixed, original, "{case}: untouched");
    }

    let second = plan(&install, &options).unwrap();
    assert!(
        second.changes.is_empty(),
        "{case}: a second {label} would change it again:\n{}",
        second.changes.first().map_or("", |c| c.after.as_str())
    );
    revert(&install, false).unwrap();
    assert_eq!(
        fs::read(&file).unwrap(),
        original,
        "{case}: revert restores the bytes"
    );
}

#[test]
fn family_a_condition_keeps_the_cpu_switch() {
    let expect = [("argparse", Rewrite), ("A", Rewrite)];
    check("family-a.py", "force", FORCE, true, &expect);
    check("family-a.py", "batch4", BATCH4, true, &expect);
    check("family-a.py", "timeout5", TIMEOUT5, true, &expect);
}

#[test]
fn family_a_after_black_keeps_its_comments() {
    let expect = [("argparse", Rewrite), ("A", Rewrite)];
    check(
        "family-a-black.py",
        "force-batch16",
        FORCE_BATCH16,
        true,
        &expect,
    );
}

#[test]
fn family_a_and_b_with_the_cpu_test_first() {
    let expect = [("A", Rewrite), ("B", Rewrite)];
    check("family-a-reversed.py", "force", FORCE, true, &expect);
    check("family-a-reversed.py", "timeout5", TIMEOUT5, true, &expect);
}

#[test]
fn family_b_keeps_the_mps_branch() {
    check("family-b.py", "force", FORCE, true, &[("B", Rewrite)]);
    check("family-b.py", "timeout5", TIMEOUT5, true, &[("B", Rewrite)]);
}

#[test]
fn family_c_becomes_a_plain_assignment() {
    check("family-c.py", "force", FORCE, true, &[("C", Rewrite)]);
    check("family-c.py", "timeout5", TIMEOUT5, true, &[("C", Rewrite)]);
}

#[test]
fn family_d_keeps_mps_reachable() {
    check("family-d.py", "force", FORCE, true, &[("D", Rewrite)]);
}

#[test]
fn family_e_every_expression_becomes_the_cuda_string() {
    let expect = [("E", Rewrite), ("E", Rewrite), ("E", Rewrite)];
    check("family-e.py", "force", FORCE, true, &expect);
    check("family-e.py", "timeout5", TIMEOUT5, true, &expect);
}

#[test]
fn family_g_hardcoded_cpu_becomes_cuda() {
    check(
        "family-g.py",
        "force",
        FORCE,
        true,
        &[("G", Rewrite), ("G", Rewrite)],
    );
}

#[test]
fn repeated_forced_block_is_repaired_to_one() {
    check(
        "family-h-repeated.py",
        "force",
        FORCE,
        true,
        &[("HxN", Repair)],
    );
}

#[test]
fn sigalrm_wrapper_is_reported_and_only_its_call_is_bounded() {
    check("family-i.py", "force", FORCE, false, &[("I", ReportOnly)]);
    check(
        "family-i.py",
        "timeout5",
        TIMEOUT5,
        true,
        &[("I", ReportOnly)],
    );
}

#[test]
fn crlf_tabs_and_bom_are_kept() {
    let a = [("argparse", Rewrite), ("A", Rewrite)];
    check("crlf.py", "force-batch16", FORCE_BATCH16, true, &a);
    check(
        "tabs.py",
        "force",
        FORCE,
        true,
        &[("D", Rewrite), ("C", Rewrite)],
    );
    check(
        "tabs.py",
        "timeout5",
        TIMEOUT5,
        true,
        &[("D", Rewrite), ("C", Rewrite)],
    );
    check("bom.py", "force", FORCE, true, &[("E", Rewrite)]);
    check("crlf-d.py", "force", FORCE, true, &[("D", Rewrite)]);
    check("crlf-d.py", "timeout5", TIMEOUT5, true, &[("D", Rewrite)]);
}

#[test]
fn batch_size_defined_in_another_module_split_by_black() {
    check(
        "batch-argparse-module.py",
        "batch4",
        BATCH4,
        true,
        &[("argparse", Rewrite)],
    );
}

#[test]
fn other_batch_size_shapes_are_listed_not_edited() {
    let expect = [
        ("constant", ReportOnly),
        ("attribute", ReportOnly),
        ("parameter", ReportOnly),
        ("call_keyword", ReportOnly),
        ("slider", ReportOnly),
    ];
    check("batch-shapes.py", "batch4", BATCH4, false, &expect);
}

#[test]
fn reported_families_are_never_edited() {
    let all = PatchOptions {
        force_gpu: true,
        batch_size: Some(4),
        cuda_timeout: None,
        ..PatchOptions::NONE
    };
    check(
        "family-f.py",
        "all",
        all,
        false,
        &[("F", AlreadyGpu), ("F", AlreadyGpu)],
    );
    check("family-h.py", "all", all, false, &[("H", AlreadyForced)]);
    let apart = [("H", AlreadyForced), ("H", AlreadyForced)];
    check("family-h-apart.py", "all", all, false, &apart);
    check(
        "family-k.py",
        "all",
        all,
        false,
        &[("K", Unsupported), ("K", Unsupported)],
    );
    let l = [("L", ReportOnly), ("L", ReportOnly), ("L", ReportOnly)];
    check("family-l.py", "all", all, false, &l);
    check("family-l.py", "timeout5", TIMEOUT5, false, &l);
}

#[test]
fn a_condition_split_over_lines_keeps_its_comments() {
    check(
        "shape-parenthesized.py",
        "force",
        FORCE,
        true,
        &[("A", Rewrite)],
    );
}

#[test]
fn extra_terms_and_comparisons_with_true_keep_every_other_term() {
    check(
        "shape-extra-terms.py",
        "force",
        FORCE,
        true,
        &[("A", Rewrite)],
    );
    let expect = [("A", Rewrite), ("E", Rewrite)];
    check("shape-comparisons.py", "force", FORCE, true, &expect);
}

#[test]
fn the_check_is_found_through_import_aliases() {
    let expect = [("A", Rewrite), ("E", Rewrite), ("C", Rewrite)];
    check("shape-aliases.py", "force", FORCE, true, &expect);
}

#[test]
fn a_conditional_expression_inside_call_arguments() {
    let expect = [("E", Rewrite), ("E", Rewrite), ("E", Rewrite)];
    check("shape-device-call.py", "force", FORCE, true, &expect);
}

#[test]
fn the_inverted_form_keeps_the_cpu_switch() {
    check("shape-inverted.py", "force", FORCE, true, &[("A", Rewrite)]);
}

#[test]
fn an_elif_that_picks_cuda() {
    check("shape-elif.py", "force", FORCE, true, &[("B", Rewrite)]);
    check(
        "shape-elif-not-cpu.py",
        "force",
        FORCE,
        true,
        &[("B", Rewrite)],
    );
}

#[test]
fn shapes_that_cannot_be_rewritten_safely_are_listed_with_a_reason() {
    let expect = [
        ("unrecognised", ReportOnly),
        ("unrecognised", ReportOnly),
        ("unrecognised", ReportOnly),
    ];
    check("shape-unrewritable.py", "force", FORCE, false, &expect);
    let (_tmp, install) =
        install_with(&fs::read(util::fixtures().join("cases/shape-unrewritable.py")).unwrap());
    for site in scan_report(&install).unwrap().sites {
        assert!(site.note.starts_with("not rewritten: "), "{site:?}");
    }
}

#[test]
fn look_alikes_do_not_fire() {
    check("no-device.py", "force", FORCE, false, &[]);
    check("no-device.py", "timeout5", TIMEOUT5, false, &[]);
}

#[test]
fn a_new_cuda_timeout_updates_the_bounded_check() {
    let original = fs::read(util::fixtures().join("cases/family-a.py")).unwrap();
    let (_tmp, install) = install_with(&original);
    commit(&install, &plan(&install, &TIMEOUT5).unwrap()).unwrap();
    let nine = PatchOptions {
        cuda_timeout: Some(9),
        ..TIMEOUT5
    };
    let again = plan(&install, &nine).unwrap();
    assert_eq!(again.changes.len(), 1);
    let after = &again.changes[0].after;
    assert!(after.contains("not args.cpu and _sadfix_cuda_available(9)"));
    assert_eq!(after.matches("def _sadfix_cuda_available").count(), 1);
    let bounded: Vec<_> = scan_report(&install)
        .unwrap()
        .sites
        .into_iter()
        .filter(|s| s.action == AlreadyBounded)
        .collect();
    assert_eq!(bounded.len(), 1);
    assert_eq!(bounded[0].value, "5");
}

/// `scan` parses only the statements around needle hits; it must list exactly what a full
/// parse lists, on every fixture file.
#[test]
fn partial_parsing_lists_the_same_sites_as_a_full_parse() {
    use sadfix::patch::scan::{analyze_files, FileOutcome};
    let root = util::fixtures();
    let files = sadfix::install::files::read_all(sadfix::install::python_files(&root));
    let sites = |partial: bool| {
        let (_, results) = analyze_files(
            catalog::shipped,
            catalog::needles(),
            &root,
            &files,
            &PatchOptions::default(),
            partial,
        )
        .unwrap();
        results
            .into_iter()
            .map(|(rel, outcome)| match outcome {
                FileOutcome::Analyzed(_, analysis) => (rel, format!("{:?}", analysis.sites)),
                FileOutcome::Broken(why) => (rel, format!("broken: {why}")),
                FileOutcome::Skipped => (rel, "skipped".into()),
            })
            .collect::<Vec<_>>()
    };
    let full = sites(false);
    assert!(full.len() > 25);
    assert_eq!(sites(true), full);
}

/// `scan` validates only the recipes that can match: a needle, and every literal their query
/// compares a capture with, in one file; it must list exactly what the whole catalog lists, on
/// every fixture file and on each file alone.
#[test]
fn compiling_only_the_needed_recipes_lists_the_same_sites() {
    use sadfix::patch::prefilter;
    use sadfix::patch::scan::{analyze_files, present, FileOutcome};
    let root = util::fixtures();
    let files = sadfix::install::files::read_all(sadfix::install::python_files(&root));
    let sites = |files: &[sadfix::install::files::FileBytes], only_needed: bool| {
        let filter = prefilter::listed();
        let ids = filter.recipes_for(&present(&filter.strings, files));
        let load = || {
            if only_needed {
                catalog::for_recipes(&ids)
            } else {
                catalog::shipped()
            }
        };
        let (_, results) = analyze_files(
            load,
            catalog::needles(),
            &root,
            files,
            &PatchOptions::default(),
            true,
        )
        .unwrap();
        results
            .into_iter()
            .map(|(rel, outcome)| match outcome {
                FileOutcome::Analyzed(_, analysis) => (rel, format!("{:?}", analysis.sites)),
                FileOutcome::Broken(why) => (rel, format!("broken: {why}")),
                FileOutcome::Skipped => (rel, "skipped".into()),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(sites(&files, true), sites(&files, false));
    for file in files
        .iter()
        .filter(|f| f.path.starts_with(root.join("cases")))
    {
        let one = std::slice::from_ref(file);
        assert_eq!(
            sites(one, true),
            sites(one, false),
            "{}",
            file.path.display()
        );
    }
}

/// The bytes `options` make of `original` on a fresh install.
fn patched(original: &[u8], options: &PatchOptions) -> Vec<u8> {
    let (_tmp, install) = install_with(original);
    commit(&install, &plan(&install, options).unwrap()).unwrap();
    fs::read(install.root.join("inference.py")).unwrap()
}

/// `--force-gpu` after `--cuda-timeout` forces the bounded checks as it forces the original
/// ones, and takes out the helper nothing calls any more: the result is what `--force-gpu`
/// makes of the original, and revert still gives back the bytes from before the first patch.
#[test]
fn force_gpu_after_cuda_timeout_forces_the_bounded_check() {
    for case in [
        "family-a.py",
        "family-a-reversed.py",
        "family-b.py",
        "family-c.py",
        "family-d.py",
        "family-e.py",
        "tabs.py",
        "crlf-d.py",
        "bom.py",
    ] {
        let original = fs::read(util::fixtures().join("cases").join(case)).unwrap();
        let (_tmp, install) = install_with(&original);
        let file = install.root.join("inference.py");
        commit(&install, &plan(&install, &TIMEOUT5).unwrap()).unwrap();
        let bounded = fs::read(&file).unwrap();
        assert!(
            String::from_utf8_lossy(&bounded).contains("_sadfix_cuda_available(5)"),
            "{case}: bounded first"
        );
        // Scan (and doctor) still see the selection as bounded, not as one to force.
        let listed = sites(&install);
        assert!(listed.iter().any(|(_, a)| *a == AlreadyBounded), "{case}");
        assert!(
            !listed
                .iter()
                .any(|(f, a)| *a == Rewrite && ["A", "B", "C", "D", "E"].contains(&f.as_str())),
            "{case}: {listed:?}"
        );

        let force = plan(&install, &FORCE).unwrap();
        assert!(force.skipped.is_empty(), "{case}: {:?}", force.skipped);
        assert_eq!(force.changes.len(), 1, "{case}: --force-gpu changes it");
        commit(&install, &force).unwrap();
        let forced = fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&forced).contains("_sadfix_cuda_available"),
            "{case}: no call and no helper left:\n{}",
            String::from_utf8_lossy(&forced)
        );
        assert_eq!(
            visible(&forced),
            visible(&patched(&original, &FORCE)),
            "{case}: the same as forcing the original"
        );
        assert_eq!(Source::parse(&forced).unwrap().syntax_error(), None);

        let again = plan(&install, &FORCE).unwrap();
        assert!(again.changes.is_empty(), "{case}: a second --force-gpu");
        revert(&install, false).unwrap();
        assert_eq!(fs::read(&file).unwrap(), original, "{case}: revert");
    }
}

/// A helper still called elsewhere in the file (a SIGALRM wrapper's bounded call, which
/// `--force-gpu` does not edit) stays.
#[test]
fn force_gpu_keeps_the_helper_while_a_bounded_call_remains() {
    let wrapper = fs::read_to_string(util::fixtures().join("cases/family-i.py")).unwrap();
    let selection = "\nif torch.cuda.is_available() and not args.cpu:\n    args.device = \"cuda\"\nelse:\n    args.device = \"cpu\"\n";
    let original = format!("{wrapper}{selection}");
    let (_tmp, install) = install_with(original.as_bytes());
    let file = install.root.join("inference.py");
    commit(&install, &plan(&install, &TIMEOUT5).unwrap()).unwrap();
    commit(&install, &plan(&install, &FORCE).unwrap()).unwrap();
    let forced = fs::read_to_string(&file).unwrap();
    assert!(forced.contains("\nif not args.cpu:\n"), "{forced}");
    assert!(forced.contains("= _sadfix_cuda_available(5)"), "{forced}");
    assert_eq!(forced.matches("def _sadfix_cuda_available").count(), 1);
    assert!(plan(&install, &FORCE).unwrap().changes.is_empty());
    revert(&install, false).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), original);
}
