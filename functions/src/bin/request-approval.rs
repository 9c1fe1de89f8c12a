//! `request-approval`: holds a deployment for a person's decision before it
//! takes the service, and closes the request when it times out.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::RequestApproval>().await
}
