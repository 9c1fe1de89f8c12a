//! `decide-approval`: the approval entry point (a function URL with
//! AuthType AWS_IAM): approve or reject a deployment that waits for it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::DecideApproval>().await
}
