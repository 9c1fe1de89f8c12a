//! The deployment record: one per (service, image digest), with its timeline.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    Approval, ApprovalGate, ApprovalPolicy, DecisionSource, DeploymentStatus, DeploymentStrategy, HookVerdict,
    ImageDigest, OperatorRequest, RequestKind, RolloutProgress, ServiceRef, ServiceSnapshot, TagRule,
    TargetGroupHealth, Verdict,
};
use crate::DeployError;

/// How long a record is kept (DynamoDB TTL).
pub const RETENTION_DAYS: i64 = 90;

/// `d-` + 24 hex digits derived from (service, digest, tag): the same push
/// delivered twice, or found by the reconciler after its event, maps to the
/// same id, which is what makes duplicates start nothing new. The tag is part
/// of it so that pushing an earlier build again under a new tag (rolling
/// forward to a known-good image) is a new deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentId(String);

impl DeploymentId {
    pub fn derive(service: &ServiceRef, digest: &ImageDigest, tag: Option<&str>) -> Self {
        let seed = match tag {
            Some(tag) => format!("{}|{digest}|{tag}", service.key()),
            None => format!("{}|{digest}", service.key()),
        };
        Self::derive_from_seed(&seed)
    }

    /// The id of whatever `seed` names uniquely (a push, or a person's request).
    pub(crate) fn derive_from_seed(seed: &str) -> Self {
        let hash = Sha256::digest(seed.as_bytes());
        Self(format!("d-{}", &hex::encode(hash)[..24]))
    }

    pub fn parse(s: &str) -> Result<Self, DeployError> {
        let ok = s.len() == 26 && s.starts_with("d-") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DeployError::InvalidInput(format!("{} is not a deployment id", crate::error::quote(s))))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Step Functions execution name: readable, unique per deployment, and
    /// within the 80-character limit (`[A-Za-z0-9-_]` only).
    pub fn execution_name(&self, service: &ServiceRef) -> String {
        let readable: String = service
            .service
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .take(80 - 1 - self.0.len())
            .collect();
        format!("{readable}-{}", self.0)
    }
}

