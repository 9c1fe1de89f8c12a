//! `verify-hook`: the lifecycle hook the stack ships. ECS invokes it at the
//! stages a service attaches it to; it checks the new revision (its tasks
//! healthy where they are registered, no alarm in ALARM, optionally a URL
//! answering as expected, for a soak period)
//! and answers SUCCEEDED, FAILED or IN_PROGRESS. Each answer is written to the
//! deployment's timeline and announced, when the deployment is the stack's.

use serde_json::Value;

use super::{Recorder, Step, StepInput};
use crate::DeployError;
use crate::domain::{
    Deployment, DeploymentId, GroupCheck, HookAnswer, HookChecks, HookFindings, HookInvocation, HookStatus,
    HookVerdict, HttpCheck, HttpFinding, ServiceDeploymentView, TargetHealthState, TaskStatus, decide, short_arn,
    short_tg,
};
use crate::error::Result;
use crate::events::from_object;
use crate::ports::{Alarms, Clock, DeploymentStore, Ecs, HttpProbe, Notifier, ProbeOutcome, TargetHealth};

impl StepInput for HookInvocation {
    fn parse(payload: Value) -> Result<Self> {
        from_object(payload, "a lifecycle hook invocation")
    }

    /// ECS names its service deployment, not ours: the record is found by it.
    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

/// Verifies a new revision for ECS at a lifecycle stage.
pub struct VerifyHook<S, E, H, A, P, N, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub alarms: A,
    /// The HTTP check's requests.
    pub http: P,
    pub notifier: N,
    pub clock: C,
}

fn answer(status: HookStatus, reason: impl Into<String>) -> HookAnswer {
    HookAnswer { hook_status: status, call_back_delay: None, hook_details: None, reason: reason.into() }
}

/// `arn:aws:ecs:r:a:service/cluster/service` → (cluster, service).
fn cluster_and_service(service_arn: &str) -> Option<(&str, &str)> {
    let path = service_arn.split_once(":service/")?.1;
    let (cluster, service) = path.split_once('/')?;
    (!cluster.is_empty() && !service.is_empty() && !service.contains('/')).then_some((cluster, service))
}

impl<S, E, H, A, P, N, C> Step for VerifyHook<S, E, H, A, P, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    P: HttpProbe,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "verify-hook";
    type Input = HookInvocation;
    type Output = HookAnswer;

    async fn run(&self, hook: HookInvocation) -> Result<HookAnswer> {
        let record = self.record_of(&hook.execution_details.service_arn, &hook.resource_arn).await?;
        let answer = self.verify(&hook, record.as_ref()).await?;
        tracing::info!(
            stage = %hook.lifecycle_stage,
            status = %answer.hook_status,
            reason = %answer.reason,
            service_deployment = %hook.resource_arn,
            "hook answered"
        );
        if let Some(d) = record {
            let verdict = HookVerdict {
                lifecycle_stage: hook.lifecycle_stage.clone(),
                hook_status: answer.hook_status,
                reason: answer.reason.clone(),
                at: self.clock.now(),
            };
            if let Some(after) = self.store.record_hook_verdict(&d.deployment_id, d.status, &verdict).await? {
                // The answer matters more than its announcement: a failed
                // announcement is logged, and ECS still gets the answer.
                let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };
                if let Err(e) = recorder.announce(&after).await {
                    tracing::warn!(error = %e, "hook answer recorded but not announced");
                }
            }
        }
        Ok(answer)
    }
}

