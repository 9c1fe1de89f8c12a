use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::DeployError;
use crate::domain::{
    ContainerImage, DeploymentStrategy, EcsDeploymentStatus, EcsDeploymentView, HookAction, HookRunStatus,
    LifecycleStage, RevisionSummary, RolloutState, ServiceDeploymentStatus, ServiceDeploymentView, ServiceSnapshot,
    ServiceStatus, TaskDefinitionView, TaskStatus, TaskView,
};
use crate::error::Result;
use crate::ports::{Ecs, StopOutcome};

#[derive(Debug, Default)]
struct State {
    services: HashMap<String, ServiceSnapshot>,
    task_definitions: HashMap<String, TaskDefinitionView>,
    tasks: Vec<TaskView>,
    next_deployment: u64,
    next_ip: u8,
    updates: Vec<String>,
    /// ECS's service deployments, oldest first; off for an endpoint without them.
    service_deployments: Vec<TwinServiceDeployment>,
    no_service_deployments: bool,
    /// ListServiceDeployments fails this many more times (throttled).
    failing_finds: u32,
    production_target_groups: Option<Vec<String>>,
    rollbacks_requested: Vec<String>,
    continues: Vec<(String, String, HookAction)>,
    /// Every call through the port: the ECS action and what it named.
    calls: Vec<String>,
}

/// A scriptable ECS: the tests drive deployments to the outcome they need.
#[derive(Debug, Default)]
pub struct FakeEcs(Mutex<State>);

fn key(cluster: &str, service: &str) -> String {
    format!("{cluster}/{service}")
}

/// One service deployment with what the twin needs to run it.
#[derive(Debug, Clone)]
struct TwinServiceDeployment {
    service: String,
    view: ServiceDeploymentView,
    task_definition: String,
    /// The ECS deployment of its in-place rollback, once ECS started one.
    rollback_deployment: Option<String>,
}

impl State {
    /// A service deployment for ECS deployment `id` (`ecs-svc/<n>`), as ECS
    /// opens one with every deployment: IN_PROGRESS, targeting revision `<n>`;
    /// the one it replaces is STOPPED.
    fn open_service_deployment(&mut self, cluster: &str, service: &str, id: &str, task_definition: &str) {
        if self.no_service_deployments {
            return;
        }
        let svc_key = key(cluster, service);
        for sd in self.service_deployments.iter_mut().filter(|sd| sd.service == svc_key) {
            if matches!(sd.view.status, ServiceDeploymentStatus::InProgress | ServiceDeploymentStatus::Pending) {
                sd.view.status = ServiceDeploymentStatus::Stopped;
                sd.view.status_reason = Some(format!("replaced by ECS deployment {id}"));
            }
        }
        let n = id.trim_start_matches("ecs-svc/");
        let view = ServiceDeploymentView {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{cluster}/{service}/sd{n}"),
            status: ServiceDeploymentStatus::InProgress,
            status_reason: None,
            strategy: self.services.get(&svc_key).and_then(|s| s.strategy.clone()),
            lifecycle_stage: None,
            bake_time_minutes: None,
            target: Some(RevisionSummary {
                arn: format!("arn:aws:ecs:us-east-1:123456789012:service-revision/{cluster}/{service}/{n}"),
                ..Default::default()
            }),
            sources: Vec::new(),
            rollback_reason: None,
            rollback_revision_arn: None,
            updated_at: None,
            hooks: Vec::new(),
        };
        self.service_deployments.push(TwinServiceDeployment {
            service: svc_key,
            view,
            task_definition: task_definition.to_owned(),
            rollback_deployment: None,
        });
    }

