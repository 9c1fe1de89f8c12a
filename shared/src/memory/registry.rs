use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::{ImageDigest, RegistryImage};
use crate::error::Result;
use crate::ports::ImageRegistry;

/// ECR in memory: repositories of registries, keyed `account/region/repository`.
/// A push of a digest it holds adds the tag (moving it off any other image),
/// as ECR does.
#[derive(Debug)]
pub struct MemoryRegistry {
    images: Mutex<BTreeMap<String, Vec<RegistryImage>>>,
    /// The stack's own account and region ([`ImageRegistry::tagged_images`]).
    home: (String, String),
}

/// A repository's key: `account/region/repository`.
fn key(account: &str, region: &str, repository: &str) -> String {
    format!("{account}/{region}/{repository}")
}

impl MemoryRegistry {
    pub fn new(account: &str, region: &str) -> Self {
        Self { images: Mutex::default(), home: (account.to_owned(), region.to_owned()) }
    }

    /// `repository:tag` → `digest` in the home registry, pushed at `at`.
    pub fn push(&self, repository: &str, tag: &str, digest: &ImageDigest, at: DateTime<Utc>) {
        let (account, region) = self.home.clone();
        self.push_to(&account, &region, repository, tag, digest, at);
    }

    /// As [`Self::push`], into the registry of `account` in `region`.
    pub fn push_to(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        tag: &str,
        digest: &ImageDigest,
        at: DateTime<Utc>,
    ) {
        let mut all = super::lock(&self.images);
        let repo = all.entry(key(account, region, repository)).or_default();
        for other in repo.iter_mut() {
            other.tags.retain(|t| t != tag);
        }
        match repo.iter_mut().find(|i| &i.digest == digest) {
            Some(existing) => existing.tags.push(tag.to_owned()),
            None => repo.push(RegistryImage {
                digest: digest.clone(),
                tags: vec![tag.to_owned()],
                pushed_at: Some(at),
                manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
                artifact_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
            }),
        }
    }

    /// Replaces the media types of a held image (a Helm chart, a signature…).
    pub fn set_media_types(
        &self,
        repository: &str,
        digest: &ImageDigest,
        manifest: Option<&str>,
        artifact: Option<&str>,
    ) {
        let key = key(&self.home.0, &self.home.1, repository);
        if let Some(i) =
            super::lock(&self.images).get_mut(&key).and_then(|r| r.iter_mut().find(|i| &i.digest == digest))
        {
            i.manifest_media_type = manifest.map(str::to_owned);
            i.artifact_media_type = artifact.map(str::to_owned);
        }
    }
}

impl ImageRegistry for MemoryRegistry {
    async fn describe_image(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        digest: &ImageDigest,
    ) -> Result<Option<RegistryImage>> {
        let all = super::lock(&self.images);
        Ok(all.get(&key(account, region, repository)).and_then(|r| r.iter().find(|i| &i.digest == digest)).cloned())
    }

    async fn image_tagged(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        tag: &str,
    ) -> Result<Option<RegistryImage>> {
        let all = super::lock(&self.images);
        Ok(all.get(&key(account, region, repository)).and_then(|r| r.iter().find(|i| i.has_tag(tag))).cloned())
    }

    async fn tagged_images(&self, repository: &str) -> Result<Vec<RegistryImage>> {
        let all = super::lock(&self.images);
        let key = key(&self.home.0, &self.home.1, repository);
        Ok(all.get(&key).map(|r| r.iter().filter(|i| !i.tags.is_empty()).cloned().collect()).unwrap_or_default())
    }
}
