use std::process::ExitCode;

use super::{deployment_id, record};
use crate::error::CliError;
use crate::output::Output;
use crate::render;
use crate::stack::Stack;

/// `autodeploy show DEPLOYMENT`: the record; as JSON, exactly as stored.
pub async fn show(stack: &Stack, out: &Output, id: &str) -> Result<ExitCode, CliError> {
    let d = record(stack, &deployment_id(id)?).await?;
    if out.json() {
        out.document(&d);
    } else {
        print!("{}", render::show(&d, &out.style()));
    }
    Ok(ExitCode::SUCCESS)
}
