//! ECS service deployments and revisions: which one is ours, where it stands,
//! where production traffic ends up, and ECS's own rollback.

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::operation::continue_service_deployment::ContinueServiceDeploymentError;
use aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentError;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, ServiceDeployment, ServiceRevisionSummary, StopServiceDeploymentStopType,
};

use super::ecs::EcsClient;
use super::errors::classify;
use crate::DeployError;
use crate::domain::{
    HookAction, LifecycleHookDetail, RevisionSummary, ServiceDeploymentView, aws_state, targets_revision,
};
use crate::error::Result;
use crate::ports::StopOutcome;

/// Error codes that mean "this endpoint has no service deployments": the
/// pipeline then follows `deployments[].rolloutState` as before.
const UNSUPPORTED: &[&str] = &["UnsupportedFeatureException", "UnknownOperationException", "InvalidAction"];

/// ListServiceDeployments pages (its maximum is 100). Ours was created by the
/// UpdateService a moment ago and is on the first page when the answer is
/// newest first, as observed (the order is not documented); a few pages cover
/// a busy service otherwise.
const PAGE_SIZE: i32 = 100;
const PAGES: usize = 3;

fn unsupported(code: Option<&str>) -> bool {
    code.is_some_and(|c| UNSUPPORTED.contains(&c))
}

fn revision(r: &ServiceRevisionSummary) -> RevisionSummary {
    RevisionSummary {
        arn: r.arn().unwrap_or_default().to_owned(),
        requested_task_count: r.requested_task_count(),
        running_task_count: r.running_task_count(),
        pending_task_count: r.pending_task_count(),
        test_traffic_weight: r.requested_test_traffic_weight(),
        production_traffic_weight: r.requested_production_traffic_weight(),
    }
}

fn view(sd: &ServiceDeployment) -> ServiceDeploymentView {
    let config = sd.deployment_configuration();
    ServiceDeploymentView {
        arn: sd.service_deployment_arn().unwrap_or_default().to_owned(),
        status: aws_state(sd.status().map_or("", |s| s.as_str())),
        status_reason: sd.status_reason().map(str::to_owned),
        strategy: config.and_then(|c| c.strategy()).map(|s| aws_state(s.as_str())),
        lifecycle_stage: sd.lifecycle_stage().map(|s| aws_state(s.as_str())),
        bake_time_minutes: config.and_then(|c| c.bake_time_in_minutes()),
        target: sd.target_service_revision().map(revision),
        sources: sd.source_service_revisions().iter().map(revision).collect(),
        rollback_reason: sd.rollback().and_then(|r| r.reason()).map(str::to_owned),
        rollback_revision_arn: sd.rollback().and_then(|r| r.service_revision_arn()).map(str::to_owned),
        updated_at: sd.updated_at().and_then(time),
        hooks: sd
            .lifecycle_hook_details()
            .iter()
            .map(|h| LifecycleHookDetail {
                hook_id: h.hook_id().unwrap_or_default().to_owned(),
                target_type: aws_state(h.target_type().map_or("", |t| t.as_str())),
                target_arn: h.target_arn().map(str::to_owned),
                status: aws_state(h.status().map_or("", |s| s.as_str())),
                expires_at: h.expires_at().and_then(time),
                timeout_action: h.timeout_action().map(|a| aws_state(a.as_str())),
            })
            .collect(),
    }
}

fn time(t: &aws_sdk_ecs::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

impl EcsClient {
    pub(super) async fn find_deployment(
        &self,
        cluster: &str,
        service: &str,
        ecs_deployment_id: &str,
    ) -> Result<Option<ServiceDeploymentView>> {
        let mut next = None;
        for _ in 0..PAGES {
            let listed = self
                .client()
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .max_results(PAGE_SIZE)
                .set_next_token(next)
                .send()
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(e) if unsupported(e.code()) => {
                    tracing::warn!(error = %e, "no service deployments here: following deployments[] instead");
                    return Ok(None);
                }
                Err(e) => return Err(classify("ListServiceDeployments", e)),
            };
            let ours = page
                .service_deployments()
                .iter()
                .find(|b| targets_revision(b.target_service_revision_arn(), ecs_deployment_id))
                .and_then(|b| b.service_deployment_arn());
            if let Some(arn) = ours {
                return self.describe_deployment(arn).await;
            }
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        Ok(None)
    }

    pub(super) async fn describe_deployment(&self, arn: &str) -> Result<Option<ServiceDeploymentView>> {
        let out = self
            .client()
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(|e| classify("DescribeServiceDeployments", e))?;
        Ok(out.service_deployments().iter().find(|sd| sd.service_deployment_arn() == Some(arn)).map(view))
    }

    pub(super) async fn production_groups(&self, revision_arn: &str) -> Result<Vec<String>> {
        let out = self
            .client()
            .describe_service_revisions()
            .service_revision_arns(revision_arn)
            .send()
            .await
            .map_err(|e| classify("DescribeServiceRevisions", e))?;
        let mut groups: Vec<String> = Vec::new();
        for rev in out.service_revisions() {
            let resolved = rev.resolved_configuration().map(|c| c.load_balancers()).unwrap_or_default();
            for tg in resolved.iter().filter_map(|lb| lb.target_group_arn()) {
                if !groups.iter().any(|g| g == tg) {
                    groups.push(tg.to_owned());
                }
            }
        }
        Ok(groups)
    }

    /// ContinueServiceDeployment at PAUSE hook `hook_id`. A refusal (the
    /// hook no longer awaits action, the deployment is gone) is
    /// `UpdateRejected`: the caller looks at the deployment to tell a
    /// repeated call from a late one.
    pub(super) async fn continue_deployment(&self, arn: &str, hook_id: &str, action: &HookAction) -> Result<()> {
        let sent = self
            .client()
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .hook_id(hook_id)
            .action(DeploymentLifecycleHookAction::from(action.to_string().as_str()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(
                    ContinueServiceDeploymentError::InvalidParameterException(_)
                    | ContinueServiceDeploymentError::ClientException(_)
                    | ContinueServiceDeploymentError::ServiceDeploymentNotFoundException(_),
                ) => Err(DeployError::UpdateRejected(classify("ContinueServiceDeployment", e).to_string())),
                _ => Err(classify("ContinueServiceDeployment", e)),
            },
        }
    }

    pub(super) async fn stop_for_rollback(&self, arn: &str) -> Result<StopOutcome> {
        let sent = self
            .client()
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(StopOutcome::RollingBack),
            Err(e) => match e.as_service_error() {
                Some(StopServiceDeploymentError::ConflictException(_)) => Ok(StopOutcome::Finished),
                Some(StopServiceDeploymentError::ServiceDeploymentNotFoundException(_)) => {
                    Err(DeployError::UpdateRejected(classify("StopServiceDeployment", e).to_string()))
                }
                _ => Err(classify("StopServiceDeployment", e)),
            },
        }
    }
}
