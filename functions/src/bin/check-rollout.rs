//! `check-rollout`: states "Check the rollout" / "Check the rollback": the slow poll.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::CheckRollout>().await
}
