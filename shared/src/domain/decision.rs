//! What the trigger decided about a push, kept so "why didn't my push
//! deploy?" has an answer that is not only a log line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DeploymentId, ImageDigest, RETENTION_DAYS};

/// What happened to one push for one deploy target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum DecisionOutcome {
    /// A deployment was created and its run started.
    Started,
    /// The deployment existed already (a redelivered event, or the reconciler
    /// was first): nothing new started.
    Duplicate,
    /// The push matched the target but may not deploy (foreign registry, ECR
    /// does not know the image, the tag has moved on).
    Refused,
    /// Not a container image (a Helm chart, a signature…): nothing deploys it.
    Ignored,
    /// The reconciler found nothing the target should run that was not
    /// already deployed, in flight or decided.
    NothingNew,
}

/// Who decided: the push event, the reconciler reading ECR, or a person
/// (a manual deploy or rollback).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum DecisionSource {
    #[default]
    Event,
    Reconciler,
    Operator,
}

/// One decision. Its key is (repository, [`PushDecision::key`]): a retried
/// invocation that decides the same again rewrites the same item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushDecision {
    pub repository: String,
    pub digest: ImageDigest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The deploy target the decision is about; absent when the push was
    /// ignored as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    pub outcome: DecisionOutcome,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<DeploymentId>,
    pub source: DecisionSource,
    #[serde(with = "super::iso")]
    pub decided_at: DateTime<Utc>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
}

impl PushDecision {
    pub fn new(
        push: (&str, &ImageDigest, Option<&str>),
        target_id: Option<&str>,
        outcome: DecisionOutcome,
        reason: impl Into<String>,
        source: DecisionSource,
        now: DateTime<Utc>,
    ) -> Self {
        let (repository, digest, tag) = push;
        Self {
            repository: repository.to_owned(),
            digest: digest.clone(),
            tag: tag.map(str::to_owned),
            target_id: target_id.map(str::to_owned),
            outcome,
            reason: reason.into(),
            deployment_id: None,
            source,
            decided_at: now,
            expires_at: now.timestamp() + RETENTION_DAYS * 86_400,
        }
    }

    pub fn with_deployment(mut self, id: &DeploymentId) -> Self {
        self.deployment_id = Some(id.clone());
        self
    }

    /// The sort key within the repository: `<digest>#<tag>#<target>#<outcome>`
    /// for a push (so a digest's decisions are one `begins_with` away), and
    /// `reconciler#<target>` for the reconciler's latest "nothing new", which
    /// each pass overwrites instead of adding one item per target every pass.
    /// A person's request adds its deployment, so that deploying an image
    /// by hand never overwrites what was decided about its push.
    pub fn key(&self) -> String {
        if self.outcome == DecisionOutcome::NothingNew {
            return format!("reconciler#{}", self.target_id.as_deref().unwrap_or_default());
        }
        let key = format!(
            "{}#{}#{}#{}",
            self.digest,
            self.tag.as_deref().unwrap_or_default(),
            self.target_id.as_deref().unwrap_or_default(),
            self.outcome
        );
        match (self.source, &self.deployment_id) {
            (DecisionSource::Operator, Some(id)) => format!("{key}#{id}"),
            _ => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_group_a_digest_and_overwrite_the_reconcilers_nothing_new() {
        let d = ImageDigest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let refused = PushDecision::new(
            ("web", &d, Some("v1")),
            Some("prod"),
            DecisionOutcome::Refused,
            "x",
            DecisionSource::Event,
            now,
        );
        assert_eq!(refused.key(), format!("{d}#v1#prod#REFUSED"));
        let quiet = PushDecision::new(
            ("web", &d, Some("v1")),
            Some("prod"),
            DecisionOutcome::NothingNew,
            "y",
            DecisionSource::Reconciler,
            now,
        );
        assert_eq!(quiet.key(), "reconciler#prod");
        let id = DeploymentId::parse("d-000000000000000000000001").unwrap();
        let by_hand = PushDecision::new(
            ("web", &d, Some("v1")),
            Some("prod"),
            DecisionOutcome::Refused,
            "x",
            DecisionSource::Operator,
            now,
        )
        .with_deployment(&id);
        assert_eq!(by_hand.key(), format!("{d}#v1#prod#REFUSED#{id}"), "never the push's own decision");
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(json["outcome"], "REFUSED");
        assert_eq!(json["source"], "event");
        assert_eq!(serde_json::from_value::<PushDecision>(json).unwrap(), refused);
    }
}
