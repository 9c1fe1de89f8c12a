//! Container image references and digests.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DeployError;
use crate::error::quote;

/// Whether ECR would accept `name` as a repository name (botocore's ECR
/// model, `RepositoryName`: 2 to 256 characters of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`).
pub fn is_ecr_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len()) && name.split('/').all(is_ecr_name_component)
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_ecr_name_component(part: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut rest = part;
    loop {
        let run = rest.find(|c: char| !alnum(c)).unwrap_or(rest.len());
        if run == 0 {
            return false;
        }
        rest = &rest[run..];
        if rest.is_empty() {
            return true;
        }
        let sep = rest.find(alnum).unwrap_or(rest.len());
        let (s, after) = rest.split_at(sep);
        if !matches!(s, "." | "_" | "__") && !(s.chars().all(|c| c == '-')) {
            return false;
        }
        rest = after;
    }
}

/// Manifest media types of container images: single-platform manifests
/// (Docker v2, OCI) and multi-platform indexes (Docker manifest list, OCI index).
const IMAGE_MANIFESTS: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// Config (artifact) media types of container images; an OCI manifest with
/// another one is an artifact stored in the registry (a Helm chart, a
/// signature, an SBOM …), not something a container runs.
const IMAGE_CONFIGS: [&str; 2] =
    ["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];

/// Why a push is not a container image, from the media types ECR reports
/// (`manifest-media-type`, `artifact-media-type`); `None` for an image. A
/// push that names no media type (as AWS's own event sample) is an image.
pub fn not_an_image(manifest_media_type: Option<&str>, artifact_media_type: Option<&str>) -> Option<String> {
    if let Some(m) = manifest_media_type.filter(|m| !IMAGE_MANIFESTS.contains(m)) {
        return Some(format!("manifest media type {} is not a container image's", quote(m)));
    }
    match artifact_media_type {
        Some(a) if !IMAGE_CONFIGS.contains(&a) => {
            Some(format!("artifact media type {} is not a container image's", quote(a)))
        }
        _ => None,
    }
}

/// Longest image tag ECR accepts (botocore's ECR model, `ImageTag`).
pub const ECR_TAG_MAX: usize = 300;

/// A content digest such as `sha256:7f5b…`. Validated on construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageDigest(String);

impl ImageDigest {
    /// Accepts `sha256:` followed by lowercase hex. The length is not pinned to 64:
    /// AWS's own documented ECR event sample carries a shortened digest, and a
    /// digest we refuse is a push we silently lose.
    pub fn parse(s: &str) -> Result<Self, DeployError> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| DeployError::malformed(format!("image digest {} is not sha256:<hex>", quote(s))))?;
        let ok =
            (32..=128).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(DeployError::malformed(format!("image digest {} is not sha256:<hex>", quote(s))));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hex part, for ids derived from the digest.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }
}

impl TryFrom<String> for ImageDigest {
    type Error = DeployError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ImageDigest> for String {
    fn from(d: ImageDigest) -> Self {
        d.0
    }
}

impl fmt::Display for ImageDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A container image reference split into its parts:
/// `[registry/]repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Splits an image string the way Docker does: the first path component is a
    /// registry only if it contains `.` or `:` or is `localhost`.
    pub fn parse(image: &str) -> Option<Self> {
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            return None;
        }
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (image, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (&name_tag[..last_slash + i], Some(name_tag[last_slash + i + 1..].to_owned())),
            None => (name_tag, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (Some(first.to_owned()), rest.to_owned())
            }
            _ => (None, name.to_owned()),
        };
        if repository.is_empty() {
            return None;
        }
        Some(Self { registry, repository, tag, digest })
    }

    /// The ECR registry host of an account and region.
    pub fn ecr_registry(account: &str, region: &str) -> String {
        let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        format!("{account}.dkr.ecr.{region}.{suffix}")
    }

    /// `registry/repository@digest`: what we deploy, so a moved tag cannot change it.
    pub fn pinned(registry: &str, repository: &str, digest: &ImageDigest) -> String {
        format!("{registry}/{repository}@{digest}")
    }

    /// Same registry and repository (tag and digest ignored).
    pub fn same_repository(&self, registry: &str, repository: &str) -> bool {
        self.registry.as_deref() == Some(registry) && self.repository == repository
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_indexes_deploy_other_artifacts_do_not() {
        let oci = Some("application/vnd.oci.image.manifest.v1+json");
        let images = [
            (None, None),
            (
                Some("application/vnd.docker.distribution.manifest.v2+json"),
                Some("application/vnd.docker.container.image.v1+json"),
            ),
            (oci, Some("application/vnd.oci.image.config.v1+json")),
            (Some("application/vnd.oci.image.index.v1+json"), None),
            (Some("application/vnd.docker.distribution.manifest.list.v2+json"), None),
        ];
        for (m, a) in images {
            assert_eq!(not_an_image(m, a), None, "{m:?} {a:?}");
        }
        let helm = not_an_image(oci, Some("application/vnd.cncf.helm.config.v1+json")).unwrap();
        assert!(helm.contains("helm"), "{helm}");
        assert!(not_an_image(oci, Some("application/vnd.cncf.notary.signature")).is_some());
        assert!(not_an_image(oci, Some("application/spdx+json")).is_some());
        assert!(not_an_image(Some("application/vnd.docker.distribution.manifest.v1+prettyjws"), None).is_some());
    }

    #[test]
    fn repository_names_as_ecr_takes_them() {
        for ok in ["web", "team/web", "a1/b-c/d__e", "my-repository-name", "x.y_z", "a--b"] {
            assert!(is_ecr_repository_name(ok), "{ok}");
        }
        let long = "a".repeat(257);
        for bad in ["", "a", "Web", "team//web", "/web", "web/", "a..b", "a___b", "-a", "a-", "a b", "a:b", &long] {
            assert!(!is_ecr_repository_name(bad), "{bad}");
        }
    }

    #[test]
    fn digest_validation() {
        assert!(ImageDigest::parse("sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234").is_ok());
        for bad in ["", "sha256:", "md5:abcd", "sha256:XYZ", "sha256:abc", "7f5b2640fe6fb4f46592dfd3410c4a79dac4"] {
            let err = ImageDigest::parse(bad).unwrap_err();
            assert_eq!(err.error_type(), "MalformedEvent", "{bad}");
        }
    }

    #[test]
    fn parses_ecr_image_with_tag() {
        let r = ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:v1.2.3").unwrap();
        assert_eq!(r.registry.as_deref(), Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        assert_eq!(r.repository, "team/web");
        assert_eq!(r.tag.as_deref(), Some("v1.2.3"));
        assert_eq!(r.digest, None);
    }

    #[test]
    fn parses_digest_and_registry_port() {
        let r = ImageRef::parse("localhost:5000/web@sha256:abcd").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.repository, "web");
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some("sha256:abcd"));
    }

    #[test]
    fn docker_hub_names_have_no_registry() {
        let r = ImageRef::parse("library/nginx:1.27").unwrap();
        assert_eq!(r.registry, None);
        assert_eq!(r.repository, "library/nginx");
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("a b").is_none());
    }

    #[test]
    fn ecr_registry_host() {
        assert_eq!(ImageRef::ecr_registry("1", "us-west-2"), "1.dkr.ecr.us-west-2.amazonaws.com");
        assert_eq!(ImageRef::ecr_registry("1", "cn-north-1"), "1.dkr.ecr.cn-north-1.amazonaws.com.cn");
    }
}
