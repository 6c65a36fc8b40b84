//! The `sadfix` binary: everything lives in the library; this only maps its result to an exit code.

fn main() {
    // Dies of the signal instead when Ctrl-C or SIGTERM interrupted the command.
    sadfix::interrupt::exit(sadfix::run());
}