impl TryFrom<String> for DeploymentId {
    type Error = DeployError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeploymentId> for String {
    fn from(d: DeploymentId) -> Self {
        d.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the waiting run is watching: our rollout, or the rollback after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    Rollout,
    Rollback,
}

/// An active wait: the ECS deployment being watched, until when, the task token
/// of the paused run (once stored) and the verdict (once decided).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Watch {
    pub phase: Phase,
    pub ecs_deployment_id: String,
    pub service_arn: String,
    #[serde(default)]
    pub target_group_arns: Vec<String>,
    #[serde(with = "crate::domain::deployment::iso")]
    pub deadline: DateTime<Utc>,
    /// When the wait began: an alarm already in ALARM before it does not fail
    /// the rollout (a fix must be able to roll out during an incident).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::domain::deployment::iso_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// ECS's service deployment of the watched rollout, once found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// A rollback ECS runs on the watched service deployment itself
    /// (StopServiceDeployment ROLLBACK, or its circuit breaker): it ends
    /// ROLLBACK_SUCCESSFUL, not in a deployment of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_place_rollback: bool,
    /// [`super::RolloutProgress::key`] of the last progress entry recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// The service deployment's `updatedAt` of that entry.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_opt")]
    pub progress_at: Option<DateTime<Utc>>,
    /// Until when an `on-ecs-event` invocation looks at the rollout (its
    /// check lease): ECS sends events in bursts, and one look answers them all.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_opt")]
    pub checking_until: Option<DateTime<Utc>>,
    /// An event came while that look was under way: what it says may be newer
    /// than what the look saw, so the look is made again unless it was final.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recheck: bool,
    /// The run was sent the verdict (or its token was no longer valid).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delivered: bool,
}

impl Watch {
    /// A new wait on ECS deployment `ecs_deployment_id` of `service` from `now`
    /// until `deadline`, with no token parked and no verdict yet.
    pub fn new(
        phase: Phase,
        ecs_deployment_id: &str,
        service: &ServiceSnapshot,
        now: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Self {
        Self {
            phase,
            ecs_deployment_id: ecs_deployment_id.to_owned(),
            service_arn: service.service_arn.clone(),
            target_group_arns: service.all_target_groups(),
            deadline,
            started_at: Some(now),
            task_token: None,
            verdict: None,
            service_deployment_arn: None,
            in_place_rollback: false,
            progress: None,
            progress_at: None,
            checking_until: None,
            recheck: false,
            delivered: false,
        }
    }

    /// Nothing is left for an event to do: the verdict is recorded and the run
    /// has it, or will find it (no token was parked before it: the wait step
    /// then fails `VerdictReady` and checks).
    pub fn is_settled(&self) -> bool {
        self.verdict.is_some() && (self.task_token.is_none() || self.delivered)
    }

    /// Whether a look at the rollout holds the check lease at `now`.
    pub fn is_being_checked(&self, now: DateTime<Utc>) -> bool {
        self.checking_until.is_some_and(|until| now < until)
    }

    /// The same wait, following ECS's service deployment `arn`.
    #[must_use]
    pub fn following(mut self, arn: Option<String>) -> Self {
        self.service_deployment_arn = arn;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub state: DeploymentStatus,
    #[serde(with = "crate::domain::deployment::iso")]
    pub at: DateTime<Utc>,
    pub detail: String,
}

/// One deployment of one image to one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub deployment_id: DeploymentId,
    pub cluster: String,
    pub service: String,
    /// `cluster/service`: partition key of the per-service history index.
    pub service_key: String,
    pub repository: String,
    /// The digest-pinned image reference that is deployed.
    pub image: String,
    pub digest: ImageDigest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub target_id: String,
    pub tag_rule: TagRule,
    /// How the push was found: its event, or the reconciler reading ECR.
    #[serde(default)]
    pub found_by: DecisionSource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// CloudWatch alarms (besides those on the service's target groups) that
    /// fail the rollout when they are in ALARM: the target's, when it was pushed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
    /// The target's approval rule when it was pushed: present, the pipeline
    /// holds the deployment for a person (unless ECS does, at a PAUSE hook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<ApprovalPolicy>,
    /// Who asked for it, when a person did rather than a push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<OperatorRequest>,
    /// The latest request for approval, by either gate, and its decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    pub status: DeploymentStatus,
    #[serde(with = "iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "iso")]
    pub updated_at: DateTime<Utc>,
    /// When the push happened as the stack believes it (see
    /// [`super::believed_push_time`]): what "newest wins" compares.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_opt")]
    pub pushed_at: Option<DateTime<Utc>>,
    /// ECR's `imagePushedAt` of the image: breaks ties between pushes in the
    /// same second of `pushed_at`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_opt")]
    pub image_pushed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_ecs_deployment_id: Option<String>,
    /// ECS's service deployment of our rollout, when ECS keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// The service's deployment strategy when it was updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    /// Where ECS's service deployment stood when last looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RolloutProgress>,
    /// The latest answer of the stack's verification hook on the rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_verdict: Option<HookVerdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<Watch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_health: Vec<TargetGroupHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The newer deployment that replaced this one (status SUPERSEDED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<DeploymentId>,
    /// Task token of the run while it waits QUEUED for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_token: Option<String>,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
}

/// What a push asks for, before it becomes a record.
#[derive(Debug, Clone)]
pub struct NewDeployment<'a> {
    pub service: &'a ServiceRef,
    pub repository: &'a str,
    pub registry: &'a str,
    pub digest: &'a ImageDigest,
    pub tag: Option<&'a str>,
    pub target_id: &'a str,
    pub tag_rule: &'a TagRule,
    pub containers: &'a [String],
    pub alarms: &'a [String],
    pub approval: Option<&'a ApprovalPolicy>,
    pub found_by: DecisionSource,
    pub pushed_at: Option<DateTime<Utc>>,
    pub image_pushed_at: Option<DateTime<Utc>>,
    /// Added to the first timeline entry (how the push was checked or found).
    pub note: Option<&'a str>,
}

#[cfg(test)]
impl<'a> NewDeployment<'a> {
    /// A push of `tag` of repository `web` to target `prod`, checked at `at`,
    /// and nothing else: the request the domain's tests start from.
    pub(crate) fn pushed(
        service: &'a ServiceRef,
        digest: &'a ImageDigest,
        rule: &'a TagRule,
        tag: &'a str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            service,
            repository: "web",
            registry: "1.dkr.ecr.us-east-1.amazonaws.com",
            digest,
            tag: Some(tag),
            target_id: "prod",
            tag_rule: rule,
            containers: &[],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: Some(at),
            image_pushed_at: Some(at),
            note: None,
        }
    }
}

