//! `register-revision`: state "Register new revision".

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::RegisterRevision>().await
}
