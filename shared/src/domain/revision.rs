//! Which containers of the current task definition get the new image.

use std::collections::BTreeMap;

use super::ImageRef;
use crate::DeployError;

/// Tag we put on every revision we register: the image tag it was made for, so
/// `semver` rules know what the service runs even though images are pinned by digest.
pub const IMAGE_TAG_KEY: &str = "ecs-autodeploy:image-tag";
/// Tag we put on every revision we register: the deployment that registered it.
pub const DEPLOYMENT_TAG_KEY: &str = "ecs-autodeploy:deployment-id";

/// Longest tag value ECS accepts (botocore's ECS model, `TagValue`).
pub const ECS_TAG_VALUE_MAX: usize = 256;

/// Whether ECS accepts `value` as a tag value: at most 256 characters of
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (botocore's ECS `TagValue`). Only the ASCII
/// part of those classes is accepted here, so a value this lets through is
/// one ECS takes; an image tag ECR allows (up to 300 characters) may not be.
pub fn fits_ecs_tag_value(value: &str) -> bool {
    value.len() <= ECS_TAG_VALUE_MAX
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    pub name: String,
    pub image: String,
}

/// What the domain needs to know of a task definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskDefinitionView {
    pub arn: String,
    pub family: String,
    pub containers: Vec<ContainerImage>,
    pub tags: Vec<(String, String)>,
}

impl TaskDefinitionView {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImagePlan {
    /// Every matched container already runs exactly this image.
    AlreadyRunning,
    /// Set these containers (name → image); nothing else changes.
    Update {
        images: BTreeMap<String, String>,
        /// The tag the service runs now, if known (for `semver` ordering).
        running_tag: Option<String>,
    },
}

/// Picks the containers to update: the named ones, or (none named) every
/// container whose image comes from `registry/repository`.
pub fn plan_image_update(
    current: &TaskDefinitionView,
    registry: &str,
    repository: &str,
    pinned_image: &str,
    wanted: &[String],
) -> Result<ImagePlan, DeployError> {
    let matched: Vec<&ContainerImage> = if wanted.is_empty() {
        let found: Vec<_> = current
            .containers
            .iter()
            .filter(|c| ImageRef::parse(&c.image).is_some_and(|r| r.same_repository(registry, repository)))
            .collect();
        if found.is_empty() {
            return Err(DeployError::NoMatchingContainer(format!(
                "no container of {} uses an image from {registry}/{repository}",
                current.arn
            )));
        }
        found
    } else {
        wanted
            .iter()
            .map(|name| {
                current.containers.iter().find(|c| &c.name == name).ok_or_else(|| {
                    DeployError::NoMatchingContainer(format!("{} has no container named {name:?}", current.arn))
                })
            })
            .collect::<Result<_, _>>()?
    };

    if matched.iter().all(|c| c.image == pinned_image) {
        return Ok(ImagePlan::AlreadyRunning);
    }
    let running_tag = current
        .tag(IMAGE_TAG_KEY)
        .map(str::to_owned)
        .or_else(|| matched.iter().find_map(|c| ImageRef::parse(&c.image).and_then(|r| r.tag)));
    Ok(ImagePlan::Update {
        images: matched.iter().map(|c| (c.name.clone(), pinned_image.to_owned())).collect(),
        running_tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = "1.dkr.ecr.us-east-1.amazonaws.com";
    const NEW: &str = "1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:bbbb";

    fn td(containers: &[(&str, &str)]) -> TaskDefinitionView {
        TaskDefinitionView {
            arn: "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
            family: "web".into(),
            containers: containers
                .iter()
                .map(|(n, i)| ContainerImage { name: (*n).into(), image: (*i).into() })
                .collect(),
            tags: vec![],
        }
    }

    #[test]
    fn default_matches_every_container_from_the_repository() {
        let t = td(&[
            ("app", "1.dkr.ecr.us-east-1.amazonaws.com/web:v1"),
            ("worker", "1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:aaaa"),
            ("sidecar", "1.dkr.ecr.us-east-1.amazonaws.com/envoy:v1"),
            ("other-account", "2.dkr.ecr.us-east-1.amazonaws.com/web:v1"),
        ]);
        let ImagePlan::Update { images, running_tag } = plan_image_update(&t, REG, "web", NEW, &[]).unwrap() else {
            panic!("expected update")
        };
        assert_eq!(images.keys().collect::<Vec<_>>(), ["app", "worker"]);
        assert!(images.values().all(|i| i == NEW));
        assert_eq!(running_tag.as_deref(), Some("v1"));
    }

    #[test]
    fn named_containers_only() {
        let t = td(&[("app", "x/web:v1"), ("worker", "x/web:v1")]);
        let ImagePlan::Update { images, .. } = plan_image_update(&t, REG, "web", NEW, &["worker".into()]).unwrap()
        else {
            panic!("expected update")
        };
        assert_eq!(images.keys().collect::<Vec<_>>(), ["worker"]);
        let err = plan_image_update(&t, REG, "web", NEW, &["nope".into()]).unwrap_err();
        assert_eq!(err.error_type(), "NoMatchingContainer");
    }

    #[test]
    fn no_container_from_repository_is_an_error() {
        let t = td(&[("app", "public.ecr.aws/nginx:1")]);
        assert_eq!(plan_image_update(&t, REG, "web", NEW, &[]).unwrap_err().error_type(), "NoMatchingContainer");
    }

    #[test]
    fn same_image_is_a_noop() {
        let t = td(&[("app", NEW), ("envoy", "1.dkr.ecr.us-east-1.amazonaws.com/envoy:v1")]);
        assert_eq!(plan_image_update(&t, REG, "web", NEW, &[]).unwrap(), ImagePlan::AlreadyRunning);
    }

    #[test]
    fn running_tag_prefers_our_tag() {
        let mut t = td(&[("app", "1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:aaaa")]);
        t.tags.push((IMAGE_TAG_KEY.into(), "1.4.0".into()));
        let ImagePlan::Update { running_tag, .. } = plan_image_update(&t, REG, "web", NEW, &[]).unwrap() else {
            panic!()
        };
        assert_eq!(running_tag.as_deref(), Some("1.4.0"));
    }
}
