//! The stack AWS's documented ECR push sample belongs to: account
//! 123456789012 in us-west-2, with one deploy target for the sample's push
//! (`my-repository-name:latest` → `default/servicetest`).

use autodeploy_shared::domain::{DeployTarget, ImageDigest, TagRule};
use autodeploy_shared::memory::{MemoryCloud, MemoryRegistry};
use autodeploy_shared::ports::DeployTargets;

pub const SAMPLE_REGISTRY: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
/// The sample push's image, and when ECR stored it (a second before the event).
pub const SAMPLE_DIGEST: &str = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234";
pub const SAMPLE_PUSHED_AT: &str = "2019-11-16T01:54:33Z";

/// The in-memory cloud of that stack, its target in place and the sample's
/// image in its ECR.
pub async fn sample_cloud() -> MemoryCloud {
    let cloud = MemoryCloud {
        registry: SAMPLE_REGISTRY.into(),
        images: MemoryRegistry::new("123456789012", "us-west-2"),
        ..MemoryCloud::default()
    };
    let pushed_at = SAMPLE_PUSHED_AT.parse().expect("a valid time");
    let digest = ImageDigest::parse(SAMPLE_DIGEST).expect("the sample's digest");
    cloud.images.push("my-repository-name", "latest", &digest, pushed_at);
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
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .expect("the in-memory targets table takes a valid target");
    cloud
}
