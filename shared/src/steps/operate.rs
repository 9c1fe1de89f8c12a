//! The operator entry point: what a person asks of the pipeline, through a
//! Lambda function URL with AuthType AWS_IAM (the caller's identity is the
//! one Lambda verified, never one the body names). `POST` one of:
//!
//! - `{"action": "DEPLOY", "service": "CLUSTER/SERVICE", "image":
//!   "REPO:TAG" | "REPO@sha256:…", "requestToken": "…", "reason"?, "force"?}`:
//!   the image, confirmed by ECR and pinned by digest, through the same run
//!   as a push (approval gate, lock, queue, newest wins), for the service's
//!   deploy target of that repository. Refused while the service is frozen
//!   unless `force`.
//! - `{"action": "ROLLBACK", "service", "to"?: "d-…" | "REVISION", "requestToken", "reason"?}`:
//!   the revision of an earlier successful deployment (by default the
//!   newest that is not what the service runs), run again as it was. A
//!   freeze does not stop a rollback.
//! - `{"action": "FREEZE", "service", "reason"}`: no rollout of the service
//!   starts until it is unfrozen; pushes meanwhile wait HELD.
//! - `{"action": "UNFREEZE", "service"}`: ends the freeze and resumes the
//!   newest held push (older ones are superseded by it).
//!
//! Every request may be sent again: the token makes a deploy or rollback
//! the same deployment, a second freeze keeps the first, a second unfreeze
//! changes nothing.

use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::function_url::{UrlCall, body, caller, is_post, is_refusal, refusal, respond};
use super::{CheckedPush, Launcher, Step};
use crate::DeployError;
use crate::domain::{
    DecisionSource, DeployTarget, Deployment, DeploymentId, DeploymentStatus, Freeze, ImageDigest, ImageRef,
    OperatorRequest, RegistryImage, RequestKind, ServiceRef, not_an_image, short_revision,
};
use crate::error::{Result, quote};
use crate::ports::{
    Clock, DeployTargets, DeploymentStore, Ecs, Executions, ImageRegistry, Notifier, PushDecisions, ServiceLocks,
    TaskCallbacks,
};

/// What a person asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "SCREAMING_SNAKE_CASE")]
enum Request {
    Deploy(DeployBody),
    Rollback(RollbackBody),
    Freeze(FreezeBody),
    Unfreeze(UnfreezeBody),
}

