//! ECS's lifecycle hooks as a service deployment reports them
//! (`lifecycleHookDetails` of DescribeServiceDeployments) and as a service
//! declares them (`deploymentConfiguration.lifecycleHooks`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{Display, EnumString};

use super::LifecycleStage;

/// `DeploymentLifecycleHookTargetType`.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum HookTargetType {
    #[strum(serialize = "AWS_LAMBDA")]
    Lambda,
    Pause,
    #[strum(default)]
    Other(String),
}

/// `DeploymentLifecycleHookStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum HookRunStatus {
    InProgress,
    AwaitingAction,
    Succeeded,
    Failed,
    TimedOut,
    #[strum(default)]
    Other(String),
}

/// `DeploymentLifecycleHookAction`: what ContinueServiceDeployment asks for,
/// and what ECS does when a hook times out.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum HookAction {
    Continue,
    Rollback,
    #[strum(default)]
    Other(String),
}

/// One entry of a service deployment's `lifecycleHookDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHookDetail {
    pub hook_id: String,
    pub target_type: HookTargetType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    pub status: HookRunStatus,
    /// When ECS stops waiting for the hook.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    /// What ECS does then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<HookAction>,
}

impl LifecycleHookDetail {
    /// A `PAUSE` hook ECS holds the deployment at until someone calls
    /// ContinueServiceDeployment (or it times out).
    pub fn awaits_action(&self) -> bool {
        self.target_type == HookTargetType::Pause && self.status == HookRunStatus::AwaitingAction
    }
}

/// Where a running service deployment waits for a person: its PAUSE hook
/// awaiting action, at the deployment's current stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PausedAt {
    pub hook_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<HookAction>,
}

/// The PAUSE hook a service deployment waits at, if any.
pub fn paused_at(hooks: &[LifecycleHookDetail], stage: Option<&LifecycleStage>) -> Option<PausedAt> {
    hooks.iter().find(|h| h.awaits_action()).map(|h| PausedAt {
        hook_id: h.hook_id.clone(),
        lifecycle_stage: stage.cloned(),
        expires_at: h.expires_at,
        timeout_action: h.timeout_action.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(target_type: HookTargetType, status: HookRunStatus) -> LifecycleHookDetail {
        LifecycleHookDetail {
            hook_id: "h-1".into(),
            target_type,
            target_arn: None,
            status,
            expires_at: None,
            timeout_action: Some(HookAction::Rollback),
        }
    }

    #[test]
    fn only_a_pause_hook_awaiting_action_holds_the_deployment() {
        assert!(hook(HookTargetType::Pause, HookRunStatus::AwaitingAction).awaits_action());
        assert!(!hook(HookTargetType::Pause, HookRunStatus::Succeeded).awaits_action());
        assert!(!hook(HookTargetType::Lambda, HookRunStatus::InProgress).awaits_action());
        let hooks = [
            hook(HookTargetType::Lambda, HookRunStatus::Succeeded),
            hook(HookTargetType::Pause, HookRunStatus::AwaitingAction),
        ];
        let p = paused_at(&hooks, Some(&LifecycleStage::PostTestTrafficShift)).unwrap();
        assert_eq!(p.hook_id, "h-1");
        assert_eq!(p.lifecycle_stage, Some(LifecycleStage::PostTestTrafficShift));
        assert_eq!(paused_at(&hooks[..1], None), None);
    }

    #[test]
    fn unknown_values_are_kept() {
        let h: LifecycleHookDetail =
            serde_json::from_str(r#"{"hookId":"x","targetType":"WEBHOOK","status":"NEW_STATE"}"#).unwrap();
        assert_eq!(h.target_type.to_string(), "WEBHOOK");
        assert_eq!(HookTargetType::Lambda.to_string(), "AWS_LAMBDA");
        assert!(!h.awaits_action());
    }
}
