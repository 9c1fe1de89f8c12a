//! `autodeploy-local demo` (being written).

use clap::Args;

use super::cli::CloudArgs;

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
}

pub async fn run(_args: DemoArgs) -> Result<(), String> {
    Err("the demo is not written yet".into())
}
