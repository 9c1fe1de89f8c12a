//! `await-rollout`: states "Wait for the rollout" / "Wait for the rollback"
//! (`lambda:invoke.waitForTaskToken`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::AwaitRollout>().await
}
