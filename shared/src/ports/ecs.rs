use std::collections::BTreeMap;
use std::future::Future;

use crate::domain::{ServiceSnapshot, TaskDefinitionView, TaskView};
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

    /// Points the service at `task_definition` (no forced new deployment) and
    /// returns the service as the response describes it. `UpdateRejected` for
    /// parameter errors ECS will not accept on retry.
    fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> impl Future<Output = Result<ServiceSnapshot>> + Send;

    /// The service's tasks that are meant to run (desired status RUNNING).
    fn service_tasks(&self, cluster: &str, service: &str) -> impl Future<Output = Result<Vec<TaskView>>> + Send;
}
