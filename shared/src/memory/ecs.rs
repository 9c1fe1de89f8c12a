use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::DeployError;
use crate::domain::{
    ContainerImage, EcsDeploymentStatus, EcsDeploymentView, RolloutState, ServiceSnapshot, ServiceStatus,
    TaskDefinitionView, TaskStatus, TaskView,
};
use crate::error::Result;
use crate::ports::Ecs;

#[derive(Debug, Default)]
struct State {
    services: HashMap<String, ServiceSnapshot>,
    task_definitions: HashMap<String, TaskDefinitionView>,
    tasks: Vec<TaskView>,
    next_deployment: u64,
    next_ip: u8,
    updates: Vec<String>,
}

/// A scriptable ECS: the tests drive deployments to the outcome they need.
#[derive(Debug, Default)]
pub struct FakeEcs(Mutex<State>);

fn key(cluster: &str, service: &str) -> String {
    format!("{cluster}/{service}")
}

impl FakeEcs {
    /// A service running `task_definition` with one COMPLETED deployment and
    /// `desired` running tasks, whose IPs it returns.
    pub fn add_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: TaskDefinitionView,
        desired: i32,
        target_groups: &[&str],
    ) -> Vec<String> {
        let mut s = super::lock(&self.0);
        s.next_deployment += 1;
        let id = format!("ecs-svc/{}", s.next_deployment);
        let td = task_definition.arn.clone();
        s.task_definitions.insert(td.clone(), task_definition);
        s.services.insert(
            key(cluster, service),
            ServiceSnapshot {
                service_arn: format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{service}"),
                status: ServiceStatus::Active,
                task_definition: td.clone(),
                desired_count: desired,
                deployments: vec![EcsDeploymentView {
                    id: id.clone(),
                    status: EcsDeploymentStatus::Primary,
                    task_definition: td.clone(),
                    desired_count: desired,
                    running_count: desired,
                    rollout_state: Some(RolloutState::Completed),
                    ..Default::default()
                }],
                target_group_arns: target_groups.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
        drop(s);
        self.start_tasks(&id, &td, desired)
    }

    /// Starts `n` RUNNING tasks for a deployment and returns their IPs.
    pub fn start_tasks(&self, deployment_id: &str, task_definition: &str, n: i32) -> Vec<String> {
        let mut s = super::lock(&self.0);
        (0..n)
            .map(|_| {
                s.next_ip = s.next_ip.wrapping_add(1);
                let ip = format!("10.0.{}.{}", s.next_deployment, s.next_ip);
                s.tasks.push(TaskView {
                    task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/{ip}"),
                    started_by: Some(deployment_id.to_owned()),
                    task_definition_arn: task_definition.to_owned(),
                    last_status: TaskStatus::Running,
                    private_ips: vec![ip.clone()],
                });
                ip
            })
            .collect()
    }

    /// Sets a deployment's rollout state (and reason), e.g. COMPLETED or FAILED.
    pub fn set_rollout(
        &self,
        cluster: &str,
        service: &str,
        deployment_id: &str,
        state: RolloutState,
        reason: Option<&str>,
    ) {
        let mut s = super::lock(&self.0);
        if let Some(svc) = s.services.get_mut(&key(cluster, service)) {
            let completed = state == RolloutState::Completed;
            if completed {
                svc.deployments.retain(|d| d.id == deployment_id);
            }
            for d in svc.deployments.iter_mut().filter(|d| d.id == deployment_id) {
                d.rollout_state = Some(state.clone());
                d.rollout_state_reason = reason.map(Into::into);
                if completed {
                    d.running_count = d.desired_count;
                }
            }
        }
    }

    /// What ECS's circuit breaker with rollback does: a new PRIMARY deployment
    /// of `task_definition`; the failed one becomes ACTIVE. Returns the new id.
    pub fn start_deployment(&self, cluster: &str, service: &str, task_definition: &str) -> String {
        let mut s = super::lock(&self.0);
        s.next_deployment += 1;
        let id = format!("ecs-svc/{}", s.next_deployment);
        if let Some(svc) = s.services.get_mut(&key(cluster, service)) {
            for d in &mut svc.deployments {
                d.status = EcsDeploymentStatus::Active;
            }
            svc.task_definition = task_definition.to_owned();
            svc.deployments.insert(
                0,
                EcsDeploymentView {
                    id: id.clone(),
                    status: EcsDeploymentStatus::Primary,
                    task_definition: task_definition.to_owned(),
                    desired_count: svc.desired_count,
                    rollout_state: Some(RolloutState::InProgress),
                    ..Default::default()
                },
            );
        }
        id
    }

    /// Task definitions the service was updated to, in order.
    pub fn updates(&self) -> Vec<String> {
        super::lock(&self.0).updates.clone()
    }

    pub fn task_definition(&self, arn: &str) -> Option<TaskDefinitionView> {
        super::lock(&self.0).task_definitions.get(arn).cloned()
    }

    pub fn service(&self, cluster: &str, service: &str) -> Option<ServiceSnapshot> {
        super::lock(&self.0).services.get(&key(cluster, service)).cloned()
    }
}

impl Ecs for FakeEcs {
    async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceSnapshot> {
        super::lock(&self.0)
            .services
            .get(&key(cluster, service))
            .cloned()
            .ok_or_else(|| DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() })
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionView> {
        super::lock(&self.0)
            .task_definitions
            .get(arn)
            .cloned()
            .ok_or_else(|| DeployError::Aws(format!("ClientException: unable to describe task definition {arn}")))
    }

    async fn register_revision(
        &self,
        source_arn: &str,
        images: &BTreeMap<String, String>,
        tags: &[(String, String)],
    ) -> Result<String> {
        let mut s = super::lock(&self.0);
        let source = s.task_definitions.get(source_arn).cloned().ok_or_else(|| {
            DeployError::Aws(format!("ClientException: unable to describe task definition {source_arn}"))
        })?;
        let revision = s.task_definitions.values().filter(|t| t.family == source.family).count() + 1;
        let arn = format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{}:{revision}", source.family);
        let mut merged = source.tags.clone();
        for (k, v) in tags {
            merged.retain(|(mk, _)| mk != k);
            merged.push((k.clone(), v.clone()));
        }
        let td = TaskDefinitionView {
            arn: arn.clone(),
            family: source.family.clone(),
            containers: source
                .containers
                .iter()
                .map(|c| ContainerImage {
                    name: c.name.clone(),
                    image: images.get(&c.name).cloned().unwrap_or_else(|| c.image.clone()),
                })
                .collect(),
            tags: merged,
        };
        s.task_definitions.insert(arn.clone(), td);
        Ok(arn)
    }

    async fn update_service(&self, cluster: &str, service: &str, task_definition: &str) -> Result<ServiceSnapshot> {
        if !super::lock(&self.0).task_definitions.contains_key(task_definition) {
            return Err(DeployError::UpdateRejected(format!("task definition {task_definition} does not exist")));
        }
        self.describe_service(cluster, service).await?;
        super::lock(&self.0).updates.push(task_definition.to_owned());
        self.start_deployment(cluster, service, task_definition);
        self.describe_service(cluster, service).await
    }

    async fn service_tasks(&self, _cluster: &str, _service: &str) -> Result<Vec<TaskView>> {
        Ok(super::lock(&self.0).tasks.clone())
    }
}
