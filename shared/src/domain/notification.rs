//! What the world hears: the `Deployment State Change` event (schema in
//! `schemas/deployment-state-change.schema.json`) and the human message of
//! terminal outcomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Approval, ApprovalGate, DecisionSource, Deployment, DeploymentId, DeploymentStatus, DeploymentStrategy,
    HookVerdict, LifecycleStage, OperatorRequest, RequestKind, TargetGroupHealth,
};

pub const EVENT_SOURCE: &str = "ecs-autodeploy";
pub const EVENT_DETAIL_TYPE: &str = "Deployment State Change";
pub const SCHEMA_VERSION: &str = "3";

/// The `detail` of a `Deployment State Change` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStateChange {
    pub schema_version: String,
    pub deployment_id: DeploymentId,
    pub status: DeploymentStatus,
    pub terminal: bool,
    pub cluster: String,
    pub service: String,
    pub repository: String,
    pub image: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// How the deployment came about: `event` (ECR's push event),
    /// `reconciler` (read from ECR after the event never came) or
    /// `operator` (a person's request).
    pub found_by: DecisionSource,
    /// Who asked, for a deployment a person asked for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request: Option<OperatorRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecs_deployment_id: Option<String>,
    /// ECS's service deployment of the rollout, when ECS keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// The service's deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    /// The service deployment's lifecycle stage when last looked at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Production traffic on the new revision when last looked at, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_traffic_weight: Option<f64>,
    /// The timeline line of this change.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// For SUPERSEDED: the deployment that replaced this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<DeploymentId>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub target_health: Vec<TargetGroupHealth>,
    /// The latest request for approval and, once made, its decision.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approval: Option<Approval>,
    /// The latest answer of the stack's verification hook.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hook_verdict: Option<HookVerdict>,
    #[serde(with = "super::iso")]
    pub at: DateTime<Utc>,
}

impl DeploymentStateChange {
    /// The event for the record's latest status.
    pub fn of(d: &Deployment) -> Self {
        let last = d.timeline.last();
        Self {
            schema_version: SCHEMA_VERSION.into(),
            deployment_id: d.deployment_id.clone(),
            status: d.status,
            terminal: d.status.is_terminal(),
            cluster: d.cluster.clone(),
            service: d.service.clone(),
            repository: d.repository.clone(),
            image: d.image.clone(),
            digest: d.digest.to_string(),
            tag: d.tag.clone(),
            found_by: d.found_by,
            request: d.request.clone(),
            previous_task_definition: d.previous_task_definition.clone(),
            new_task_definition: d.new_task_definition.clone(),
            ecs_deployment_id: d.ecs_deployment_id.clone(),
            service_deployment_arn: d.service_deployment_arn.clone(),
            strategy: d.strategy.clone(),
            lifecycle_stage: d.progress.as_ref().and_then(|p| p.lifecycle_stage.clone()),
            production_traffic_weight: d.progress.as_ref().and_then(|p| p.production_traffic_weight),
            detail: last.map(|e| e.detail.clone()).unwrap_or_default(),
            failure_reason: d.failure_reason.clone(),
            superseded_by: d.superseded_by.clone(),
            target_health: d.target_health.clone(),
            approval: d.approval.clone(),
            hook_verdict: d.hook_verdict.clone(),
            at: last.map_or(d.updated_at, |e| e.at),
        }
    }
}