const SHAPE: &str =
    "{\"action\": \"DEPLOY\"|\"ROLLBACK\"|\"FREEZE\"|\"UNFREEZE\", \"service\": \"CLUSTER/SERVICE\", …}";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeployBody {
    service: String,
    image: String,
    request_token: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RollbackBody {
    service: String,
    #[serde(default)]
    to: Option<String>,
    request_token: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FreezeBody {
    service: String,
    reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UnfreezeBody {
    service: String,
}

/// Serves the people allowed to call its URL (the deployer policy).
pub struct Operate<T, R, E, L, K, S, X, N, C, P> {
    pub targets: T,
    pub images: R,
    pub ecs: E,
    pub locks: L,
    pub callbacks: K,
    pub launcher: Launcher<S, X, N, C, P>,
    /// The stack's own account and region: a manual deploy takes images
    /// from the stack's registry.
    pub account: String,
    pub region: String,
}

impl<T, R, E, L, K, S, X, N, C, P> Step for Operate<T, R, E, L, K, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    E: Ecs,
    L: ServiceLocks,
    K: TaskCallbacks,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    const NAME: &'static str = "operate";
    type Input = UrlCall;
    type Output = LambdaFunctionUrlResponse;

    /// Every refusal is an HTTP answer with the reason; AWS failing is a
    /// function error (502), which the caller retries with the same token.
    async fn run(&self, call: UrlCall) -> Result<LambdaFunctionUrlResponse> {
        let http = call.0;
        let Some(who) = caller(&http) else {
            return Ok(respond(403, &json!({ "message": "the operator URL requires AWS_IAM authentication" })));
        };
        if !is_post(&http) {
            return Ok(respond(405, &json!({ "message": format!("POST a request: {SHAPE}") })));
        }
        let request: Request = match body(&http, SHAPE) {
            Ok(r) => r,
            Err(e) => return Ok(refusal(&e)),
        };
        let answer = match request {
            Request::Deploy(b) => self.deploy(b, &who).await,
            Request::Rollback(b) => self.rollback(b, &who).await,
            Request::Freeze(b) => self.freeze(b, &who).await,
            Request::Unfreeze(b) => self.unfreeze(b, &who).await,
        };
        match answer {
            Ok((status, body)) => Ok(respond(status, &body)),
            Err(e) if is_refusal(&e) => {
                tracing::info!(by = %who, error = %e, "request refused");
                Ok(refusal(&e))
            }
            Err(e) => Err(e),
        }
    }
}

impl<T, R, E, L, K, S, X, N, C, P> Operate<T, R, E, L, K, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    E: Ecs,
    L: ServiceLocks,
    K: TaskCallbacks,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    async fn deploy(&self, b: DeployBody, who: &str) -> Result<(i64, Value)> {
        let service = service_ref(&b.service)?;
        let wanted = ImageRef::parse(&b.image).ok_or_else(|| {
            DeployError::InvalidInput(format!("image {} is not REPO:TAG or REPO@sha256:…", quote(&b.image)))
        })?;
        let registry = ImageRef::ecr_registry(&self.account, &self.region);
        if wanted.registry.as_deref().is_some_and(|r| r != registry) {
            return Err(DeployError::InvalidInput(format!(
                "a deploy by hand takes images from the stack's registry ({registry}), not {}",
                wanted.registry.unwrap_or_default()
            )));
        }
        let request = OperatorRequest {
            kind: RequestKind::Deploy,
            by: who.to_owned(),
            token: b.request_token,
            reason: b.reason,
            force: b.force,
            task_definition: None,
            rollback_to: None,
        };
        request.validate()?;
        // A retried request answers what the first one did.
        if let Some(d) = self.launcher.store.get(&request.deployment_id(&service)).await? {
            let same = d.request.as_ref().is_some_and(|r| r.kind == RequestKind::Deploy)
                && d.repository == wanted.repository
                && (wanted.tag.is_none() || d.tag == wanted.tag)
                && wanted.digest.as_deref().is_none_or(|w| w == d.digest.as_str());
            return if same { self.again(&d).await } else { Err(reused(&d)) };
        }
        let target = self.target_for(&service, &wanted.repository).await?;
        self.ecs.describe_service(&service.cluster, &service.service).await?;
        if !request.force
            && let Some(f) = self.locks.state(&service.key()).await?.frozen
        {
            return Err(DeployError::RequestRefused(format!(
                "{}; a deploy with force (autodeploy deploy --force) goes through the freeze",
                f.held_line(&service.key()).trim_start_matches("held: ")
            )));
        }
        let image = self.confirmed(&wanted).await?;
        let push = CheckedPush {
            repository: wanted.repository.clone(),
            registry,
            digest: image.digest.clone(),
            tag: wanted.tag.clone(),
            pushed_at: self.launcher.clock.now(),
            image_pushed_at: image.pushed_at,
            source: DecisionSource::Operator,
            note: None,
        };
        self.launch(&push, &target, request).await
    }

    async fn rollback(&self, b: RollbackBody, who: &str) -> Result<(i64, Value)> {
        let service = service_ref(&b.service)?;
        let mut request = OperatorRequest {
            kind: RequestKind::Rollback,
            by: who.to_owned(),
            token: b.request_token,
            reason: b.reason,
            force: false,
            task_definition: None,
            rollback_to: None,
        };
        request.validate()?;
        if let Some(d) = self.launcher.store.get(&request.deployment_id(&service)).await? {
            let same = d.request.as_ref().is_some_and(|r| r.kind == RequestKind::Rollback);
            return if same { self.again(&d).await } else { Err(reused(&d)) };
        }
        let key = service.key();
        let running = self.ecs.describe_service(&service.cluster, &service.service).await?.task_definition;
        let history = self.launcher.store.history(&key, 100).await?;
        let good: Vec<&Deployment> = history
            .iter()
            .filter(|d| d.status == DeploymentStatus::Succeeded && d.new_task_definition.is_some())
            .collect();
        let revision_of = |d: &Deployment| d.new_task_definition.clone().unwrap_or_default();
        let known = || {
            let list: Vec<String> = good
                .iter()
                .take(5)
                .map(|d| format!("{} ({})", short_revision(&revision_of(d)), d.deployment_id))
                .collect();
            if list.is_empty() { "none on record".to_owned() } else { list.join(", ") }
        };
        let chosen: Deployment = match b.to.as_deref() {
            None => good.iter().find(|d| revision_of(d) != running).map(|d| (*d).clone()).ok_or_else(|| {
                DeployError::RequestRefused(format!(
                    "no earlier successful deployment of {key} on record runs anything but {}: name one with `to`",
                    short_revision(&running)
                ))
            })?,
            Some(to) if to.starts_with("d-") => {
                let id = DeploymentId::parse(to)?;
                let d =
                    self.launcher.store.get(&id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
                if d.service_key != key {
                    return Err(DeployError::RequestRefused(format!("{id} deployed {}, not {key}", d.service_key)));
                }
                if d.status != DeploymentStatus::Succeeded || d.new_task_definition.is_none() {
                    return Err(DeployError::RequestRefused(format!(
                        "{id} ended {}: only a successful deployment's revision is one to go back to (on record: {})",
                        d.status,
                        known()
                    )));
                }
                d
            }
            Some(rev) => {
                let family = running_family(&running);
                let wanted = if rev.bytes().all(|c| c.is_ascii_digit()) {
                    format!("{family}:{rev}")
                } else {
                    short_revision(rev).to_owned()
                };
                good.iter().find(|d| short_revision(&revision_of(d)) == wanted).map(|d| (*d).clone()).ok_or_else(
                    || {
                        DeployError::RequestRefused(format!(
                            "no successful deployment of {key} on record ran {wanted} (on record: {})",
                            known()
                        ))
                    },
                )?
            }
        };
        let revision = revision_of(&chosen);
        if revision == running {
            return Err(DeployError::RequestRefused(format!("{key} runs {} already", short_revision(&running))));
        }
        let target = self
            .targets
            .for_repository(&chosen.repository)
            .await?
            .into_iter()
            .find(|t| t.target_id == chosen.target_id)
            .ok_or_else(|| {
                DeployError::RequestRefused(format!(
                    "{}'s deploy target {} of {} is gone: add it back to roll back through it",
                    chosen.deployment_id, chosen.target_id, chosen.repository
                ))
            })?;
        let registry = ImageRef::parse(&chosen.image)
            .and_then(|r| r.registry)
            .ok_or_else(|| DeployError::InvalidInput(format!("{}'s image has no registry", chosen.deployment_id)))?;
        request.task_definition = Some(revision);
        request.rollback_to = Some(chosen.deployment_id.clone());
        let push = CheckedPush {
            repository: chosen.repository.clone(),
            registry,
            digest: chosen.digest.clone(),
            tag: chosen.tag.clone(),
            pushed_at: self.launcher.clock.now(),
            image_pushed_at: None,
            source: DecisionSource::Operator,
            note: None,
        };
        self.launch(&push, &target, request).await
    }

    async fn freeze(&self, b: FreezeBody, who: &str) -> Result<(i64, Value)> {
        let service = service_ref(&b.service)?;
        self.known_service(&service).await?;
        let freeze = Freeze::new(&b.reason, who, self.launcher.clock.now())?;
        let kept = self.locks.freeze(&service.key(), &freeze).await?;
        let already = kept != freeze;
        tracing::info!(service = %service.key(), by = %who, already, "service frozen");
        Ok((200, json!({ "service": service.key(), "frozen": kept, "alreadyFrozen": already })))
    }

    async fn unfreeze(&self, b: UnfreezeBody, who: &str) -> Result<(i64, Value)> {
        let service = service_ref(&b.service)?;
        self.known_service(&service).await?;
        let key = service.key();
        let ended = self.locks.unfreeze(&key).await?;
        // Always, so that a retry after a crash here still wakes it.
        let newest = self
            .launcher
            .store
            .history(&key, 100)
            .await?
            .into_iter()
            .filter(|d| d.status == DeploymentStatus::Held)
            .reduce(|a, b| if a.is_newer_than(&b) { a } else { b });
        let released = newest.as_ref().map(|d| d.deployment_id.clone());
        // Without a token yet, its run finds the service unfrozen on its next claim.
        if let Some(token) = newest.and_then(|d| d.queue_token) {
            self.callbacks.succeed(&token, &json!({ "woken": "UNFROZEN" })).await?;
        }
        tracing::info!(service = %key, by = %who, was_frozen = ended.is_some(), "service unfrozen");
        Ok((200, json!({ "service": key, "unfrozen": ended, "released": released })))
    }

    /// The service's deploy target for `repository`: an enabled one first.
    async fn target_for(&self, service: &ServiceRef, repository: &str) -> Result<DeployTarget> {
        let mut of_service: Vec<DeployTarget> = self
            .targets
            .for_repository(repository)
            .await?
            .into_iter()
            .filter(|t| t.service_ref().is_ok_and(|s| &s == service))
            .collect();
        of_service.sort_by_key(|t| (!t.enabled, t.target_id.clone()));
        if let Some(t) = of_service.into_iter().next() {
            return Ok(t);
        }
        // A service no target names at all is most likely a misspelt one.
        self.known_service(service).await?;
        let others: Vec<String> = self
            .targets
            .all()
            .await?
            .into_iter()
            .filter(|t| t.service_ref().is_ok_and(|s| &s == service))
            .map(|t| format!("{} ({})", t.repository, t.target_id))
            .collect();
        Err(DeployError::RequestRefused(format!(
            "no deploy target deploys {repository} to {}: a target says which containers take the image (it has {})",
            service.key(),
            others.join(", ")
        )))
    }

    /// A service some deploy target names: freezing a misspelt one would
    /// hold nothing and say it did.
    async fn known_service(&self, service: &ServiceRef) -> Result<()> {
        let all = self.targets.all().await?;
        if all.iter().any(|t| t.service_ref().is_ok_and(|s| &s == service)) {
            return Ok(());
        }
        let mut names: Vec<String> = all.iter().filter_map(|t| t.service_ref().ok()).map(|s| s.key()).collect();
        names.sort();
        names.dedup();
        Err(DeployError::RequestRefused(format!(
            "no deploy target names {} (the stack's services: {})",
            service.key(),
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        )))
    }

    /// The image as ECR knows it in the stack's registry, or why not.
    async fn confirmed(&self, wanted: &ImageRef) -> Result<RegistryImage> {
        let repo = &wanted.repository;
        let found = match (&wanted.digest, &wanted.tag) {
            (Some(d), _) => {
                let digest = ImageDigest::parse(d).map_err(|e| DeployError::InvalidInput(e.to_string()))?;
                let image = self.images.describe_image(&self.account, &self.region, repo, &digest).await?;
                if let (Some(i), Some(tag)) = (&image, &wanted.tag)
                    && !i.has_tag(tag)
                {
                    return Err(DeployError::RequestRefused(format!("ECR's {repo}:{tag} does not name {digest}")));
                }
                image.ok_or_else(|| DeployError::RequestRefused(format!("ECR has no image {digest} in {repo}")))?
            }
            (None, Some(tag)) => self
                .images
                .image_tagged(&self.account, &self.region, repo, tag)
                .await?
                .ok_or_else(|| DeployError::RequestRefused(format!("ECR has no {repo}:{tag}")))?,
            (None, None) => {
                return Err(DeployError::InvalidInput(format!(
                    "name the image with a tag or a digest: {repo}:TAG or {repo}@sha256:…"
                )));
            }
        };
        if let Some(why) = not_an_image(found.manifest_media_type.as_deref(), found.artifact_media_type.as_deref()) {
            return Err(DeployError::RequestRefused(format!("{repo}@{}: {why}", found.digest)));
        }
        Ok(found)
    }

    /// The same request again: the first call wrote the record, and may have
    /// died before its run started (a 502 the caller retries): a record still
    /// PENDING gets its run started, as the first call would have.
    async fn again(&self, d: &Deployment) -> Result<(i64, Value)> {
        let fresh = d.status == DeploymentStatus::Pending && self.launcher.resume_recorded(d).await?;
        tracing::info!(deployment = %d.deployment_id, fresh, "request sent again");
        Ok(started(d, fresh))
    }

    async fn launch(
        &self,
        push: &CheckedPush,
        target: &DeployTarget,
        request: OperatorRequest,
    ) -> Result<(i64, Value)> {
        let (id, fresh) = self.launcher.launch_requested(push, target, request).await?;
        let d = self.launcher.store.get(&id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
        tracing::info!(deployment = %id, fresh, "deployment requested");
        Ok(started(&d, fresh))
    }
}

fn service_ref(text: &str) -> Result<ServiceRef> {
    let (cluster, service) = text
        .split_once('/')
        .ok_or_else(|| DeployError::InvalidInput(format!("service {} is not CLUSTER/SERVICE", quote(text))))?;
    ServiceRef::new(cluster, service)
}

/// `arn:…:task-definition/web:7` → `web`.
fn running_family(arn: &str) -> &str {
    let short = short_revision(arn);
    short.rsplit_once(':').map_or(short, |(family, _)| family)
}

/// A token sent again with another request: refused, as AWS refuses a
/// client token reused with other parameters.
fn reused(d: &Deployment) -> DeployError {
    DeployError::RequestRefused(format!(
        "this requestToken was used for another request ({}, {} of {}): send a new one",
        d.deployment_id,
        d.request.as_ref().map_or("a deployment".to_owned(), |r| r.kind.to_string()),
        d.tag.as_deref().map_or_else(|| d.digest.to_string(), |t| format!("{}:{t}", d.repository)),
    ))
}

/// The answer to a deploy or rollback: 202 when this call started it.
fn started(d: &Deployment, fresh: bool) -> (i64, Value) {
    let body = json!({
        "deploymentId": d.deployment_id,
        "status": d.status,
        "service": d.service_key,
        "image": d.image,
        "tag": d.tag,
        "request": d.request,
        "started": fresh,
    });
    (if fresh { 202 } else { 200 }, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_by_their_action() {
        let deploy: Request = serde_json::from_str(
            r#"{"action":"DEPLOY","service":"demo/web","image":"web:v3","requestToken":"0123456789abcdef"}"#,
        )
        .unwrap();
        assert!(matches!(deploy, Request::Deploy(DeployBody { force: false, .. })));
        let freeze: Request =
            serde_json::from_str(r#"{"action":"FREEZE","service":"demo/web","reason":"incident"}"#).unwrap();
        assert!(matches!(freeze, Request::Freeze(_)));
        for bad in [
            r#"{"action":"DEPLOY","service":"demo/web","image":"web:v3","requestToken":"0123456789abcdef","by":"arn:aws:iam::1:user/x"}"#,
            r#"{"action":"SCALE","service":"demo/web"}"#,
            r#"{"service":"demo/web"}"#,
            r#"{"action":"FREEZE","service":"demo/web"}"#,
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn services_are_cluster_slash_service() {
        assert_eq!(service_ref("demo/web").unwrap().key(), "demo/web");
        assert!(service_ref("web").is_err());
        assert!(service_ref("demo/we b").is_err());
        assert_eq!(running_family("arn:aws:ecs:us-east-1:1:task-definition/web:7"), "web");
    }
}
