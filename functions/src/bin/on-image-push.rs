//! `on-image-push`: an ECR push becomes one deployment record and one state machine run per
//! matching deploy target.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::OnImagePush>().await
}
