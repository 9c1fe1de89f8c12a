//! `on-ecs-event`: ECS and CloudWatch events resume the runs that wait for them.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    autodeploy_shared::lambda::serve::<autodeploy_shared::aws::steps::OnEcsEvent>().await
}
