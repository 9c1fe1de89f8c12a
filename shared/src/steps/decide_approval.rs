//! The approval entry point: a person approves or rejects a deployment that
//! waits AWAITING_APPROVAL, through a Lambda function URL with AuthType
//! AWS_IAM. Lambda verifies the caller's SigV4 signature and puts the
//! caller's identity in `requestContext.authorizer.iam`: that identity, and
//! nothing the body says, is recorded as who decided.
//!
//! `POST` a JSON body `{"deploymentId": "d-…", "decision": "APPROVE" |
//! "REJECT", "reason": "…"}`. For the pipeline's own gate the decision moves
//! the record and resumes its run; for ECS's PAUSE hook it calls
//! ContinueServiceDeployment (CONTINUE or ROLLBACK) first. A repeated call
//! with the same decision by the same caller answers as the first did.

use aws_lambda_events::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::function_url::{UrlCall, body, caller, is_post, is_refusal, refusal, respond};
use super::{Recorder, Step, load};
use crate::DeployError;
use crate::domain::{
    Approval, ApprovalGate, ApprovalOutcome, Decision, DecisionPlan, Deployment, DeploymentId, DeploymentStatus,
    HookAction, RecordPatch, after_decision, plan_decision,
};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier, TaskCallbacks};

/// The function URL's request.
pub type ApprovalCall = UrlCall;

/// The body of a decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DecisionBody {
    deployment_id: DeploymentId,
    decision: Decision,
    #[serde(default)]
    reason: Option<String>,
}

/// Decides approvals for the people allowed to call its URL.
pub struct DecideApproval<S, E, K, N, C> {
    pub store: S,
    pub ecs: E,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
}

impl<S, E, K, N, C> Step for DecideApproval<S, E, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "decide-approval";
    type Input = ApprovalCall;
    type Output = LambdaFunctionUrlResponse;

    /// Every refusal is an HTTP answer with the reason (see [`is_refusal`]).
    async fn run(&self, call: ApprovalCall) -> Result<LambdaFunctionUrlResponse> {
        let request = call.0;
        // Lambda checked the signature; without an identity the URL is not
        // AWS_IAM and nobody can be recorded as the decider.
        let Some(who) = caller(&request) else {
            return Ok(respond(403, &json!({ "message": "the approval URL requires AWS_IAM authentication" })));
        };
        if !is_post(&request) {
            return Ok(respond(405, &json!({ "message": "POST a decision: {\"deploymentId\", \"decision\"}" })));
        }
        let body = match decision_body(&request) {
            Ok(b) => b,
            Err(e) => return Ok(refusal(&e)),
        };
        let span = tracing::Span::current();
        span.record("deployment", tracing::field::display(&body.deployment_id));
        match self.decide(&body, &who).await {
            Ok(d) => {
                tracing::info!(by = %who, decision = %body.decision, status = %d.status, "approval decided");
                Ok(respond(
                    200,
                    &json!({ "deploymentId": d.deployment_id, "status": d.status, "approval": d.approval }),
                ))
            }
            Err(e) if is_refusal(&e) => {
                tracing::info!(by = %who, error = %e, "approval refused");
                Ok(refusal(&e))
            }
            Err(e) => Err(e),
        }
    }
}