    /// ECS rolls service deployment `index` back in place ("ECS doesn't create
    /// a new service revision for a rollback"): it goes ROLLBACK_IN_PROGRESS,
    /// naming the last revision that succeeded. Returns that revision's task
    /// definition, which the rollback deployment runs.
    fn begin_rollback(&mut self, index: usize, reason: &str) -> Option<String> {
        let svc_key = self.service_deployments[index].service.clone();
        let last_good = self.service_deployments[..index]
            .iter()
            .rev()
            .find(|sd| sd.service == svc_key && sd.view.status == ServiceDeploymentStatus::Successful)
            .map(|sd| (sd.view.target.as_ref().map(|t| t.arn.clone()), sd.task_definition.clone()));
        let (revision, td) = last_good?;
        let sd = &mut self.service_deployments[index];
        sd.view.status = ServiceDeploymentStatus::RollbackInProgress;
        sd.view.rollback_reason = Some(reason.to_owned());
        sd.view.rollback_revision_arn = revision;
        Some(td)
    }
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
                alternate_target_group_arns: Vec::new(),
                strategy: Some(DeploymentStrategy::Rolling),
                current_service_deployment: None,
                pause_hook_stages: Vec::new(),
            },
        );
        s.open_service_deployment(cluster, service, &id, &td);
        if let Some(sd) = s.service_deployments.last_mut() {
            sd.view.status = ServiceDeploymentStatus::Successful;
        }
        drop(s);
        self.start_tasks(&id, &td, desired)
    }

    /// An ECS endpoint without service deployments (an older API or region).
    pub fn without_service_deployments(&self) {
        let mut s = super::lock(&self.0);
        s.no_service_deployments = true;
        s.service_deployments.clear();
    }

    /// Changes ECS's service deployment of ECS deployment `ecs_deployment_id`.
    pub fn update_service_deployment(&self, ecs_deployment_id: &str, change: impl FnOnce(&mut ServiceDeploymentView)) {
        let mut s = super::lock(&self.0);
        if let Some(sd) = s.service_deployments.iter_mut().rev().find(|sd| sd.view.targets(ecs_deployment_id)) {
            change(&mut sd.view);
        }
    }

    /// ECS's service deployment of ECS deployment `ecs_deployment_id`.
    pub fn service_deployment_of(&self, ecs_deployment_id: &str) -> Option<ServiceDeploymentView> {
        let s = super::lock(&self.0);
        s.service_deployments.iter().rev().find(|sd| sd.view.targets(ecs_deployment_id)).map(|sd| sd.view.clone())
    }

    /// Makes the service a traffic-shifting one with these alternate target groups.
    pub fn set_alternate_target_groups(&self, cluster: &str, service: &str, groups: &[&str]) {
        if let Some(svc) = super::lock(&self.0).services.get_mut(&key(cluster, service)) {
            svc.alternate_target_group_arns = groups.iter().map(|g| (*g).to_owned()).collect();
            svc.strategy = Some(DeploymentStrategy::BlueGreen);
        }
    }

    /// The service's `deploymentConfiguration.strategy`.
    pub fn set_strategy(&self, cluster: &str, service: &str, strategy: DeploymentStrategy) {
        if let Some(svc) = super::lock(&self.0).services.get_mut(&key(cluster, service)) {
            svc.strategy = Some(strategy);
        }
    }

    /// The next `n` ListServiceDeployments calls are throttled.
    pub fn fail_next_finds(&self, n: u32) {
        super::lock(&self.0).failing_finds = n;
    }

    /// Where production traffic ends up (default: the service's target groups).
    pub fn set_production_target_groups(&self, groups: &[&str]) {
        super::lock(&self.0).production_target_groups = Some(groups.iter().map(|g| (*g).to_owned()).collect());
    }

    /// Makes the service's deployment configuration hold every deployment at
    /// a PAUSE hook at `stage`.
    pub fn set_pause_hook(&self, cluster: &str, service: &str, stage: LifecycleStage) {
        if let Some(svc) = super::lock(&self.0).services.get_mut(&key(cluster, service)) {
            svc.pause_hook_stages.push(stage);
        }
    }

    /// ContinueServiceDeployment calls: (service deployment, hook, action), in order.
    pub fn continues(&self) -> Vec<(String, String, HookAction)> {
        super::lock(&self.0).continues.clone()
    }

    /// Service deployments StopServiceDeployment ROLLBACK was called on, in order.
    pub fn rollbacks_requested(&self) -> Vec<String> {
        super::lock(&self.0).rollbacks_requested.clone()
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
        // The service deployment follows: COMPLETED is SUCCESSFUL; a circuit
        // breaker failure stops it (with rollback, the rollback deployment
        // that `start_deployment` opens replaces it).
        let rollback_of = s.service_deployments.iter_mut().rev().find(|sd| {
            sd.view.status == ServiceDeploymentStatus::RollbackInProgress
                && sd.rollback_deployment.as_deref() == Some(deployment_id)
        });
        if let Some(sd) = rollback_of {
            match state {
                RolloutState::Completed => sd.view.status = ServiceDeploymentStatus::RollbackSuccessful,
                RolloutState::Failed => {
                    sd.view.status = ServiceDeploymentStatus::RollbackFailed;
                    sd.view.status_reason = reason.map(Into::into);
                }
                _ => {}
            }
        } else if let Some(sd) = s.service_deployments.iter_mut().rev().find(|sd| sd.view.targets(deployment_id)) {
            match state {
                RolloutState::Completed => sd.view.status = ServiceDeploymentStatus::Successful,
                RolloutState::Failed => {
                    sd.view.status = ServiceDeploymentStatus::Stopped;
                    sd.view.status_reason = reason.map(Into::into);
                }
                _ => {}
            }
        }
    }

    /// What ECS's circuit breaker with rollback does: a new PRIMARY deployment
    /// of `task_definition`; the failed one becomes ACTIVE, and its service
    /// deployment ROLLBACK_IN_PROGRESS. Returns the new id.
    pub fn start_deployment(&self, cluster: &str, service: &str, task_definition: &str) -> String {
        let mut s = super::lock(&self.0);
        let id = Self::deploy(&mut s, cluster, service, task_definition);
        let svc_key = key(cluster, service);
        let live = s.service_deployments.iter().rposition(|sd| sd.service == svc_key && sd.view.status.is_running());
        if let Some(index) = live {
            s.begin_rollback(index, "ECS deployment circuit breaker: rolling back");
            s.service_deployments[index].rollback_deployment = Some(id.clone());
        }
        id
    }

    /// A new PRIMARY deployment of `task_definition`; the others become ACTIVE.
    fn deploy(s: &mut State, cluster: &str, service: &str, task_definition: &str) -> String {
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

    /// Every call the steps made, in order: the ECS action and what it named
    /// (`DescribeServices demo/web`; `ListTasks` stands for ListTasks +
    /// DescribeTasks).
    pub fn calls(&self) -> Vec<String> {
        super::lock(&self.0).calls.clone()
    }

    fn called(&self, action: &str, what: &str) {
        super::lock(&self.0).calls.push(format!("{action} {what}"));
    }

    fn snapshot(&self, cluster: &str, service: &str) -> Result<ServiceSnapshot> {
        super::lock(&self.0)
            .services
            .get(&key(cluster, service))
            .cloned()
            .ok_or_else(|| DeployError::ServiceNotFound { cluster: cluster.into(), service: service.into() })
    }
}

