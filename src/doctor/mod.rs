//! `sadfix doctor`: checks that each return findings; none prints.

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::exit::ExitCode;

pub fn command(_global: &GlobalArgs, _args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    Ok(crate::report::not_yet_available("doctor"))
}
