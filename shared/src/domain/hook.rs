//! ECS lifecycle hooks: what ECS sends a hook function, what the stack's
//! verification hook checks, and what it answers ("Lifecycle hooks for
//! Amazon ECS service deployments": `hookStatus` SUCCEEDED, FAILED or
//! IN_PROGRESS with `callBackDelay`; the `hookDetails` returned are merged
//! into the next invocation's, which is where a soak's state lives).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{Display, EnumString};

use super::AlarmView;

/// ECS re-invokes an IN_PROGRESS hook after `callBackDelay` seconds (30 by default).
pub const DEFAULT_CALL_BACK_SECONDS: i64 = 30;
/// The key of the stack's own settings and state in `hookDetails`.
pub const HOOK_DETAILS_KEY: &str = "autodeploy";

/// `DeploymentLifecycleHookStage`: where a hook runs.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStage {
    ReconcileService,
    PreScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    PreProductionTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    #[strum(default)]
    Other(String),
}

impl HookStage {
    /// Stages where test traffic, not production, has reached the new revision.
    pub fn is_before_production(&self) -> bool {
        matches!(
            self,
            Self::ReconcileService
                | Self::PreScaleUp
                | Self::PostScaleUp
                | Self::TestTrafficShift
                | Self::PostTestTrafficShift
                | Self::PreProductionTrafficShift
        )
    }
}

/// `executionDetails` of a hook invocation.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookExecution {
    pub service_arn: String,
    pub target_service_revision_arn: String,
    /// Revision ARN → percent of test traffic.
    #[serde(default)]
    pub test_traffic_weights: BTreeMap<String, f64>,
    /// Revision ARN → percent of production traffic.
    #[serde(default)]
    pub production_traffic_weights: BTreeMap<String, f64>,
}

impl HookExecution {
    /// ECS re-invokes the traffic-shift hooks while it rolls back, with the
    /// weights back on the previous revision: then there is nothing to verify.
    pub fn is_rollback(&self, stage: &HookStage) -> bool {
        let weights = match stage {
            HookStage::TestTrafficShift => &self.test_traffic_weights,
            HookStage::ProductionTrafficShift => &self.production_traffic_weights,
            _ => return false,
        };
        weights.get(&self.target_service_revision_arn).is_some_and(|w| *w == 0.0)
            && weights.iter().any(|(arn, w)| *arn != self.target_service_revision_arn && *w > 0.0)
    }
}

/// One invocation of a hook, as ECS sends it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookInvocation {
    pub execution_id: String,
    pub lifecycle_stage: HookStage,
    /// The service deployment's ARN.
    pub resource_arn: String,
    pub execution_details: HookExecution,
    /// The hook's configured `hookDetails`, merged with what earlier answers returned.
    #[serde(default)]
    pub hook_details: Option<Value>,
}

/// What the verification hook checks, from `hookDetails.autodeploy`:
/// `{"targetHealth": true, "alarms": ["web-5xx"], "soakSeconds": 300}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HookChecks {
    /// The new revision's tasks healthy in every target group they are
    /// registered in: the green group of a blue/green service, which the
    /// test rule serves before production is shifted and production after.
    #[serde(default = "yes")]
    pub target_health: bool,
    /// Alarms that must not be in ALARM (besides those on the service's target groups).
    #[serde(default)]
    pub alarms: Vec<String>,
    /// How long every check must keep passing before SUCCEEDED.
    #[serde(default)]
    pub soak_seconds: i64,
    /// When the soak began (set by the hook's own IN_PROGRESS answers).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub soak_started_at: Option<DateTime<Utc>>,
    /// GETs of a URL that must answer as expected: typically the test
    /// listener, which reaches the new revision before production does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheck>,
}

/// `hookDetails.autodeploy.http`: `{"url": "http://internal-web:8080/", "requests": 10}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCheck {
    /// `http://` or `https://`, no credentials in it.
    pub url: String,
    /// The status every request must get; by default any 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// How many requests (1 to 100): a listener that spreads requests over
    /// several tasks (or a weighted canary) is sampled, not asked once.
    #[serde(default = "default_requests")]
    pub requests: u32,
    /// Per request, 1 to 10 seconds.
    #[serde(default = "default_http_timeout")]
    pub timeout_seconds: u64,
}

fn default_requests() -> u32 {
    10
}

fn default_http_timeout() -> u64 {
    5
}

