//! ECS adapter: services, task definitions (cloned field for field), tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use aws_sdk_ecs::types::{DesiredStatus, Service, Tag, TaskDefinition, TaskDefinitionField};
use aws_sdk_ecs::Client;

use super::errors::{classify, code};
use crate::domain::{ContainerImage, EcsDeploymentView, ServiceSnapshot, TaskDefinitionView, TaskView};
use crate::error::Result;
use crate::ports::Ecs;
use crate::DeployError;

/// DescribeTasks takes at most 100 task ARNs per call.
const DESCRIBE_TASKS_BATCH: usize = 100;

#[derive(Debug)]
pub struct EcsClient {
    client: Client,
    /// Task definitions read in this process, by ARN. Revisions are immutable,
    /// so the describe before a register can be reused for the clone.
    described: Mutex<HashMap<String, (TaskDefinition, Vec<Tag>)>>,
}

impl EcsClient {
    pub fn new(client: Client) -> Self {
        Self { client, described: Mutex::new(HashMap::new()) }
    }

    async fn describe_raw(&self, arn: &str) -> Result<(TaskDefinition, Vec<Tag>)> {
        if let Some(hit) = self.described.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(arn) {
            return Ok(hit.clone());
        }
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| classify("DescribeTaskDefinition", e))?;
        let td = out.task_definition.ok_or_else(|| DeployError::Aws(format!("DescribeTaskDefinition {arn}: empty response")))?;
        let entry = (td, out.tags.unwrap_or_default());
        self.described
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(arn.to_owned(), entry.clone());
        Ok(entry)
    }
}

fn snapshot(s: &Service) -> ServiceSnapshot {
    let mut target_group_arns: Vec<String> = Vec::new();
    for lb in s.load_balancers() {
        if let Some(tg) = lb.target_group_arn() {
            if !target_group_arns.iter().any(|t| t == tg) {
                target_group_arns.push(tg.to_owned());
            }
        }
    }
    ServiceSnapshot {
        service_arn: s.service_arn().unwrap_or_default().to_owned(),
        status: s.status().unwrap_or_default().to_owned(),
        task_definition: s.task_definition().unwrap_or_default().to_owned(),
        desired_count: s.desired_count(),
        deployments: s
            .deployments()
            .iter()
            .map(|d| EcsDeploymentView {
                id: d.id().unwrap_or_default().to_owned(),
                status: d.status().unwrap_or_default().to_owned(),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                desired_count: d.desired_count(),
                running_count: d.running_count(),
                pending_count: d.pending_count(),
                failed_tasks: d.failed_tasks(),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_owned()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
            })
            .collect(),
        target_group_arns,
    }
}

/// The clone: every writable field of the source, the new images, merged tags.
/// Read-only fields (ARN, revision, status, compatibilities, requiresAttributes,
/// registeredAt/By, deregisteredAt, deleteRequestedAt) are the ones left out.
pub(crate) fn clone_request(
    client: &Client,
    td: TaskDefinition,
    source_tags: Vec<Tag>,
    images: &BTreeMap<String, String>,
    tags: &[(String, String)],
) -> Result<aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder> {
    let mut containers = td.container_definitions.unwrap_or_default();
    for (name, image) in images {
        let c = containers
            .iter_mut()
            .find(|c| c.name() == Some(name.as_str()))
            .ok_or_else(|| DeployError::NoMatchingContainer(format!("no container named {name:?}")))?;
        c.image = Some(image.clone());
    }
    let mut merged = source_tags;
    for (k, v) in tags {
        merged.retain(|t| t.key() != Some(k.as_str()));
        merged.push(Tag::builder().key(k).value(v).build());
    }
    // Deprecated fields are carried too: a clone that drops a setting the source
    // has is exactly the bug this function exists to avoid.
    #[allow(deprecated)]
    let request = client
        .register_task_definition()
        .set_family(td.family)
        .set_task_role_arn(td.task_role_arn)
        .set_execution_role_arn(td.execution_role_arn)
        .set_network_mode(td.network_mode)
        .set_container_definitions(Some(containers))
        .set_volumes(td.volumes)
        .set_placement_constraints(td.placement_constraints)
        .set_requires_compatibilities(td.requires_compatibilities)
        .set_cpu(td.cpu)
        .set_memory(td.memory)
        .set_pid_mode(td.pid_mode)
        .set_ipc_mode(td.ipc_mode)
        .set_proxy_configuration(td.proxy_configuration)
        .set_inference_accelerators(td.inference_accelerators)
        .set_ephemeral_storage(td.ephemeral_storage)
        .set_runtime_platform(td.runtime_platform)
        .set_enable_fault_injection(td.enable_fault_injection)
        .set_tags((!merged.is_empty()).then_some(merged));
    Ok(request)
}

impl Ecs for EcsClient {
    async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceSnapshot> {
        let not_found = || DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() };
        let out = self.client.describe_services().cluster(cluster).services(service).send().await.map_err(|e| {
            if code(&e) == Some("ClusterNotFoundException") { not_found() } else { classify("DescribeServices", e) }
        })?;
        out.services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .map(snapshot)
            .ok_or_else(not_found)
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionView> {
        let (td, tags) = self.describe_raw(arn).await?;
        Ok(TaskDefinitionView {
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
            tags: tags
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
                .collect(),
        })
    }

    async fn register_revision(&self, source_arn: &str, images: &BTreeMap<String, String>, tags: &[(String, String)]) -> Result<String> {
        let (td, source_tags) = self.describe_raw(source_arn).await?;
        let out = clone_request(&self.client, td, source_tags, images, tags)?
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
            .map_err(|e| match code(&e) {
                Some("ServiceNotFoundException" | "ServiceNotActiveException" | "ClusterNotFoundException") => {
                    DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() }
                }
                Some("InvalidParameterException" | "ClientException" | "PlatformUnknownException" | "PlatformTaskDefinitionIncompatibilityException" | "AccessDeniedException") => {
                    DeployError::UpdateRejected(classify("UpdateService", e).to_string())
                }
                _ => classify("UpdateService", e),
            })?;
        out.service.as_ref().map(snapshot).ok_or_else(|| DeployError::Aws("UpdateService returned no service".into()))
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
            tasks.extend(out.tasks().iter().map(|t| TaskView {
                task_arn: t.task_arn().unwrap_or_default().to_owned(),
                started_by: t.started_by().map(str::to_owned),
                task_definition_arn: t.task_definition_arn().unwrap_or_default().to_owned(),
                last_status: t.last_status().unwrap_or_default().to_owned(),
                private_ips: t
                    .attachments()
                    .iter()
                    .flat_map(|a| a.details())
                    .filter(|d| d.name() == Some("privateIPv4Address"))
                    .filter_map(|d| d.value().map(str::to_owned))
                    .collect(),
            }));
        }
        Ok(tasks)
    }
}