impl<S, E, H, A, P, N, C> VerifyHook<S, E, H, A, P, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    P: HttpProbe,
    N: Notifier,
    C: Clock,
{
    /// The stack's deployment that waits on service deployment `arn` of
    /// service `service_arn`, if any: only that service's watches are read.
    async fn record_of(&self, service_arn: &str, arn: &str) -> Result<Option<Deployment>> {
        for id in self.store.watches_of_service(service_arn).await? {
            let Some(d) = self.store.get(&id).await? else { continue };
            let waits_on = d.service_deployment_arn.as_deref() == Some(arn)
                || d.watch.as_ref().and_then(|w| w.service_deployment_arn.as_deref()) == Some(arn);
            if waits_on && d.watch.is_some() {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    async fn verify(&self, hook: &HookInvocation, record: Option<&Deployment>) -> Result<HookAnswer> {
        // A misconfigured hook must not pass a release unchecked.
        let checks = match HookChecks::from_details(hook.hook_details.as_ref()) {
            Ok(checks) => checks,
            Err(e) => return Ok(answer(HookStatus::Failed, format!("the hook is misconfigured: {e}"))),
        };
        let details = &hook.execution_details;
        // Nothing in the invocation is believed: ECS must be running that
        // deployment, towards that revision, of that service.
        let Some(sd) = self.ecs.describe_service_deployment(&hook.resource_arn).await? else {
            return Ok(answer(HookStatus::Failed, format!("ECS knows no service deployment {}", hook.resource_arn)));
        };
        // While ECS rolls back it calls the traffic-shift hooks again: never hold a rollback.
        if sd.status.is_rollback() || details.is_rollback(&hook.lifecycle_stage) {
            return Ok(answer(HookStatus::Succeeded, "ECS is rolling back: nothing to verify"));
        }
        if !sd.status.is_running() {
            return Ok(answer(HookStatus::Failed, format!("service deployment {} is {}", sd.short_id(), sd.status)));
        }
        let target = sd.target.as_ref().map(|t| t.arn.as_str());
        if target != Some(details.target_service_revision_arn.as_str()) {
            return Ok(answer(
                HookStatus::Failed,
                format!(
                    "{} is not the target revision of service deployment {}",
                    details.target_service_revision_arn,
                    sd.short_id()
                ),
            ));
        }
        let Some((cluster, service)) = cluster_and_service(&details.service_arn) else {
            return Ok(answer(HookStatus::Failed, format!("{} is not a service ARN", details.service_arn)));
        };
        let snapshot = match self.ecs.describe_service(cluster, service).await {
            Ok(s) if s.service_arn == details.service_arn => s,
            Ok(_) | Err(DeployError::ServiceNotFound { .. }) => {
                return Ok(answer(HookStatus::Failed, format!("ECS knows no service {}", details.service_arn)));
            }
            Err(e) => return Err(e),
        };
        let groups = if checks.target_health {
            self.group_checks(cluster, service, &snapshot.all_target_groups(), &sd).await?
        } else {
            Vec::new()
        };
        let target_groups: Vec<String> =
            snapshot.all_target_groups().iter().map(|tg| short_tg(tg).to_owned()).collect();
        let names: Vec<String> =
            checks.alarms.iter().chain(record.map(|d| d.alarms.iter()).into_iter().flatten()).cloned().collect();
        // As for a rollout: only an alarm that went to ALARM after the stack's
        // wait began, where the stack deploys; one firing already would stop
        // every fix of what it is about.
        let started = record.and_then(|d| d.watch.as_ref()).and_then(|w| w.started_at);
        let firing: Vec<_> = self
            .alarms
            .firing(&names, &target_groups)
            .await?
            .into_iter()
            .filter(|a| match (a.since, started) {
                (Some(since), Some(started)) => since >= started,
                _ => true,
            })
            .collect();
        // Only once everything else passed: a failing alarm or group says
        // more than the requests would, and they are not made for nothing.
        let unhealthy = groups.iter().any(|g| g.healthy < g.wanted);
        let http = match &checks.http {
            Some(check) if firing.is_empty() && !unhealthy => Some(self.http_check(check).await?),
            _ => None,
        };
        Ok(decide(&checks, &HookFindings { groups, firing, http }, self.clock.now()))
    }

    /// `check.requests` GETs, one after the other.
    async fn http_check(&self, check: &HttpCheck) -> Result<HttpFinding> {
        let timeout = std::time::Duration::from_secs(check.timeout_seconds);
        let mut finding =
            HttpFinding { url: check.url.clone(), requests: check.requests, passed: 0, failures: Vec::new() };
        for _ in 0..check.requests {
            let failure = match self.http.get(&check.url, timeout).await? {
                ProbeOutcome::Status(s) if check.accepts(s) => None,
                ProbeOutcome::Status(s) => Some(format!("HTTP {s}")),
                ProbeOutcome::NoAnswer(why) => Some(format!("no answer: {why}")),
            };
            match failure {
                None => finding.passed += 1,
                Some(f) if finding.failures.len() < 5 => finding.failures.push(f),
                Some(_) => {}
            }
        }
        Ok(finding)
    }

    /// The new revision's running tasks, healthy in each target group they are
    /// registered in (the green group of a blue/green service: test traffic
    /// before production is shifted, production after).
    async fn group_checks(
        &self,
        cluster: &str,
        service: &str,
        target_groups: &[String],
        sd: &ServiceDeploymentView,
    ) -> Result<Vec<GroupCheck>> {
        let Some(target) = &sd.target else { return Ok(Vec::new()) };
        if target_groups.is_empty() {
            return Ok(Vec::new());
        }
        let started_by = format!("ecs-svc/{}", short_arn(&target.arn));
        let ips: Vec<String> = self
            .ecs
            .service_tasks(cluster, service)
            .await?
            .into_iter()
            .filter(|t| t.started_by.as_deref() == Some(started_by.as_str()) && t.last_status == TaskStatus::Running)
            .flat_map(|t| t.private_ips)
            .collect();
        let mut checks = Vec::new();
        for tg in target_groups {
            let targets = self.elb.describe(tg).await?;
            let ours: Vec<_> = targets.iter().filter(|t| ips.contains(&t.id)).collect();
            if ours.is_empty() {
                continue;
            }
            let healthy = ours.iter().filter(|t| t.state == TargetHealthState::Healthy).count();
            checks.push(GroupCheck {
                target_group_arn: tg.clone(),
                healthy: i32::try_from(healthy).unwrap_or(i32::MAX),
                wanted: target.requested_task_count,
            });
        }
        if checks.is_empty() {
            // Registered nowhere yet: not healthy anywhere.
            checks.push(GroupCheck {
                target_group_arn: "no target group".into(),
                healthy: 0,
                wanted: target.requested_task_count.max(1),
            });
        }
        Ok(checks)
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_and_service;

    #[test]
    fn the_service_arn_names_cluster_and_service() {
        assert_eq!(
            cluster_and_service("arn:aws:ecs:us-west-2:1:service/my-cluster/my-service"),
            Some(("my-cluster", "my-service"))
        );
        assert_eq!(cluster_and_service("arn:aws:ecs:us-west-2:1:service/my-service"), None);
        assert_eq!(cluster_and_service("arn:aws:ecs:us-west-2:1:service/c/s/x"), None);
        assert_eq!(cluster_and_service("web"), None);
    }
}
