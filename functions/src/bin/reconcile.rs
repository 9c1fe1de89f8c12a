//! `reconcile`: on a schedule, deploys each target's newest matching image in ECR whose
//! push was never decided (ECR's push events are best effort).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::Reconcile>().await
}