impl<S, E, K, N, C> DecideApproval<S, E, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    async fn decide(&self, body: &DecisionBody, who: &str) -> Result<Deployment> {
        let d = load(&self.store, &body.deployment_id).await?;
        let now = self.clock.now();
        let outcome = ApprovalOutcome::from(body.decision);
        let (decided, repeated) = match plan_decision(&d, outcome, Some(who), body.reason.as_deref(), now)? {
            // A repeated call: finish what the first one may have left.
            DecisionPlan::AlreadyDecided(a) if d.status == DeploymentStatus::AwaitingApproval => (a, true),
            // The record moved as the decision says: the first call may have
            // died before announcing it or resuming the run (which would then
            // wait until its approval timed out).
            DecisionPlan::AlreadyDecided(a) if after_decision(&a).0 == d.status => {
                Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }.announce(&d).await?;
                self.resume(&d, outcome).await?;
                return Ok(d);
            }
            DecisionPlan::AlreadyDecided(_) => return Ok(d),
            DecisionPlan::Decide(a) => {
                // The decision first, so that whoever sees ECS go on next
                // (an event, the poll) knows who decided.
                if self.store.record_approval(&d.deployment_id, d.status, &a).await?.is_none() {
                    return Err(DeployError::ApprovalRefused(format!(
                        "deployment {} was decided or moved on meanwhile",
                        d.deployment_id
                    )));
                }
                (a, false)
            }
        };
        if decided.gate == ApprovalGate::EcsPauseHook {
            self.continue_ecs(&d, &decided, repeated).await?;
        }
        let (to, detail) = after_decision(&decided);
        let patch = RecordPatch {
            failure_reason: (outcome == ApprovalOutcome::Rejected)
                .then(|| format!("rejected {}", decided.decided_how())),
            watch_deadline: (decided.gate == ApprovalGate::EcsPauseHook)
                .then(|| resumed_deadline(&d, &decided, now))
                .flatten(),
            approval: Some(decided),
            ..Default::default()
        };
        let after = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }
            .move_to(&d.deployment_id, to, detail, patch)
            .await?;
        self.resume(&after, outcome).await?;
        Ok(after)
    }

    /// The pipeline's gate: resume the run (it claims the service, or ends).
    /// Without a token yet, its wait step finds the record moved; a token
    /// used already is refused by Step Functions and changes nothing.
    async fn resume(&self, after: &Deployment, outcome: ApprovalOutcome) -> Result<()> {
        if after.approval.as_ref().is_some_and(|a| a.gate == ApprovalGate::Pipeline)
            && let Some(token) = &after.queue_token
        {
            self.callbacks.succeed(token, &json!({ "woken": outcome })).await?;
        }
        Ok(())
    }

    /// ContinueServiceDeployment at the hook ECS waits at. A refusal after
    /// the hook stopped waiting (a repeated call whose record write was
    /// lost, or a decision made in the console meanwhile) is not an error:
    /// the record catches up with ECS. A `repeated` call asks ECS only if the
    /// hook still waits: the first call may have answered it already.
    async fn continue_ecs(&self, d: &Deployment, a: &Approval, repeated: bool) -> Result<()> {
        let arn = d
            .service_deployment_arn
            .clone()
            .or_else(|| d.watch.as_ref().and_then(|w| w.service_deployment_arn.clone()))
            .ok_or_else(|| {
                DeployError::ApprovalRefused(format!("{} has no ECS service deployment", d.deployment_id))
            })?;
        let hook = a.hook_id.as_deref().unwrap_or_default();
        let action = match a.outcome {
            Some(ApprovalOutcome::Approved) => HookAction::Continue,
            _ => HookAction::Rollback,
        };
        if repeated && !self.hook_waits(&arn, hook).await? {
            tracing::info!(hook, "the hook no longer waits: the first call answered it; recording the decision");
            return Ok(());
        }
        match self.ecs.continue_service_deployment(&arn, hook, &action).await {
            Ok(()) => Ok(()),
            Err(DeployError::UpdateRejected(why)) => {
                if self.hook_waits(&arn, hook).await? {
                    Err(DeployError::ApprovalRefused(format!("ECS refused to {action} at hook {hook}: {why}")))
                } else {
                    tracing::warn!(hook, %why, "hook no longer waits; recording the decision");
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Whether ECS's service deployment `arn` still waits at PAUSE hook `hook`.
    async fn hook_waits(&self, arn: &str, hook: &str) -> Result<bool> {
        let sd = self.ecs.describe_service_deployment(arn).await?;
        Ok(sd.and_then(|sd| sd.paused_at()).is_some_and(|p| p.hook_id == hook))
    }
}

/// The rollout's deadline once ECS goes on: the time it was held does not count.
fn resumed_deadline(d: &Deployment, a: &Approval, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let w = d.watch.as_ref()?;
    Some(w.deadline + (now - a.requested_at).max(chrono::Duration::zero()))
}

fn decision_body(r: &LambdaFunctionUrlRequest) -> Result<DecisionBody> {
    body(r, "{\"deploymentId\": \"d-…\", \"decision\": \"APPROVE\"|\"REJECT\", \"reason\": \"…\"}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_checked() {
        let mut r = LambdaFunctionUrlRequest::default();
        r.body = Some(r#"{"deploymentId":"d-000000000000000000000001","decision":"APPROVE"}"#.into());
        assert_eq!(decision_body(&r).unwrap().decision, Decision::Approve);
        r.body = Some(aws_smithy_types::base64::encode(r.body.take().unwrap()));
        r.is_base64_encoded = true;
        assert!(decision_body(&r).is_ok(), "base64 bodies are decoded");
        r.is_base64_encoded = false;
        for bad in [
            r#"{"deploymentId":"d-1","decision":"APPROVE"}"#,
            r#"{"deploymentId":"d-000000000000000000000001","decision":"MAYBE"}"#,
            r#"{"deploymentId":"d-000000000000000000000001","decision":"APPROVE","by":"arn:aws:iam::1:user/x"}"#,
            "not json",
        ] {
            r.body = Some(bad.into());
            assert_eq!(decision_body(&r).unwrap_err().error_type(), "MalformedEvent", "{bad}");
        }
    }
}