/// What waits, since when, until when, and exactly how to decide.
fn approval_request(d: &Deployment, a: &Approval) -> String {
    let held = match a.gate {
        ApprovalGate::Pipeline => "by the pipeline, before anything changes on the service".to_owned(),
        ApprovalGate::EcsPauseHook => format!(
            "by ECS at its PAUSE hook {} ({})",
            a.hook_id.as_deref().unwrap_or("?"),
            a.lifecycle_stage.as_ref().map_or_else(|| "its current stage".to_owned(), ToString::to_string)
        ),
    };
    let then = match (a.gate, a.on_timeout) {
        (ApprovalGate::Pipeline, super::OnTimeout::Reject) => "it is not deployed",
        (ApprovalGate::Pipeline, super::OnTimeout::Approve) => "it is deployed",
        (ApprovalGate::EcsPauseHook, super::OnTimeout::Reject) => "ECS rolls it back",
        (ApprovalGate::EcsPauseHook, super::OnTimeout::Approve) => "ECS goes on with it",
    };
    let until = a.expires_at.map_or_else(|| "ECS's hook timeout".to_owned(), |e| super::iso::format(&e));
    let mut text = format!(
        "\nWaiting for approval since {since},\n  held {held}.\nUntil {until}; then {then}.\n",
        since = super::iso::format(&a.requested_at),
    );
    match &a.endpoint {
        Some(e) => {
            let call = |decision: &str| {
                format!(
                    "  curl --aws-sigv4 \"aws:amz:{region}:lambda\" --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" \\\n    \
                     -H \"x-amz-security-token: $AWS_SESSION_TOKEN\" -H \"content-type: application/json\" \\\n    \
                     -d '{{\"deploymentId\":\"{id}\",\"decision\":\"{decision}\",\"reason\":\"...\"}}' \\\n    {url}\n",
                    region = e.region,
                    id = d.deployment_id,
                    url = e.url,
                )
            };
            text.push_str("\nTo approve, as an IAM identity allowed lambda:InvokeFunctionUrl on the approval URL:\n");
            text.push_str(&call("APPROVE"));
            text.push_str("To reject:\n");
            text.push_str(&call("REJECT"));
            text.push_str("(\"reason\" is optional; without a session token, leave out the x-amz-security-token header.)\n");
        }
        None => text.push_str("\nThe stack has no approval URL configured: decide in the ECS console or with ContinueServiceDeployment.\n"),
    }
    text
}

/// An SNS message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanMessage {
    /// At most 100 characters (SNS's email subject limit).
    pub subject: String,
    pub body: String,
}

impl HumanMessage {
    pub fn of(d: &Deployment) -> Self {
        let what = d.tag.as_deref().map_or_else(|| d.digest.to_string(), |t| format!("{}:{t}", d.repository));
        let verb = match d.status {
            DeploymentStatus::Succeeded => "deployed to",
            DeploymentStatus::Noop => "already running on",
            DeploymentStatus::RolledBack => "ROLLED BACK on",
            DeploymentStatus::Failed => "FAILED on",
            DeploymentStatus::Superseded => "superseded on",
            DeploymentStatus::Rejected => "REJECTED for",
            DeploymentStatus::AwaitingApproval => "waits for APPROVAL on",
            DeploymentStatus::Held => "held by a freeze of",
            _ => "in progress on",
        };
        let by_hand = match d.request.as_ref().map(|r| r.kind) {
            Some(RequestKind::Rollback) => "rollback: ",
            Some(RequestKind::Deploy) => "by hand: ",
            None => "",
        };
        let mut subject = format!("[ecs-autodeploy] {by_hand}{what} {verb} {}/{}", d.cluster, d.service);
        if subject.len() > 100 {
            let mut cut = 97;
            while !subject.is_char_boundary(cut) {
                cut -= 1;
            }
            subject.truncate(cut);
            subject.push_str("...");
        }
        let mut body = format!(
            "Deployment {id}: {status}\n\nService:   {cluster}/{service}\nImage:     {image}\nTag:       {tag}\n",
            id = d.deployment_id,
            status = d.status,
            cluster = d.cluster,
            service = d.service,
            image = d.image,
            tag = d.tag.as_deref().unwrap_or("-"),
        );
        if let Some(r) = &d.request {
            body.push_str(&format!("Asked by:  {} ({})\n", r.by, r.kind));
            if let Some(reason) = &r.reason {
                body.push_str(&format!("Because:   {reason}\n"));
            }
        }
        if let Some(prev) = &d.previous_task_definition {
            body.push_str(&format!("Previous:  {prev}\n"));
        }
        if let Some(new) = &d.new_task_definition {
            body.push_str(&format!("New:       {new}\n"));
        }
        if let Some(reason) = &d.failure_reason {
            body.push_str(&format!("\nReason: {reason}\n"));
        }
        if let Some(a) = d.approval.as_ref().filter(|_| d.status == DeploymentStatus::AwaitingApproval) {
            body.push_str(&approval_request(d, a));
        }
        body.push_str("\nTimeline:\n");
        for e in &d.timeline {
            body.push_str(&format!("  {}  {:<12}  {}\n", super::iso::format(&e.at), e.state.as_str(), e.detail));
        }
        Self { subject, body }
    }
}
