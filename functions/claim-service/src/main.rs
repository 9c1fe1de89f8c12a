//! Lambda entry point: tracing, clients built once, then the runtime loop.

use autodeploy_shared::aws::wiring::FromVars;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = autodeploy_shared::aws::load_config().await;
    let deps = claim_service::Deps::from_env(&config)?;
    run(service_fn(|event: LambdaEvent<Value>| claim_service::handler(&deps, event.payload))).await
}
