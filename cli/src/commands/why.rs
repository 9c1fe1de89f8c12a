use std::process::ExitCode;

use autodeploy_shared::domain::{DeploymentStatus, ImageDigest};
use autodeploy_shared::ports::{DeploymentStore, PushDecisions};
use serde_json::json;

use super::denied;
use crate::error::CliError;
use crate::output::Output;
use crate::render;
use crate::stack::Stack;

/// `autodeploy why REPO[:TAG|@DIGEST]`: the trigger's decisions about the
/// push, newest first, with where each deployment stands now.
pub async fn why(stack: &Stack, out: &Output, image: &str, limit: usize) -> Result<ExitCode, CliError> {
    let (decisions, table) = stack.decisions.as_ref().ok_or_else(|| {
        CliError::Invalid(
            "the stack names no decisions table (output DecisionsTableName, or AUTODEPLOY_DECISIONS_TABLE)".into(),
        )
    })?;
    let (repository, tag, digest) = parse(image)?;
    let found = decisions
        .find(&repository, tag.as_deref(), digest.as_ref().map(ImageDigest::as_str), limit)
        .await
        .map_err(|e| denied(e, "dynamodb:Query", table))?;
    let mut rows = Vec::with_capacity(found.len());
    for d in found {
        let now: Option<DeploymentStatus> = match &d.deployment_id {
            Some(id) => stack.deployments.get(id).await.ok().flatten().map(|r| r.status),
            None => None,
        };
        rows.push((d, now));
    }
    if out.json() {
        let doc: Vec<_> = rows
            .iter()
            .map(|(d, now)| {
                let mut v = serde_json::to_value(d).unwrap_or_default();
                v["deploymentStatus"] = json!(now);
                v
            })
            .collect();
        out.document(&doc);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render::why(image, &rows, &out.style()));
    Ok(ExitCode::SUCCESS)
}

/// `web`, `web:v2`, `team/web@sha256:…`.
fn parse(image: &str) -> Result<(String, Option<String>, Option<ImageDigest>), CliError> {
    let bad =
        || CliError::Invalid(format!("{image:?}: name the image as REPOSITORY[:TAG] or REPOSITORY@sha256:DIGEST"));
    let (repository, tag, digest) = match image.split_once('@') {
        Some((repo, digest)) => (repo, None, Some(ImageDigest::parse(digest).map_err(|_| bad())?)),
        None => match image.rsplit_once(':') {
            Some((repo, tag)) if !tag.is_empty() && !tag.contains('/') => (repo, Some(tag.to_owned()), None),
            _ => (image, None, None),
        },
    };
    if !autodeploy_shared::domain::is_ecr_repository_name(repository) {
        return Err(bad());
    }
    Ok((repository.to_owned(), tag, digest))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn images_are_named_as_ecr_names_them() {
        assert_eq!(parse("web").unwrap(), ("web".into(), None, None));
        assert_eq!(parse("team/web:v2").unwrap(), ("team/web".into(), Some("v2".into()), None));
        let digest = format!("sha256:{}", "ab".repeat(32));
        let (repo, tag, d) = parse(&format!("web@{digest}")).unwrap();
        assert_eq!((repo.as_str(), tag, d.map(|d| d.to_string())), ("web", None, Some(digest)));
        for bad in ["", "Web:v2", "web@sha256:xyz", "web@latest"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
