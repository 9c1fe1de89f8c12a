//! `operate`: the operator entry point (a function URL with AuthType
//! AWS_IAM): deploy an image or roll back by hand, freeze and unfreeze a service.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::Operate>().await
}
