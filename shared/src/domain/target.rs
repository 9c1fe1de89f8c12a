//! Deploy targets: which services a repository's pushes go to.

use serde::{Deserialize, Serialize};

use super::{ApprovalPolicy, TagRule};
use crate::DeployError;

/// A cluster + service pair, validated: names only, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
}

impl ServiceRef {
    /// Accepts names or ARNs and keeps the short names, so the same service is
    /// one key however a target spells it.
    pub fn new(cluster: &str, service: &str) -> Result<Self, DeployError> {
        let cluster = short_name(cluster);
        let service = short_name(service);
        for (what, v) in [("cluster", cluster), ("service", service)] {
            if v.is_empty() || v.len() > 255 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(DeployError::InvalidInput(format!("{what} name {v:?} is not a valid ECS name")));
            }
        }
        Ok(Self { cluster: cluster.to_owned(), service: service.to_owned() })
    }

    /// `cluster/service`: the key of a service's history.
    pub fn key(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }
}

/// `arn:aws:ecs:r:a:service/cluster/name` → `name`; a plain name stays as it is.
fn short_name(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") { name_or_arn.rsplit('/').next().unwrap_or(name_or_arn) } else { name_or_arn }
}

/// One row of the deploy-targets table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployTarget {
    /// ECR repository name (the table's partition key).
    pub repository: String,
    /// Unique within the repository (the sort key), e.g. `prod-web`.
    pub target_id: String,
    pub cluster: String,
    pub service: String,
    pub tag_rule: TagRule,
    /// Containers to update; empty means every container whose image is from the repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// Registries besides the stack's own whose pushes this target deploys
    /// (e.g. `111122223333.dkr.ecr.eu-west-1.amazonaws.com` for images
    /// replicated from another account or region). Empty: the stack's only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<String>,
    /// Whether the reconciler may deploy this target's newest matching image
    /// when its push event never arrived (or when the target is new). `false`:
    /// only push events deploy it.
    #[serde(default = "enabled_default")]
    pub reconcile: bool,
    /// CloudWatch alarms that fail a rollout of this target while they are in
    /// ALARM, besides any alarm on the service's target groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
    /// Every deployment of the target waits for a person to approve it
    /// (`{"timeoutMinutes": 1440, "onTimeout": "REJECT"}` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalPolicy>,
}

fn enabled_default() -> bool {
    true
}

impl DeployTarget {
    pub fn service_ref(&self) -> Result<ServiceRef, DeployError> {
        ServiceRef::new(&self.cluster, &self.service)
    }

    /// Whether a push to `registry` may deploy here: the stack's own registry
    /// always, another only when the target lists it.
    pub fn allows_registry(&self, registry: &str, home: &str) -> bool {
        registry == home || self.registries.iter().any(|r| r == registry)
    }

    pub fn validate(&self) -> Result<(), DeployError> {
        if self.repository.is_empty() || self.target_id.is_empty() {
            return Err(DeployError::InvalidInput("a deploy target needs repository and targetId".into()));
        }
        self.service_ref()?;
        if let Some(a) = &self.approval {
            a.validate()?;
        }
        self.tag_rule.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ref_accepts_arns_and_names() {
        let a = ServiceRef::new("arn:aws:ecs:us-east-1:1:cluster/demo", "arn:aws:ecs:us-east-1:1:service/demo/web")
            .unwrap();
        let b = ServiceRef::new("demo", "web").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), "demo/web");
        assert!(ServiceRef::new("de mo", "web").is_err());
        assert!(ServiceRef::new("", "web").is_err());
    }

    #[test]
    fn target_from_item_json() {
        let t: DeployTarget = serde_json::from_str(
            r#"{"repository":"web","targetId":"prod","cluster":"demo","service":"web","tagRule":{"type":"exact","pattern":"latest"}}"#,
        )
        .unwrap();
        assert!(t.enabled);
        assert!(t.containers.is_empty());
        assert!(t.registries.is_empty());
        assert!(t.reconcile);
        assert!(t.validate().is_ok());
        let home = "1.dkr.ecr.us-east-1.amazonaws.com";
        assert!(t.allows_registry(home, home));
        assert!(!t.allows_registry("9.dkr.ecr.us-east-1.amazonaws.com", home));
        let replicated = DeployTarget { registries: vec!["9.dkr.ecr.eu-west-1.amazonaws.com".into()], ..t };
        assert!(replicated.allows_registry("9.dkr.ecr.eu-west-1.amazonaws.com", home));
    }
}
