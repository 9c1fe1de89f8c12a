use std::future::Future;

use crate::domain::{ImageDigest, RegistryImage};
use crate::error::Result;

/// ECR: what a registry really holds, so nothing about an image is believed
/// only because an event says it.
pub trait ImageRegistry: Send + Sync {
    /// The image with `digest` in `repository` of the registry of `account`
    /// in `region`; `None` when ECR has no such image or repository.
    fn describe_image(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        digest: &ImageDigest,
    ) -> impl Future<Output = Result<Option<RegistryImage>>> + Send;

    /// The image `tag` names now in `repository` of the registry of
    /// `account` in `region`; `None` when ECR has no such tag or repository.
    fn image_tagged(
        &self,
        account: &str,
        region: &str,
        repository: &str,
        tag: &str,
    ) -> impl Future<Output = Result<Option<RegistryImage>>> + Send;

    /// Every tagged image of `repository` in the stack's own registry (empty
    /// when the repository does not exist).
    fn tagged_images(&self, repository: &str) -> impl Future<Output = Result<Vec<RegistryImage>>> + Send;
}