impl Deployment {
    pub fn new(req: NewDeployment<'_>, now: DateTime<Utc>) -> Self {
        let mut detail = match req.tag {
            Some(tag) => format!("{}:{tag} pushed ({})", req.repository, req.digest),
            None => format!("{}@{} pushed", req.repository, req.digest),
        };
        if let Some(note) = req.note {
            detail = format!("{detail}; {note}");
        }
        Self {
            deployment_id: DeploymentId::derive(req.service, req.digest, req.tag),
            cluster: req.service.cluster.clone(),
            service: req.service.service.clone(),
            service_key: req.service.key(),
            repository: req.repository.to_owned(),
            image: super::ImageRef::pinned(req.registry, req.repository, req.digest),
            digest: req.digest.clone(),
            tag: req.tag.map(str::to_owned),
            target_id: req.target_id.to_owned(),
            tag_rule: req.tag_rule.clone(),
            found_by: req.found_by,
            containers: req.containers.to_vec(),
            alarms: req.alarms.to_vec(),
            approval_policy: req.approval.cloned(),
            request: None,
            approval: None,
            status: DeploymentStatus::Pending,
            created_at: now,
            updated_at: now,
            pushed_at: req.pushed_at,
            image_pushed_at: req.image_pushed_at,
            previous_task_definition: None,
            new_task_definition: None,
            ecs_deployment_id: None,
            rollback_ecs_deployment_id: None,
            service_deployment_arn: None,
            strategy: None,
            progress: None,
            hook_verdict: None,
            watch: None,
            target_health: Vec::new(),
            failure_reason: None,
            superseded_by: None,
            queue_token: None,
            timeline: vec![TimelineEntry { state: DeploymentStatus::Pending, at: now, detail }],
            expires_at: now.timestamp() + RETENTION_DAYS * 86_400,
        }
    }

    /// The deployment a person asked for with `request` (validated): its id
    /// from the request's token, its time the request's, so that newest-wins
    /// puts it after every push before it and before every push after it.
    pub fn requested(req: NewDeployment<'_>, request: OperatorRequest, now: DateTime<Utc>) -> Self {
        let mut d = Self::new(NewDeployment { pushed_at: Some(now), image_pushed_at: None, ..req }, now);
        d.deployment_id = request.deployment_id(req.service);
        d.found_by = DecisionSource::Operator;
        let image = d
            .tag
            .as_deref()
            .map_or_else(|| format!("{}@{}", d.repository, d.digest), |t| format!("{}:{t}", d.repository));
        let mut detail = match (&request.kind, &request.task_definition) {
            (RequestKind::Rollback, Some(td)) => {
                format!("rollback to {} ({image}) requested by {}", short_revision(td), request.by)
            }
            _ if d.tag.is_some() => format!("deploy of {image} ({}) requested by {}", d.digest, request.by),
            _ => format!("deploy of {image} requested by {}", request.by),
        };
        if let Some(to) = &request.rollback_to {
            detail.push_str(&format!(", the revision of {to}"));
        }
        if request.force {
            detail.push_str(", forced through a freeze");
        }
        if let Some(reason) = &request.reason {
            detail.push_str(&format!(": {reason}"));
        }
        d.timeline = vec![TimelineEntry { state: DeploymentStatus::Pending, at: now, detail }];
        d.request = Some(request);
        d
    }

    /// Whether a freeze of the service holds this deployment back.
    pub fn passes_freeze(&self) -> bool {
        self.request.as_ref().is_some_and(OperatorRequest::passes_freeze)
    }

    pub fn service_ref(&self) -> Result<ServiceRef, DeployError> {
        ServiceRef::new(&self.cluster, &self.service)
    }

    /// Whether the record holds the service's lock: its status says so, or
    /// ECS holds its rollout at a PAUSE hook.
    pub fn holds_service(&self) -> bool {
        self.status.holds_service() || self.is_paused_by_ecs()
    }

    /// AWAITING_APPROVAL at an ECS PAUSE hook, mid-rollout.
    pub fn is_paused_by_ecs(&self) -> bool {
        self.status == DeploymentStatus::AwaitingApproval
            && self.approval.as_ref().is_some_and(|a| a.gate == ApprovalGate::EcsPauseHook)
    }

    /// Whether it waits without having touched the service (pending, queued,
    /// held by a freeze, or held for approval before the rollout): a newer
    /// push supersedes it.
    pub fn waits_before_rollout(&self) -> bool {
        matches!(self.status, DeploymentStatus::Pending | DeploymentStatus::Queued | DeploymentStatus::Held)
            || self.is_held_before_rollout()
    }

    /// AWAITING_APPROVAL before it took the service (the pipeline's gate):
    /// like a queued push, a newer one supersedes it.
    pub fn is_held_before_rollout(&self) -> bool {
        self.status == DeploymentStatus::AwaitingApproval && !self.is_paused_by_ecs()
    }

