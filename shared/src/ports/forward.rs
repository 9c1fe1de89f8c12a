//! Every port is also implemented for `&T` and `Arc<T>`, so several steps
//! can share one adapter (the local cloud's function host, the tests).

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::{
    AlarmView, Approval, DeployTarget, Deployment, DeploymentId, DeploymentStateChange, DeploymentStatus, Freeze,
    HookAction, HookVerdict, HumanMessage, ImageDigest, Phase, PushDecision, RegistryImage, RolloutProgress,
    ServiceDeploymentView, ServiceSnapshot, TargetView, TaskDefinitionView, TaskView, Transition, Verdict,
};
use crate::error::Result;

macro_rules! forward {
    ($($ptr:ty),*) => {$(
        impl<T: DeployTargets> DeployTargets for $ptr {
            fn for_repository(&self, repository: &str) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send {
                self.deref().for_repository(repository)
            }
            fn all(&self) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send {
                self.deref().all()
            }
            fn put(&self, target: &DeployTarget) -> impl Future<Output = Result<()>> + Send {
                self.deref().put(target)
            }
            fn create(&self, target: &DeployTarget) -> impl Future<Output = Result<bool>> + Send {
                self.deref().create(target)
            }
            fn remove(&self, repository: &str, target_id: &str) -> impl Future<Output = Result<bool>> + Send {
                self.deref().remove(repository, target_id)
            }
            fn set_enabled(&self, repository: &str, target_id: &str, enabled: bool) -> impl Future<Output = Result<Option<DeployTarget>>> + Send {
                self.deref().set_enabled(repository, target_id, enabled)
            }
        }

        impl<T: Alarms> Alarms for $ptr {
            fn firing(&self, names: &[String], target_groups: &[String]) -> impl Future<Output = Result<Vec<AlarmView>>> + Send {
                self.deref().firing(names, target_groups)
            }
        }

        impl<T: ImageRegistry> ImageRegistry for $ptr {
            fn describe_image(&self, account: &str, region: &str, repository: &str, digest: &ImageDigest) -> impl Future<Output = Result<Option<RegistryImage>>> + Send {
                self.deref().describe_image(account, region, repository, digest)
            }
            fn image_tagged(&self, account: &str, region: &str, repository: &str, tag: &str) -> impl Future<Output = Result<Option<RegistryImage>>> + Send {
                self.deref().image_tagged(account, region, repository, tag)
            }
            fn tagged_images(&self, repository: &str) -> impl Future<Output = Result<Vec<RegistryImage>>> + Send {
                self.deref().tagged_images(repository)
            }
        }

        impl<T: PushDecisions> PushDecisions for $ptr {
            fn record(&self, decision: &PushDecision) -> impl Future<Output = Result<()>> + Send {
                self.deref().record(decision)
            }
            fn find(&self, repository: &str, tag: Option<&str>, digest: Option<&str>, limit: usize) -> impl Future<Output = Result<Vec<PushDecision>>> + Send {
                self.deref().find(repository, tag, digest, limit)
            }
        }

        impl<T: DeploymentStore> DeploymentStore for $ptr {
            fn create(&self, d: &Deployment) -> impl Future<Output = Result<CreateOutcome>> + Send {
                self.deref().create(d)
            }
            fn get(&self, id: &DeploymentId) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().get(id)
            }
            fn transition(&self, id: &DeploymentId, t: &Transition) -> impl Future<Output = Result<TransitionOutcome>> + Send {
                self.deref().transition(id, t)
            }
            fn store_task_token(&self, id: &DeploymentId, phase: Phase, ecs_deployment_id: &str, token: &str) -> impl Future<Output = Result<Deployment>> + Send {
                self.deref().store_task_token(id, phase, ecs_deployment_id, token)
            }
            fn record_verdict(&self, id: &DeploymentId, verdict: &Verdict) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().record_verdict(id, verdict)
            }
            fn record_progress(&self, id: &DeploymentId, status: DeploymentStatus, phase: Phase, ecs_deployment_id: &str, progress: &RolloutProgress, at: DateTime<Utc>) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().record_progress(id, status, phase, ecs_deployment_id, progress, at)
            }
            fn record_hook_verdict(&self, id: &DeploymentId, status: DeploymentStatus, verdict: &HookVerdict) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().record_hook_verdict(id, status, verdict)
            }
            fn record_approval(&self, id: &DeploymentId, status: DeploymentStatus, approval: &Approval) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().record_approval(id, status, approval)
            }
            fn note(&self, id: &DeploymentId, status: DeploymentStatus, at: DateTime<Utc>, detail: &str) -> impl Future<Output = Result<Option<Deployment>>> + Send {
                self.deref().note(id, status, at, detail)
            }
            fn store_queue_token(&self, id: &DeploymentId, token: &str, waiting_in: DeploymentStatus) -> impl Future<Output = Result<Deployment>> + Send {
                self.deref().store_queue_token(id, token, waiting_in)
            }
            fn active_watches(&self) -> impl Future<Output = Result<Vec<Deployment>>> + Send {
                self.deref().active_watches()
            }
            fn watches_of_service(&self, service_arn: &str) -> impl Future<Output = Result<Vec<DeploymentId>>> + Send {
                self.deref().watches_of_service(service_arn)
            }
            fn begin_check(&self, id: &DeploymentId, now: DateTime<Utc>, until: DateTime<Utc>) -> impl Future<Output = Result<CheckLease>> + Send {
                self.deref().begin_check(id, now, until)
            }
            fn ask_recheck(&self, id: &DeploymentId, now: DateTime<Utc>) -> impl Future<Output = Result<bool>> + Send {
                self.deref().ask_recheck(id, now)
            }
            fn end_check(&self, id: &DeploymentId, until: DateTime<Utc>, delivered: bool) -> impl Future<Output = Result<bool>> + Send {
                self.deref().end_check(id, until, delivered)
            }
            fn history(&self, service_key: &str, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send {
                self.deref().history(service_key, limit)
            }
            fn recent(&self, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send {
                self.deref().recent(limit)
            }
        }

        impl<T: Executions> Executions for $ptr {
            fn start(&self, name: &str, input: &serde_json::Value) -> impl Future<Output = Result<StartOutcome>> + Send {
                self.deref().start(name, input)
            }
            fn exists(&self, name: &str) -> impl Future<Output = Result<bool>> + Send {
                self.deref().exists(name)
            }
        }

        impl<T: Ecs> Ecs for $ptr {
            fn describe_service(&self, cluster: &str, service: &str) -> impl Future<Output = Result<ServiceSnapshot>> + Send {
                self.deref().describe_service(cluster, service)
            }
            fn describe_task_definition(&self, arn: &str) -> impl Future<Output = Result<TaskDefinitionView>> + Send {
                self.deref().describe_task_definition(arn)
            }
            fn register_revision(&self, source_arn: &str, images: &BTreeMap<String, String>, tags: &[(String, String)]) -> impl Future<Output = Result<String>> + Send {
                self.deref().register_revision(source_arn, images, tags)
            }
            fn recent_revisions(&self, family: &str, limit: i32) -> impl Future<Output = Result<Vec<String>>> + Send {
                self.deref().recent_revisions(family, limit)
            }
            fn update_service(&self, cluster: &str, service: &str, task_definition: &str) -> impl Future<Output = Result<ServiceSnapshot>> + Send {
                self.deref().update_service(cluster, service, task_definition)
            }
            fn find_service_deployment(&self, cluster: &str, service: &str, ecs_deployment_id: &str) -> impl Future<Output = Result<Option<ServiceDeploymentView>>> + Send {
                self.deref().find_service_deployment(cluster, service, ecs_deployment_id)
            }
            fn describe_service_deployment(&self, arn: &str) -> impl Future<Output = Result<Option<ServiceDeploymentView>>> + Send {
                self.deref().describe_service_deployment(arn)
            }
            fn production_target_groups(&self, revision_arn: &str) -> impl Future<Output = Result<Vec<String>>> + Send {
                self.deref().production_target_groups(revision_arn)
            }
            fn roll_back_service_deployment(&self, arn: &str) -> impl Future<Output = Result<StopOutcome>> + Send {
                self.deref().roll_back_service_deployment(arn)
            }
            fn continue_service_deployment(&self, arn: &str, hook_id: &str, action: &HookAction) -> impl Future<Output = Result<()>> + Send {
                self.deref().continue_service_deployment(arn, hook_id, action)
            }
            fn service_tasks(&self, cluster: &str, service: &str) -> impl Future<Output = Result<Vec<TaskView>>> + Send {
                self.deref().service_tasks(cluster, service)
            }
        }

        impl<T: TargetHealth> TargetHealth for $ptr {
            fn describe(&self, target_group_arn: &str) -> impl Future<Output = Result<Vec<TargetView>>> + Send {
                self.deref().describe(target_group_arn)
            }
        }

        impl<T: Notifier> Notifier for $ptr {
            fn publish(&self, change: &DeploymentStateChange, human: Option<&HumanMessage>) -> impl Future<Output = Result<()>> + Send {
                self.deref().publish(change, human)
            }
        }

        impl<T: TaskCallbacks> TaskCallbacks for $ptr {
            fn succeed(&self, task_token: &str, output: &serde_json::Value) -> impl Future<Output = Result<Delivery>> + Send {
                self.deref().succeed(task_token, output)
            }
        }

        impl<T: ServiceLocks> ServiceLocks for $ptr {
            fn acquire(&self, service_key: &str, owner: &DeploymentId, now: DateTime<Utc>, lease_until: DateTime<Utc>, rule: FreezeRule) -> impl Future<Output = Result<Claim>> + Send {
                self.deref().acquire(service_key, owner, now, lease_until, rule)
            }
            fn freeze(&self, service_key: &str, freeze: &Freeze) -> impl Future<Output = Result<Freeze>> + Send {
                self.deref().freeze(service_key, freeze)
            }
            fn unfreeze(&self, service_key: &str) -> impl Future<Output = Result<Option<Freeze>>> + Send {
                self.deref().unfreeze(service_key)
            }
            fn renew(&self, service_key: &str, owner: &DeploymentId, lease_until: DateTime<Utc>) -> impl Future<Output = Result<bool>> + Send {
                self.deref().renew(service_key, owner, lease_until)
            }
            fn release(&self, service_key: &str, owner: &DeploymentId, serving: Option<&Serving>) -> impl Future<Output = Result<()>> + Send {
                self.deref().release(service_key, owner, serving)
            }
            fn state(&self, service_key: &str) -> impl Future<Output = Result<ServiceLockState>> + Send {
                self.deref().state(service_key)
            }
        }

        impl<T: HttpProbe> HttpProbe for $ptr {
            fn get(&self, url: &str, timeout: std::time::Duration) -> impl Future<Output = Result<ProbeOutcome>> + Send {
                self.deref().get(url, timeout)
            }
        }

        impl<T: Runs> Runs for $ptr {
            fn is_running(&self, execution_arn: &str) -> impl Future<Output = Result<bool>> + Send {
                self.deref().is_running(execution_arn)
            }
        }

        impl<T: Clock> Clock for $ptr {
            fn now(&self) -> DateTime<Utc> {
                self.deref().now()
            }
        }
    )*};
}

forward!(&T, Arc<T>);
