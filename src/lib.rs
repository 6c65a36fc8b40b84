//! sadfix: find out why a SadTalker install is not using the GPU, fix its code, prove it.
//!
//! `run()` parses the command line, dispatches to one command, and maps the outcome to an exit
//! code (see `exit`). Commands return values; only `report` writes what the user sees.

pub mod bench;
pub mod cli;
pub mod doctor;
pub mod exit;
pub mod fix;
pub mod generate;
pub mod gpu;
pub mod install;
pub mod interrupt;
pub mod interrupted;
pub mod mark;
pub mod parallel;
pub mod patch;
pub mod pattern;
pub mod process;
pub mod report;
pub mod tune;

use cli::Command;
use exit::ExitCode;

/// Parse the arguments, run the command, and return the process exit code.
pub fn run() -> i32 {
    let cli = match cli::parse_from(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout and usage errors to stderr itself.
            let code = if err.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            };
            let _ = err.print();
            return code.as_i32();
        }
    };
    report::style::set(report::style::Style::from_args(&cli.global));
    let outcome = match &cli.command {
        Command::Scan(args) => patch::command::scan(&cli.global, args),
        Command::Patch(args) => patch::command::patch(&cli.global, args),
        Command::Doctor(args) => doctor::command(&cli.global, args),
        Command::Bench(args) => bench::command(&cli.global, args),
        Command::Tune(args) => tune::command(&cli.global, args),
        Command::Fix(args) => fix::command(&cli.global, args),
        Command::Completions(args) => generate::completions(args),
        Command::Man => generate::man(),
    };
    match outcome {
        Ok(code) => code.as_i32(),
        Err(err) => report::error(&err),
    }
}