    /// Whether this push is newer than `other` (same service): for `semver`
    /// rules by version, else by the believed push time; ties (event times
    /// have whole seconds) by ECR's `imagePushedAt`, then by id so the order
    /// is total. When a record was written never decides.
    pub fn is_newer_than(&self, other: &Deployment) -> bool {
        use super::tag_rule::parse_semver;
        // A person's request is ordered by when it was made: rolling back
        // to a lower version is what it is for.
        if matches!(self.tag_rule, TagRule::Semver { .. })
            && self.request.is_none()
            && other.request.is_none()
            && let (Some(a), Some(b)) =
                (self.tag.as_deref().and_then(parse_semver), other.tag.as_deref().and_then(parse_semver))
            && a != b
        {
            return a > b;
        }
        // A push and a person's request in the same second: a push event's
        // time has whole seconds (and ECR's imagePushedAt may too), so which
        // came first cannot be known; the push wins, as what the team's own
        // pipeline produced last.
        let second = |d: &Deployment| d.pushed_at.unwrap_or(d.created_at).timestamp();
        if self.request.is_some() != other.request.is_some() && second(self) == second(other) {
            return self.request.is_none();
        }
        let key = |d: &Deployment| (d.pushed_at.unwrap_or(d.created_at), d.image_pushed_at, d.deployment_id.clone());
        key(self) > key(other)
    }

    /// Applies a transition in memory, exactly as the store applies it
    /// (the in-memory store and the tests use this).
    pub fn apply(&mut self, t: &Transition) {
        self.status = t.to;
        self.updated_at = t.at;
        self.timeline.push(TimelineEntry { state: t.to, at: t.at, detail: t.detail.clone() });
        t.patch.apply_to(self);
    }
}

/// A status move with its timeline line and the fields it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub to: DeploymentStatus,
    pub at: DateTime<Utc>,
    pub detail: String,
    pub patch: RecordPatch,
}

/// Fields a transition sets. `None` leaves a field as it is; `watch:
/// Some(None)` removes the watch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordPatch {
    pub previous_task_definition: Option<String>,
    pub new_task_definition: Option<String>,
    pub ecs_deployment_id: Option<String>,
    pub rollback_ecs_deployment_id: Option<String>,
    pub service_deployment_arn: Option<String>,
    pub strategy: Option<DeploymentStrategy>,
    pub watch: Option<Option<Watch>>,
    pub target_health: Option<Vec<TargetGroupHealth>>,
    pub failure_reason: Option<String>,
    pub superseded_by: Option<DeploymentId>,
    pub approval: Option<Approval>,
    /// A new deadline for the active watch (the time ECS held the rollout
    /// for a decision does not count against it).
    pub watch_deadline: Option<DateTime<Utc>>,
}

impl RecordPatch {
    pub fn apply_to(&self, d: &mut Deployment) {
        if let Some(v) = &self.previous_task_definition {
            d.previous_task_definition = Some(v.clone());
        }
        if let Some(v) = &self.new_task_definition {
            d.new_task_definition = Some(v.clone());
        }
        if let Some(v) = &self.ecs_deployment_id {
            d.ecs_deployment_id = Some(v.clone());
        }
        if let Some(v) = &self.rollback_ecs_deployment_id {
            d.rollback_ecs_deployment_id = Some(v.clone());
        }
        if let Some(v) = &self.service_deployment_arn {
            d.service_deployment_arn = Some(v.clone());
        }
        if let Some(v) = &self.strategy {
            d.strategy = Some(v.clone());
        }
        if let Some(v) = &self.watch {
            d.watch = v.clone();
        }
        if let Some(v) = &self.target_health {
            d.target_health = v.clone();
        }
        if let Some(v) = &self.failure_reason {
            d.failure_reason = Some(v.clone());
        }
        if let Some(v) = &self.superseded_by {
            d.superseded_by = Some(v.clone());
        }
        if let Some(v) = &self.approval {
            d.approval = Some(v.clone());
        }
        if let (Some(v), Some(w)) = (self.watch_deadline, d.watch.as_mut()) {
            w.deadline = v;
        }
    }
}

