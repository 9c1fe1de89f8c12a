//! ECS adapter: services, task definitions (cloned field for field), tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{DeploymentLifecycleHookTargetType, DesiredStatus, Service, TaskDefinitionField};

use aws_sdk_ecs::operation::update_service::UpdateServiceError;

use super::errors::classify;
use super::task_definition_json::{CaptureBody, ReplaceBody, register_body};
use crate::DeployError;
use crate::domain::{
    ContainerImage, EcsDeploymentView, HookAction, ServiceDeploymentView, ServiceSnapshot, TaskDefinitionView,
    TaskView, aws_state,
};
use crate::error::Result;
use crate::ports::{Ecs, StopOutcome};

/// DescribeTasks takes at most 100 task ARNs per call.
const DESCRIBE_TASKS_BATCH: usize = 100;

#[derive(Debug)]
pub struct EcsClient {
    client: Client,
    /// Task definitions read in this process, by ARN, with the raw response the
    /// clone is made from. Revisions are immutable, so reusing them is safe.
    described: Mutex<HashMap<String, (TaskDefinitionView, Vec<u8>)>>,
}

impl EcsClient {
    pub fn new(client: Client) -> Self {
        Self { client, described: Mutex::new(HashMap::new()) }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    async fn describe_raw(&self, arn: &str) -> Result<(TaskDefinitionView, Vec<u8>)> {
        if let Some(hit) = self.described.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(arn) {
            return Ok(hit.clone());
        }
        let capture = CaptureBody::default();
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .customize()
            .interceptor(capture.clone())
            .send()
            .await
            .map_err(|e| classify("DescribeTaskDefinition", e))?;
        let raw = capture
            .take()
            .ok_or_else(|| DeployError::Aws(format!("DescribeTaskDefinition {arn}: no response body")))?;
        let td = out
            .task_definition()
            .ok_or_else(|| DeployError::Aws(format!("DescribeTaskDefinition {arn}: empty response")))?;
        let view = TaskDefinitionView {
            arn: td.task_definition_arn().unwrap_or(arn).to_owned(),
            family: td.family().unwrap_or_default().to_owned(),
            containers: td
                .container_definitions()
                .iter()
                .map(|c| ContainerImage {
                    name: c.name().unwrap_or_default().to_owned(),
                    image: c.image().unwrap_or_default().to_owned(),
                })
                .collect(),
            tags: out
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
                .collect(),
        };
        let entry = (view, raw);
        self.described.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(arn.to_owned(), entry.clone());
        Ok(entry)
    }
}

fn snapshot(s: &Service) -> ServiceSnapshot {
    let mut target_group_arns: Vec<String> = Vec::new();
    let mut alternate_target_group_arns: Vec<String> = Vec::new();
    for lb in s.load_balancers() {
        if let Some(tg) = lb.target_group_arn()
            && !target_group_arns.iter().any(|t| t == tg)
        {
            target_group_arns.push(tg.to_owned());
        }
        if let Some(tg) = lb.advanced_configuration().and_then(|a| a.alternate_target_group_arn())
            && !alternate_target_group_arns.iter().any(|t| t == tg)
        {
            alternate_target_group_arns.push(tg.to_owned());
        }
    }
    ServiceSnapshot {
        service_arn: s.service_arn().unwrap_or_default().to_owned(),
        status: aws_state(s.status().unwrap_or_default()),
        task_definition: s.task_definition().unwrap_or_default().to_owned(),
        desired_count: s.desired_count(),
        deployments: s
            .deployments()
            .iter()
            .map(|d| EcsDeploymentView {
                id: d.id().unwrap_or_default().to_owned(),
                status: aws_state(d.status().unwrap_or_default()),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                desired_count: d.desired_count(),
                running_count: d.running_count(),
                pending_count: d.pending_count(),
                failed_tasks: d.failed_tasks(),
                rollout_state: d.rollout_state().map(|r| aws_state(r.as_str())),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                updated_at: d.updated_at().and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
            })
            .collect(),
        target_group_arns,
        alternate_target_group_arns,
        strategy: s.deployment_configuration().and_then(|c| c.strategy()).map(|st| aws_state(st.as_str())),
        current_service_deployment: s.current_service_deployment().map(str::to_owned),
        pause_hook_stages: s
            .deployment_configuration()
            .map(|c| c.lifecycle_hooks())
            .unwrap_or_default()
            .iter()
            .filter(|h| h.target_type() == Some(&DeploymentLifecycleHookTargetType::Pause))
            .flat_map(|h| h.lifecycle_stages().iter().map(|st| aws_state(st.as_str())))
            .collect(),
    }
}

impl Ecs for EcsClient {
    async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceSnapshot> {
        let not_found = || DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() };
        let out = self.client.describe_services().cluster(cluster).services(service).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|se| se.is_cluster_not_found_exception()) {
                not_found()
            } else {
                classify("DescribeServices", e)
            }
        })?;
        out.services().iter().find(|s| s.status() != Some("INACTIVE")).map(snapshot).ok_or_else(not_found)
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionView> {
        Ok(self.describe_raw(arn).await?.0)
    }

    async fn recent_revisions(&self, family: &str, limit: i32) -> Result<Vec<String>> {
        let out = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .sort(aws_sdk_ecs::types::SortOrder::Desc)
            .max_results(limit)
            .send()
            .await
            .map_err(|e| classify("ListTaskDefinitions", e))?;
        // familyPrefix matches `web` and `web-canary` alike: keep the family's own.
        let own =
            |arn: &&String| arn.rsplit('/').next().and_then(|r| r.rsplit_once(':')).is_some_and(|(f, _)| f == family);
        Ok(out.task_definition_arns().iter().filter(own).cloned().collect())
    }

    async fn register_revision(
        &self,
        source_arn: &str,
        images: &BTreeMap<String, String>,
        tags: &[(String, String)],
    ) -> Result<String> {
        let (source, raw) = self.describe_raw(source_arn).await?;
        let body = register_body(&raw, images, tags)?;
        // The typed input only has to pass the SDK's required-member check;
        // the body sent is the JSON clone (see `task_definition_json`).
        let out = self
            .client
            .register_task_definition()
            .family(&source.family)
            .set_container_definitions(Some(Vec::new()))
            .customize()
            .interceptor(ReplaceBody(body))
            .send()
            .await
            .map_err(|e| classify("RegisterTaskDefinition", e))?;
        out.task_definition
            .and_then(|t| t.task_definition_arn)
            .ok_or_else(|| DeployError::Aws("RegisterTaskDefinition returned no ARN".into()))
    }

    async fn update_service(&self, cluster: &str, service: &str, task_definition: &str) -> Result<ServiceSnapshot> {
        let out = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(
                    UpdateServiceError::ServiceNotFoundException(_)
                    | UpdateServiceError::ServiceNotActiveException(_)
                    | UpdateServiceError::ClusterNotFoundException(_),
                ) => DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() },
                // Parameter and permission errors: retrying will not help.
                Some(
                    UpdateServiceError::InvalidParameterException(_)
                    | UpdateServiceError::ClientException(_)
                    | UpdateServiceError::PlatformUnknownException(_)
                    | UpdateServiceError::PlatformTaskDefinitionIncompatibilityException(_)
                    | UpdateServiceError::AccessDeniedException(_),
                ) => DeployError::UpdateRejected(classify("UpdateService", e).to_string()),
                _ => classify("UpdateService", e),
            })?;
        out.service.as_ref().map(snapshot).ok_or_else(|| DeployError::Aws("UpdateService returned no service".into()))
    }

    async fn find_service_deployment(
        &self,
        cluster: &str,
        service: &str,
        ecs_deployment_id: &str,
    ) -> Result<Option<ServiceDeploymentView>> {
        self.find_deployment(cluster, service, ecs_deployment_id).await
    }

    async fn describe_service_deployment(&self, arn: &str) -> Result<Option<ServiceDeploymentView>> {
        self.describe_deployment(arn).await
    }

    async fn production_target_groups(&self, revision_arn: &str) -> Result<Vec<String>> {
        self.production_groups(revision_arn).await
    }

    async fn roll_back_service_deployment(&self, arn: &str) -> Result<StopOutcome> {
        self.stop_for_rollback(arn).await
    }

    async fn continue_service_deployment(&self, arn: &str, hook_id: &str, action: &HookAction) -> Result<()> {
        self.continue_deployment(arn, hook_id, action).await
    }

    async fn service_tasks(&self, cluster: &str, service: &str) -> Result<Vec<TaskView>> {
        let mut arns = Vec::new();
        let mut next = None;
        loop {
            let page = self
                .client
                .list_tasks()
                .cluster(cluster)
                .service_name(service)
                .desired_status(DesiredStatus::Running)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify("ListTasks", e))?;
            arns.extend(page.task_arns.unwrap_or_default());
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        let mut tasks = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_TASKS_BATCH) {
            let out = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| classify("DescribeTasks", e))?;
            tasks.extend(out.tasks().iter().map(|t| {
                TaskView {
                    task_arn: t.task_arn().unwrap_or_default().to_owned(),
                    started_by: t.started_by().map(str::to_owned),
                    task_definition_arn: t.task_definition_arn().unwrap_or_default().to_owned(),
                    last_status: aws_state(t.last_status().unwrap_or_default()),
                    private_ips: t
                        .attachments()
                        .iter()
                        .flat_map(|a| a.details())
                        .filter(|d| d.name() == Some("privateIPv4Address"))
                        .filter_map(|d| d.value().map(str::to_owned))
                        .collect(),
                }
            }));
        }
        Ok(tasks)
    }
}
