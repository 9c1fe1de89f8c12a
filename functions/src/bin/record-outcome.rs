//! `record-outcome`: states "Record success", "Record rolled back", "Record failure",
//! "Record rollback failure".

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::RecordOutcome>().await
}
