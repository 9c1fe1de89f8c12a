//! `await-service`: state "Wait for the service" (`lambda:invoke.waitForTaskToken`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::AwaitService>().await
}