impl HttpCheck {
    fn validate(&self) -> Result<(), String> {
        let at = format!("hookDetails.{HOOK_DETAILS_KEY}.http");
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .ok_or_else(|| format!("{at}.url must be an http:// or https:// URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') || self.url.chars().any(char::is_whitespace) {
            return Err(format!("{at}.url must name a host, without credentials or spaces"));
        }
        if !(1..=100).contains(&self.requests) {
            return Err(format!("{at}.requests must be 1 to 100"));
        }
        if !(1..=10).contains(&self.timeout_seconds) {
            return Err(format!("{at}.timeoutSeconds must be 1 to 10"));
        }
        if self.expect_status.is_some_and(|s| !(100..=599).contains(&s)) {
            return Err(format!("{at}.expectStatus must be an HTTP status"));
        }
        Ok(())
    }

    /// Whether `status` is what the check expects.
    pub fn accepts(&self, status: u16) -> bool {
        match self.expect_status {
            Some(wanted) => status == wanted,
            None => (200..300).contains(&status),
        }
    }
}

/// What the HTTP check got: how many of its requests answered as expected,
/// and the first few that did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFinding {
    pub url: String,
    pub requests: u32,
    pub passed: u32,
    /// e.g. `HTTP 500`, `no answer: connection refused`; at most five.
    pub failures: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for HookChecks {
    fn default() -> Self {
        Self { target_health: true, alarms: Vec::new(), soak_seconds: 0, soak_started_at: None, http: None }
    }
}

/// Longest soak a hook may ask for: ECS's longest hook timeout (24 hours for Lambda hooks).
pub const MAX_SOAK_SECONDS: i64 = 24 * 3600;

impl HookChecks {
    /// Reads the stack's settings from `hookDetails`; absent ones are the defaults.
    pub fn from_details(details: Option<&Value>) -> Result<Self, String> {
        let Some(ours) = details.and_then(|d| d.get(HOOK_DETAILS_KEY)) else { return Ok(Self::default()) };
        let checks: Self =
            serde_json::from_value(ours.clone()).map_err(|e| format!("hookDetails.{HOOK_DETAILS_KEY}: {e}"))?;
        if !(0..=MAX_SOAK_SECONDS).contains(&checks.soak_seconds) {
            return Err(format!("hookDetails.{HOOK_DETAILS_KEY}.soakSeconds must be 0 to {MAX_SOAK_SECONDS}"));
        }
        if let Some(http) = &checks.http {
            http.validate()?;
        }
        Ok(checks)
    }
}

/// `hookStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStatus {
    Succeeded,
    Failed,
    InProgress,
}

/// What the hook answers ECS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookAnswer {
    pub hook_status: HookStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_back_delay: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_details: Option<Value>,
    /// Why, in one line (ECS ignores it; the timeline and the logs show it).
    pub reason: String,
}

/// A hook's answer as the deployment keeps it: the latest one is on the
/// record and on the bus event that announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookVerdict {
    pub lifecycle_stage: HookStage,
    pub hook_status: HookStatus,
    pub reason: String,
    #[serde(with = "super::iso")]
    pub at: DateTime<Utc>,
}

impl HookVerdict {
    /// The timeline line: `hook at POST_TEST_TRAFFIC_SHIFT: FAILED (why)`.
    pub fn line(&self) -> String {
        format!("hook at {}: {} ({})", self.lifecycle_stage, self.hook_status, self.reason)
    }
}

/// One target group as the hook saw it: the new revision's healthy tasks in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCheck {
    pub target_group_arn: String,
    pub healthy: i32,
    pub wanted: i32,
}

/// What the checks found at one invocation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HookFindings {
    /// Empty when no target group is to be checked.
    pub groups: Vec<GroupCheck>,
    pub firing: Vec<AlarmView>,
    /// The HTTP check's result, when the hook makes one.
    pub http: Option<HttpFinding>,
}