impl Ecs for FakeEcs {
    async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceSnapshot> {
        self.called("DescribeServices", &key(cluster, service));
        self.snapshot(cluster, service)
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionView> {
        self.called("DescribeTaskDefinition", arn);
        super::lock(&self.0)
            .task_definitions
            .get(arn)
            .cloned()
            .ok_or_else(|| DeployError::Aws(format!("ClientException: unable to describe task definition {arn}")))
    }

    async fn recent_revisions(&self, family: &str, limit: i32) -> Result<Vec<String>> {
        self.called("ListTaskDefinitions", family);
        let s = super::lock(&self.0);
        let revision = |arn: &str| arn.rsplit(':').next().and_then(|r| r.parse::<u32>().ok()).unwrap_or(0);
        let mut of: Vec<String> =
            s.task_definitions.values().filter(|t| t.family == family).map(|t| t.arn.clone()).collect();
        of.sort_by_key(|arn| std::cmp::Reverse(revision(arn)));
        of.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(of)
    }

    async fn register_revision(
        &self,
        source_arn: &str,
        images: &BTreeMap<String, String>,
        tags: &[(String, String)],
    ) -> Result<String> {
        self.called("RegisterTaskDefinition", source_arn);
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
        self.called("UpdateService", &key(cluster, service));
        if !super::lock(&self.0).task_definitions.contains_key(task_definition) {
            return Err(DeployError::UpdateRejected(format!("task definition {task_definition} does not exist")));
        }
        self.snapshot(cluster, service)?;
        {
            let mut s = super::lock(&self.0);
            s.updates.push(task_definition.to_owned());
            let id = Self::deploy(&mut s, cluster, service, task_definition);
            s.open_service_deployment(cluster, service, &id, task_definition);
        }
        self.snapshot(cluster, service)
    }

    async fn find_service_deployment(
        &self,
        cluster: &str,
        service: &str,
        ecs_deployment_id: &str,
    ) -> Result<Option<ServiceDeploymentView>> {
        self.called("ListServiceDeployments", &key(cluster, service));
        let svc_key = key(cluster, service);
        let mut s = super::lock(&self.0);
        if s.failing_finds > 0 {
            s.failing_finds -= 1;
            return Err(DeployError::Retryable("ListServiceDeployments: ThrottlingException: Rate exceeded".into()));
        }
        Ok(s.service_deployments
            .iter()
            .rev()
            .find(|sd| sd.service == svc_key && sd.view.targets(ecs_deployment_id))
            .map(|sd| sd.view.clone()))
    }

    async fn describe_service_deployment(&self, arn: &str) -> Result<Option<ServiceDeploymentView>> {
        self.called("DescribeServiceDeployments", arn);
        Ok(super::lock(&self.0).service_deployments.iter().find(|sd| sd.view.arn == arn).map(|sd| sd.view.clone()))
    }

    async fn production_target_groups(&self, revision_arn: &str) -> Result<Vec<String>> {
        self.called("DescribeServiceRevisions", revision_arn);
        let s = super::lock(&self.0);
        if let Some(groups) = &s.production_target_groups {
            return Ok(groups.clone());
        }
        let service = s
            .service_deployments
            .iter()
            .find(|sd| sd.view.target.as_ref().is_some_and(|t| t.arn == revision_arn))
            .and_then(|sd| s.services.get(&sd.service));
        Ok(service.map(|svc| svc.target_group_arns.clone()).unwrap_or_default())
    }

    async fn roll_back_service_deployment(&self, arn: &str) -> Result<StopOutcome> {
        self.called("StopServiceDeployment", arn);
        let mut s = super::lock(&self.0);
        s.rollbacks_requested.push(arn.to_owned());
        let index = s
            .service_deployments
            .iter()
            .position(|sd| sd.view.arn == arn)
            .ok_or_else(|| DeployError::UpdateRejected(format!("ServiceDeploymentNotFoundException: {arn}")))?;
        let status = s.service_deployments[index].view.status.clone();
        if status.is_rollback() {
            return Ok(StopOutcome::RollingBack);
        }
        if !status.is_running() {
            return Ok(StopOutcome::Finished);
        }
        // ROLLBACK_REQUESTED, then ECS runs the last good revision again.
        let Some(td) = s.begin_rollback(index, "rollback requested by StopServiceDeployment") else {
            return Err(DeployError::UpdateRejected(format!(
                "ConflictException: {arn} has no revision to roll back to"
            )));
        };
        let (cluster, service) = s.service_deployments[index]
            .service
            .split_once('/')
            .map_or_else(|| (String::new(), String::new()), |(c, sv)| (c.to_owned(), sv.to_owned()));
        let id = Self::deploy(&mut s, &cluster, &service, &td);
        s.service_deployments[index].rollback_deployment = Some(id);
        Ok(StopOutcome::RollingBack)
    }

    /// As ECS: only a PAUSE hook awaiting action can be continued; CONTINUE
    /// ends the hook SUCCEEDED, ROLLBACK ends it FAILED and rolls back.
    async fn continue_service_deployment(&self, arn: &str, hook_id: &str, action: &HookAction) -> Result<()> {
        self.called("ContinueServiceDeployment", arn);
        let mut s = super::lock(&self.0);
        s.continues.push((arn.to_owned(), hook_id.to_owned(), action.clone()));
        let index = s
            .service_deployments
            .iter()
            .position(|sd| sd.view.arn == arn)
            .ok_or_else(|| DeployError::UpdateRejected(format!("ServiceDeploymentNotFoundException: {arn}")))?;
        let hook = s.service_deployments[index]
            .view
            .hooks
            .iter_mut()
            .find(|h| h.hook_id == hook_id && h.awaits_action())
            .ok_or_else(|| {
                DeployError::UpdateRejected(format!("InvalidParameterException: hook {hook_id} is not awaiting action"))
            })?;
        if *action == HookAction::Continue {
            hook.status = HookRunStatus::Succeeded;
            return Ok(());
        }
        hook.status = HookRunStatus::Failed;
        let Some(td) = s.begin_rollback(index, "rolled back by ContinueServiceDeployment") else {
            return Ok(());
        };
        let (cluster, service) = s.service_deployments[index]
            .service
            .split_once('/')
            .map_or_else(|| (String::new(), String::new()), |(c, sv)| (c.to_owned(), sv.to_owned()));
        let id = Self::deploy(&mut s, &cluster, &service, &td);
        s.service_deployments[index].rollback_deployment = Some(id);
        Ok(())
    }

    async fn service_tasks(&self, cluster: &str, service: &str) -> Result<Vec<TaskView>> {
        self.called("ListTasks", &key(cluster, service));
        Ok(super::lock(&self.0).tasks.clone())
    }
}
