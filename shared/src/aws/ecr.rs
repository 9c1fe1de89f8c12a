//! ECR's `DescribeImages`: what a registry really holds.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::Region;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{ImageDetail, ImageIdentifier, TagStatus};
use chrono::{DateTime, Utc};

use super::errors::classify;
use crate::domain::{ImageDigest, RegistryImage};
use crate::error::Result;
use crate::ports::ImageRegistry;

/// One client per region, made from the first when a region is first asked
/// about: a target may deploy images replicated into this region from
/// another, and `DescribeImages` must go to the region that holds the image.
#[derive(Debug)]
pub struct EcrImages {
    base: aws_sdk_ecr::Config,
    home_account: String,
    home_region: String,
    clients: Mutex<HashMap<String, Client>>,
}

impl EcrImages {
    /// `client` is the stack's region's.
    pub fn new(client: Client, home_account: impl Into<String>, home_region: impl Into<String>) -> Self {
        let home_region = home_region.into();
        Self {
            base: client.config().clone(),
            home_account: home_account.into(),
            clients: Mutex::new(HashMap::from([(home_region.clone(), client)])),
            home_region,
        }
    }

    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        clients
            .entry(region.to_owned())
            .or_insert_with(|| Client::from_conf(self.base.to_builder().region(Region::new(region.to_owned())).build()))
            .clone()
    }
}

/// ECR's view of an image; `None` when the digest is not a valid one.
fn from_detail(d: &ImageDetail) -> Option<RegistryImage> {
    let digest = ImageDigest::parse(d.image_digest()?).ok()?;
    Some(RegistryImage {
        digest,
        tags: d.image_tags().to_vec(),
        pushed_at: d.image_pushed_at().and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())),
        manifest_media_type: d.image_manifest_media_type().map(str::to_owned),
        artifact_media_type: d.artifact_media_type().map(str::to_owned),
    })
}

impl EcrImages {
    /// The images DescribeImages answers for one identifier (a digest or a
    /// tag); none when ECR has no such image or repository.
    async fn describe_one(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        id: ImageIdentifier,
    ) -> Result<Vec<RegistryImage>> {
        let out = self
            .client(region)
            .describe_images()
            .registry_id(account)
            .repository_name(repository)
            .image_ids(id)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.image_details().iter().filter_map(from_detail).collect()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_image_not_found_exception() || s.is_repository_not_found_exception()) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(classify("DescribeImages", e)),
        }
    }
}

impl ImageRegistry for EcrImages {
    async fn describe_image(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        digest: &ImageDigest,
    ) -> Result<Option<RegistryImage>> {
        let id = ImageIdentifier::builder().image_digest(digest.as_str()).build();
        let images = self.describe_one(account, region, repository, id).await?;
        Ok(images.into_iter().find(|i| &i.digest == digest))
    }

    async fn image_tagged(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        tag: &str,
    ) -> Result<Option<RegistryImage>> {
        let id = ImageIdentifier::builder().image_tag(tag).build();
        let images = self.describe_one(account, region, repository, id).await?;
        Ok(images.into_iter().find(|i| i.has_tag(tag)))
    }

    async fn tagged_images(&self, repository: &str) -> Result<Vec<RegistryImage>> {
        let mut pages = self
            .client(&self.home_region)
            .describe_images()
            .registry_id(&self.home_account)
            .repository_name(repository)
            .filter(aws_sdk_ecr::types::DescribeImagesFilter::builder().tag_status(TagStatus::Tagged).build())
            .into_paginator()
            .send();
        let mut images = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => images.extend(page.image_details().iter().filter_map(from_detail)),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(classify("DescribeImages", e)),
            }
        }
        Ok(images)
    }
}
