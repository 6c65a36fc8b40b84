//! Shell completions and the manual page, generated from the clap definition (`Cli::command()`),
//! so every subcommand and flag is in them without a list kept by hand.

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::ExitCode;
use crate::report;
use anyhow::Context;
use clap::CommandFactory;
use clap_mangen::Man;
use roff::{roman, Roff};

/// `sadfix completions SHELL`: the script on stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    report::emit(&completion_script(args.shell)).context("cannot write the completion script")?;
    Ok(ExitCode::Ok)
}

/// `sadfix man`: the page on stdout.
pub fn man() -> anyhow::Result<ExitCode> {
    report::emit(&man_page()).context("cannot write the manual page")?;
    Ok(ExitCode::Ok)
}

/// The completion script for `shell`, for the binary named `sadfix`.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sadfix", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

/// One page, sadfix(1): the global options, then a COMMANDS section with each subcommand's
/// synopsis and options (clap_mangen alone renders only the top level and names a page per
/// subcommand, which `sadfix man` on stdout cannot provide).
pub fn man_page() -> String {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let page = Man::new(cmd.clone());
    let mut out = String::new();
    for render in [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ] {
        let keep = if out.is_empty() {
            Keep::All
        } else {
            Keep::Section
        };
        out.push_str(&piece(&page, render, keep));
    }
    out.push_str(&Roff::new().control("SH", ["COMMANDS"]).to_roff());
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push_str(&command_section(sub));
    }
    out.push_str(&piece(&page, Man::render_version_section, Keep::Section));
    out
}

/// One subcommand as a subsection: its description, synopsis and own options (the global ones
/// are in OPTIONS above, once).
fn command_section(sub: &clap::Command) -> String {
    let mut sub = sub.clone();
    let globals: Vec<_> = sub
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    for id in globals {
        sub = sub.mut_arg(id, |a| a.hide(true));
    }
    let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
    let mut head = Roff::new();
    head.control("SS", [name.as_str()]);
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        head.text([roman(about.to_string())]);
    }
    let page = Man::new(sub);
    let mut out = head.to_roff();
    out.push_str(&piece(&page, Man::render_synopsis_section, Keep::Body));
    out.push_str(&piece(&page, Man::render_options_section, Keep::Body));
    out
}

type Render = fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>;

/// How much of a rendered section to keep.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// The first piece of the page: with roff's apostrophe preamble.
    All,
    /// A later top-level section: without the preamble.
    Section,
    /// Inside a subsection: no `.SH` heading either, a paragraph break instead.
    Body,
}

/// One section as roff, trimmed as `keep` says.
fn piece(page: &Man, render: Render, keep: Keep) -> String {
    let mut buf = Vec::new();
    render(page, &mut buf).expect("rendering into memory cannot fail");
    let text = String::from_utf8(buf).expect("roff from UTF-8 help is UTF-8");
    if keep == Keep::All {
        return text;
    }
    let preamble = Roff::new().render();
    let body = text.strip_prefix(preamble.as_str()).unwrap_or(&text);
    if keep == Keep::Section {
        return body.to_owned();
    }
    body.lines()
        .map(|line| {
            if line.starts_with(".SH ") {
                ".PP"
            } else {
                line
            }
        })
        .fold(String::new(), |out, line| out + line + "\n")
}
