//! ECR in moto: where `push` puts an image before ECR's event goes out, so the
//! functions find in ECR what the event says (they believe ECR, not the event).

use serde_json::json;
use sha2::{Digest, Sha256};

use super::CallError;

/// An OCI image manifest whose content stands for one build: the same
/// repository, build name and behaviour give the same bytes, hence the same
/// digest, as rebuilding the same sources with a reproducible build would.
pub fn manifest(repository: &str, build: &str, behavior: &str) -> String {
    let blob = |what: &str| {
        format!("sha256:{}", hex::encode(Sha256::digest(format!("{what}|{repository}|{build}|{behavior}"))))
    };
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob("config"), "size": 1024},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob("layer"), "size": 4096}],
    })
    .to_string()
}

/// ECR's digest of a manifest: sha256 of its bytes.
pub fn digest_of(manifest: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(manifest.as_bytes())))
}

/// Puts `manifest` as `repository:tag`, creating the repository on first use
/// (the local cloud has no other way to make one). Pushing the same image and
/// tag again is not an error, as `docker push` of an unchanged image is not.
pub async fn put_image(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    manifest: &str,
) -> Result<(), CallError> {
    match ecr.create_repository().repository_name(repository).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_already_exists_exception()) => {}
        Err(e) => return Err(CallError::of("CreateRepository")(e)),
    }
    let put = ecr
        .put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(manifest)
        .image_manifest_media_type("application/vnd.oci.image.manifest.v1+json")
        .image_digest(digest_of(manifest))
        .send()
        .await;
    match put {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_image_already_exists_exception()) => Ok(()),
        Err(e) => Err(CallError::of("PutImage")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_build_has_the_same_digest_whatever_its_tag() {
        let a = digest_of(&manifest("web", "v27", "healthy"));
        assert_eq!(a, digest_of(&manifest("web", "v27", "healthy")));
        assert_ne!(a, digest_of(&manifest("web", "v28", "healthy")));
        assert_ne!(a, digest_of(&manifest("web", "v27", "crash")));
        assert_eq!(a.len(), 71);
    }
}
