use std::collections::BTreeMap;
use std::future::Future;

use crate::domain::{HookAction, ServiceDeploymentView, ServiceSnapshot, TaskDefinitionView, TaskView};
use crate::error::Result;

/// The ECS control plane.
pub trait Ecs: Send + Sync {
    /// `ServiceNotFound` when the service or cluster does not exist (or is INACTIVE).
    fn describe_service(&self, cluster: &str, service: &str) -> impl Future<Output = Result<ServiceSnapshot>> + Send;

    fn describe_task_definition(&self, arn: &str) -> impl Future<Output = Result<TaskDefinitionView>> + Send;

    /// Registers a new revision of `source_arn`'s family that carries every
    /// writable field of the source unchanged except the `image` of the named
    /// containers, with `tags` merged over the source's tags. Returns its ARN.
    fn register_revision(
        &self,
        source_arn: &str,
        images: &BTreeMap<String, String>,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<String>> + Send;

    /// The newest ACTIVE revisions of `family`, newest first, at most `limit`:
    /// where a retried registration looks for the revision its first attempt
    /// registered before it could record it.
    fn recent_revisions(&self, family: &str, limit: i32) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Points the service at `task_definition` (no forced new deployment) and
    /// returns the service as the response describes it. `UpdateRejected` for
    /// parameter errors ECS will not accept on retry.
    fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> impl Future<Output = Result<ServiceSnapshot>> + Send;

    /// ECS's service deployment that rolls out ECS deployment
    /// `ecs_deployment_id` (`ecs-svc/…`) of the service: the newest whose
    /// target revision is that deployment's. `None` when ECS keeps no service
    /// deployments here (an older API or region) or none matches yet.
    fn find_service_deployment(
        &self,
        cluster: &str,
        service: &str,
        ecs_deployment_id: &str,
    ) -> impl Future<Output = Result<Option<ServiceDeploymentView>>> + Send;

    /// One service deployment by ARN; `None` when ECS does not know it.
    fn describe_service_deployment(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<ServiceDeploymentView>>> + Send;

    /// The target groups that serve production traffic for service revision
    /// `revision_arn` (its resolved load balancer configuration); empty when
    /// ECS does not say.
    fn production_target_groups(&self, revision_arn: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// StopServiceDeployment with `stopType` ROLLBACK: ECS sends traffic back
    /// to the previous revision itself (keeping the blue fleet of a
    /// blue/green deployment). `Finished` when the deployment is over and can
    /// no longer be rolled back.
    fn roll_back_service_deployment(&self, arn: &str) -> impl Future<Output = Result<StopOutcome>> + Send;

    /// ContinueServiceDeployment: ends the wait at PAUSE hook `hook_id` with
    /// CONTINUE or ROLLBACK. `UpdateRejected` when ECS refuses (the hook no
    /// longer awaits action).
    fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &HookAction,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The service's tasks that are meant to run (desired status RUNNING).
    fn service_tasks(&self, cluster: &str, service: &str) -> impl Future<Output = Result<Vec<TaskView>>> + Send;
}

/// What StopServiceDeployment ROLLBACK did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// ECS is rolling the deployment back.
    RollingBack,
    /// The deployment had finished (ConflictException): nothing to stop.
    Finished,
}
