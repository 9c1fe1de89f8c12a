//! `verify-hook`: the lifecycle hook ECS invokes to verify a new revision.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::VerifyHook>().await
}
