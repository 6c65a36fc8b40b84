//! The `sadfix` binary: everything lives in the library; this only maps its result to an exit code.

fn main() {
    std::process::exit(sadfix::run());
}
