//! `sadfix bench`: run a generation, follow its stages, sample telemetry, judge the result.

use crate::cli::{BenchArgs, GlobalArgs};
use crate::exit::ExitCode;

pub fn command(_global: &GlobalArgs, _args: &BenchArgs) -> anyhow::Result<ExitCode> {
    Ok(crate::report::not_yet_available("bench"))
}