/// Decides the answer: a firing alarm or (outside a soak's start) unhealthy
/// targets fail the hook at once; healthy targets with no alarm succeed, or
/// start (and then continue) the soak, answering IN_PROGRESS until it ends.
pub fn decide(checks: &HookChecks, findings: &HookFindings, now: DateTime<Utc>) -> HookAnswer {
    let answer = |status, delay, details, reason: String| HookAnswer {
        hook_status: status,
        call_back_delay: delay,
        hook_details: details,
        reason,
    };
    if let Some(alarm) = findings.firing.first() {
        return answer(HookStatus::Failed, None, None, format!("alarm {} is in ALARM: {}", alarm.name, alarm.reason));
    }
    let unhealthy: Vec<String> = findings
        .groups
        .iter()
        .filter(|g| g.healthy < g.wanted)
        .map(|g| format!("{} {}/{} healthy", super::short_tg(&g.target_group_arn), g.healthy, g.wanted))
        .collect();
    if !unhealthy.is_empty() {
        return answer(
            HookStatus::Failed,
            None,
            None,
            format!("the new revision is not healthy: {}", unhealthy.join(", ")),
        );
    }
    if let Some(h) = findings.http.as_ref().filter(|h| h.passed < h.requests) {
        return answer(
            HookStatus::Failed,
            None,
            None,
            format!(
                "GET {}: {} of {} requests failed ({})",
                h.url,
                h.requests - h.passed,
                h.requests,
                h.failures.join(", ")
            ),
        );
    }
    let mut passed = if findings.groups.is_empty() {
        "no alarm in ALARM".to_owned()
    } else {
        let groups: Vec<String> = findings
            .groups
            .iter()
            .map(|g| format!("{} {}/{}", super::short_tg(&g.target_group_arn), g.healthy, g.wanted))
            .collect();
        format!("healthy ({}), no alarm in ALARM", groups.join(", "))
    };
    if let Some(h) = &findings.http {
        passed.push_str(&format!(", GET {} {}/{} as expected", h.url, h.passed, h.requests));
    }
    if checks.soak_seconds == 0 {
        return answer(HookStatus::Succeeded, None, None, passed);
    }
    let started = checks.soak_started_at.filter(|s| *s <= now).unwrap_or(now);
    let left = (started + Duration::seconds(checks.soak_seconds) - now).num_seconds();
    if left <= 0 {
        return answer(
            HookStatus::Succeeded,
            None,
            None,
            format!("{passed} for the whole {} s soak", checks.soak_seconds),
        );
    }
    let state = HookChecks { soak_started_at: Some(started), ..checks.clone() };
    let details = serde_json::json!({ HOOK_DETAILS_KEY: state });
    answer(
        HookStatus::InProgress,
        Some(left.min(DEFAULT_CALL_BACK_SECONDS)),
        Some(details),
        format!("{passed}; soaking, {left} s of {} s left", checks.soak_seconds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aws_state;

    const GREEN: &str = "arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/web-green/abc";
    const REV: &str = "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900";
    const OLD: &str = "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/1920498462936580504";

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn healthy(n: i32) -> HookFindings {
        HookFindings {
            groups: vec![GroupCheck { target_group_arn: GREEN.into(), healthy: n, wanted: 4 }],
            firing: vec![],
            http: None,
        }
    }

    #[test]
    fn the_documented_payloads_parse() {
        let p: HookInvocation = serde_json::from_value(serde_json::json!({
          "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5",
          "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
          "resourceArn": "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28",
          "executionDetails": {
            "serviceArn": "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service",
            "targetServiceRevisionArn": REV,
            "testTrafficWeights": {},
            "productionTrafficWeights": { REV: 100, OLD: 0 }
          }
        }))
        .unwrap();
        assert_eq!(p.lifecycle_stage, HookStage::ProductionTrafficShift);
        assert!(!p.execution_details.is_rollback(&p.lifecycle_stage));
        assert_eq!(HookChecks::from_details(p.hook_details.as_ref()).unwrap(), HookChecks::default());

        let p: HookInvocation = serde_json::from_value(serde_json::json!({
          "executionId": "e8d5a28f", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
          "resourceArn": "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28",
          "executionDetails": { "serviceArn": "s", "targetServiceRevisionArn": REV,
                                "testTrafficWeights": {}, "productionTrafficWeights": {} },
          "hookDetails": { "approvalChecked": true, "autodeploy": {"alarms": ["web-5xx"], "soakSeconds": 120} }
        }))
        .unwrap();
        assert!(p.lifecycle_stage.is_before_production());
        let checks = HookChecks::from_details(p.hook_details.as_ref()).unwrap();
        assert_eq!((checks.alarms.as_slice(), checks.soak_seconds), (["web-5xx".to_owned()].as_slice(), 120));
    }

    #[test]
    fn a_rollback_reinvocation_is_recognised_by_its_weights() {
        let e = HookExecution {
            service_arn: "s".into(),
            target_service_revision_arn: REV.into(),
            test_traffic_weights: BTreeMap::new(),
            production_traffic_weights: [(REV.to_owned(), 0.0), (OLD.to_owned(), 100.0)].into(),
        };
        assert!(e.is_rollback(&HookStage::ProductionTrafficShift));
        assert!(!e.is_rollback(&HookStage::TestTrafficShift));
        assert!(!e.is_rollback(&HookStage::PostProductionTrafficShift));
    }

    #[test]
    fn bad_settings_are_refused_with_their_path() {
        let bad = serde_json::json!({"autodeploy": {"soakSecs": 5}});
        assert!(HookChecks::from_details(Some(&bad)).unwrap_err().contains("hookDetails.autodeploy"));
        let long = serde_json::json!({"autodeploy": {"soakSeconds": 90_000}});
        assert!(HookChecks::from_details(Some(&long)).unwrap_err().contains("soakSeconds"));
    }

    #[test]
    fn healthy_without_soak_succeeds_and_unhealthy_or_alarm_fails() {
        let checks = HookChecks::default();
        assert_eq!(decide(&checks, &healthy(4), at(0)).hook_status, HookStatus::Succeeded);
        let a = decide(&checks, &healthy(3), at(0));
        assert_eq!(a.hook_status, HookStatus::Failed);
        assert!(a.reason.contains("web-green/abc 3/4"), "{}", a.reason);
        let alarm = AlarmView {
            name: "web-5xx".into(),
            state: aws_state("ALARM"),
            reason: "Threshold Crossed".into(),
            since: None,
            target_groups: vec![],
        };
        let a = decide(&checks, &HookFindings { firing: vec![alarm], ..healthy(4) }, at(0));
        assert_eq!(a.hook_status, HookStatus::Failed);
        assert!(a.reason.starts_with("alarm web-5xx is in ALARM"), "{}", a.reason);
    }

    #[test]
    fn a_soak_answers_in_progress_with_its_state_until_it_ends() {
        let checks = HookChecks { soak_seconds: 70, ..HookChecks::default() };
        let first = decide(&checks, &healthy(4), at(0));
        assert_eq!((first.hook_status, first.call_back_delay), (HookStatus::InProgress, Some(30)));
        // ECS merges the details into the next invocation's.
        let next = HookChecks::from_details(first.hook_details.as_ref()).unwrap();
        assert_eq!(next.soak_started_at, Some(at(0)));
        let second = decide(&next, &healthy(4), at(50));
        assert_eq!((second.hook_status, second.call_back_delay), (HookStatus::InProgress, Some(20)));
        assert!(second.reason.contains("20 s of 70 s left"), "{}", second.reason);
        let done = decide(&next, &healthy(4), at(70));
        assert_eq!(done.hook_status, HookStatus::Succeeded, "{}", done.reason);
        // A failure during the soak fails at once.
        assert_eq!(decide(&next, &healthy(2), at(60)).hook_status, HookStatus::Failed);
        // A start in the future (a forged or skewed state) restarts the soak now.
        let skewed = HookChecks { soak_started_at: Some(at(1000)), ..checks };
        assert_eq!(decide(&skewed, &healthy(4), at(100)).call_back_delay, Some(30));
    }

    #[test]
    fn the_http_check_is_read_checked_and_decides() {
        let details = serde_json::json!({"autodeploy": {"http": {"url": "http://internal-web:8080/ready"}}});
        let checks = HookChecks::from_details(Some(&details)).unwrap();
        let http = checks.http.clone().unwrap();
        assert_eq!((http.requests, http.timeout_seconds, http.expect_status), (10, 5, None));
        assert!(http.accepts(204) && !http.accepts(302) && !http.accepts(500));
        assert!(HttpCheck { expect_status: Some(302), ..http.clone() }.accepts(302));
        for bad in [
            serde_json::json!({"url": "ftp://x/"}),
            serde_json::json!({"url": "http://user:pw@x/"}),
            serde_json::json!({"url": "http:///path"}),
            serde_json::json!({"url": "http://x/", "requests": 0}),
            serde_json::json!({"url": "http://x/", "timeoutSeconds": 60}),
            serde_json::json!({"url": "http://x/", "expectStatus": 42}),
            serde_json::json!({"url": "http://x/", "method": "POST"}),
        ] {
            let details = serde_json::json!({"autodeploy": {"http": bad}});
            assert!(HookChecks::from_details(Some(&details)).is_err(), "{details}");
        }
        let finding = |passed| HttpFinding {
            url: http.url.clone(),
            requests: 10,
            passed,
            failures: if passed < 10 { vec!["HTTP 500".into()] } else { vec![] },
        };
        let failed = decide(&checks, &HookFindings { http: Some(finding(7)), ..healthy(4) }, at(0));
        assert_eq!(failed.hook_status, HookStatus::Failed);
        assert_eq!(failed.reason, "GET http://internal-web:8080/ready: 3 of 10 requests failed (HTTP 500)");
        let ok = decide(&checks, &HookFindings { http: Some(finding(10)), ..healthy(4) }, at(0));
        assert_eq!(ok.hook_status, HookStatus::Succeeded);
        assert!(ok.reason.ends_with("GET http://internal-web:8080/ready 10/10 as expected"), "{}", ok.reason);
    }
}
