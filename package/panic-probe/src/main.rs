//! `panic-probe`: never deployed. A step whose run panics, served by
//! `lambda::serve` as every function's `main` is, and built by `make package`
//! with the functions' command (`cargo lambda build --release --arm64`), so
//! the release profile's `panic` is whatever a packaged function gets.
//! `scripts/run_bootstraps.py --panic-probe` runs it against a stand-in Runtime API: under
//! `panic = "unwind"` the runtime catches the panic, reports it on
//! `/invocation/{id}/error` and asks for the next event; under `"abort"` the
//! process dies with the invocation unanswered.
//!
//! It lives outside the functions so no deployed code has a way to panic on
//! purpose.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{FromVars, SdkConfig};
use autodeploy_shared::config::Vars;
use autodeploy_shared::domain::DeploymentId;
use autodeploy_shared::steps::{Step, StepInput};
use serde_json::Value;

struct Panics;

/// Any payload.
struct Payload;

impl StepInput for Payload {
    fn parse(_payload: Value) -> Result<Self, DeployError> {
        Ok(Payload)
    }

    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

impl Step for Panics {
    const NAME: &'static str = "panic-probe";
    type Input = Payload;
    type Output = Value;

    #[allow(clippy::panic)]
    async fn run(&self, _input: Payload) -> Result<Value, DeployError> {
        panic!("panic-probe: this handler panics on purpose")
    }
}

impl FromVars for Panics {
    fn from_vars(_config: &SdkConfig, _vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Panics)
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<Panics>().await
}
