//! The stack AWS's documented ECR push sample belongs to: account
//! 123456789012 in us-west-2, with one deploy target for the sample's push
//! (`my-repository-name:latest` → `default/servicetest`).

use autodeploy_shared::domain::{DeployTarget, TagRule};
use autodeploy_shared::memory::MemoryCloud;
use autodeploy_shared::ports::DeployTargets;

pub const SAMPLE_REGISTRY: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";

/// The in-memory cloud of that stack, its target in place.
pub async fn sample_cloud() -> MemoryCloud {
    let cloud = MemoryCloud { registry: SAMPLE_REGISTRY.into(), ..MemoryCloud::default() };
    cloud
        .targets
        .put(&DeployTarget {
            repository: "my-repository-name".into(),
            target_id: "prod".into(),
            cluster: "default".into(),
            service: "servicetest".into(),
            tag_rule: TagRule::Exact { pattern: "latest".into() },
            containers: vec![],
            enabled: true,
            registries: vec![],
        })
        .await
        .expect("the in-memory targets table takes a valid target");
    cloud
}
