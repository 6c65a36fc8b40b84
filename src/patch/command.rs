//! `sadfix scan` and `sadfix patch`: resolve the install, run the engine, hand values to `report`.

use crate::cli::{GlobalArgs, PatchArgs, ScanArgs};
use crate::exit::ExitCode;

pub fn scan(_global: &GlobalArgs, _args: &ScanArgs) -> anyhow::Result<ExitCode> {
    Ok(crate::report::not_yet_available("scan"))
}

pub fn patch(_global: &GlobalArgs, _args: &PatchArgs) -> anyhow::Result<ExitCode> {
    Ok(crate::report::not_yet_available("patch"))
}