/// `arn:...:task-definition/web:8` → `web:8`.
pub fn short_revision(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Timestamps as fixed-width ISO 8601 with milliseconds, so they sort as strings
/// (they are range keys of the history indexes).
pub mod iso {
    use chrono::{DateTime, Datelike, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// RFC 3339, but only times [`format`] writes back as it reads them: an
    /// offset moves `0000-01-01T00:00:00+01:00` to the year -1 in UTC (and
    /// `9999-12-31T23:59:59-01:00` to 10000), which would be written
    /// `-0001-…`: not RFC 3339, so a record holding it could not be read again
    /// (and would not sort as a string).
    pub(crate) fn parse(s: &str) -> Result<DateTime<Utc>, String> {
        let t = DateTime::parse_from_rfc3339(s).map_err(|e| e.to_string())?.with_timezone(&Utc);
        if !(0..=9999).contains(&t.year()) {
            return Err("a time outside the years 0000 to 9999 in UTC".to_owned());
        }
        Ok(t)
    }
}

pub mod iso_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::iso::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?.map(|s| super::iso::parse(&s).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> ImageDigest {
        ImageDigest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap()
    }

    #[test]
    fn id_is_deterministic_per_service_digest_and_tag() {
        let web = ServiceRef::new("demo", "web").unwrap();
        let api = ServiceRef::new("demo", "api").unwrap();
        let a = DeploymentId::derive(&web, &digest(), Some("v1"));
        assert_eq!(a, DeploymentId::derive(&web, &digest(), Some("v1")), "a redelivery is the same deployment");
        assert_ne!(a, DeploymentId::derive(&api, &digest(), Some("v1")));
        assert_ne!(
            a,
            DeploymentId::derive(&web, &digest(), Some("v2")),
            "the same build under a new tag rolls forward"
        );
        assert_ne!(a, DeploymentId::derive(&web, &digest(), None));
        assert_eq!(DeploymentId::parse(a.as_str()).unwrap(), a);
        assert!(DeploymentId::parse("d-xyz").is_err());
    }

    #[test]
    fn execution_name_fits_step_functions_rules() {
        let long = ServiceRef::new("c", &"s".repeat(200)).unwrap();
        let id = DeploymentId::derive(&long, &digest(), Some("v1"));
        let name = id.execution_name(&long);
        assert!(name.len() <= 80, "{}", name.len());
        assert!(name.ends_with(id.as_str()));
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn timestamps_sort_as_strings() {
        let a = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let b = a + chrono::Duration::milliseconds(5);
        assert_eq!(iso::format(&a), "2026-01-01T00:00:00.000Z");
        assert!(iso::format(&a) < iso::format(&b));
    }

    #[test]
    fn a_push_and_a_request_in_the_same_second_order_the_push_last() {
        let web = ServiceRef::new("demo", "web").unwrap();
        let rule = TagRule::Glob { pattern: "*".into() };
        let t = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().with_timezone(&Utc);
        let digest = digest();
        let new = |tag| NewDeployment::pushed(&web, &digest, &rule, tag, t);
        let request = OperatorRequest {
            kind: RequestKind::Deploy,
            by: "arn:aws:iam::1:user/a".into(),
            token: "0123456789abcdef".into(),
            reason: None,
            force: false,
            task_definition: None,
            rollback_to: None,
        };
        let push = Deployment::new(new("v2"), t);
        let same_second = Deployment::requested(new("v1"), request.clone(), t + chrono::Duration::milliseconds(300));
        assert!(push.is_newer_than(&same_second) && !same_second.is_newer_than(&push));
        let later = Deployment::requested(new("v1"), request, t + chrono::Duration::milliseconds(1300));
        assert!(later.is_newer_than(&push) && !push.is_newer_than(&later));
    }

    #[test]
    fn new_record_is_pending_with_one_timeline_entry() {
        let web = ServiceRef::new("demo", "web").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-24T10:00:00.123Z").unwrap().with_timezone(&Utc);
        let d = Deployment::new(
            NewDeployment {
                service: &web,
                repository: "web",
                registry: "1.dkr.ecr.us-east-1.amazonaws.com",
                digest: &digest(),
                tag: Some("v2"),
                target_id: "prod",
                tag_rule: &TagRule::Exact { pattern: "v2".into() },
                containers: &[],
                alarms: &[],
                approval: None,
                found_by: Default::default(),
                pushed_at: None,
                image_pushed_at: None,
                note: None,
            },
            now,
        );
        assert_eq!(d.status, DeploymentStatus::Pending);
        assert_eq!(d.image, format!("1.dkr.ecr.us-east-1.amazonaws.com/web@{}", digest()));
        assert_eq!(d.timeline.len(), 1);
        assert_eq!(d.service_key, "demo/web");
        let json = serde_json::to_value(&d).unwrap();
        let back: Deployment = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }
}
