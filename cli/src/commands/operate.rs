//! `autodeploy deploy | rollback | freeze | unfreeze`: requests to the
//! stack's operator URL, signed as the caller's IAM identity (what the stack
//! records as who asked). Deploys and rollbacks carry a request token, so a
//! request retried after a timeout or a 5xx is the same deployment.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use super::watch::follow;
use autodeploy_shared::domain::Freeze;

use crate::error::CliError;
use crate::output::Output;
use crate::render;
use crate::signed;
use crate::stack::Stack;

/// How `deploy` and `rollback` end: at once, or when the deployment ends.
pub struct Wait {
    pub wait: bool,
    pub timeout: Duration,
}

/// `autodeploy deploy SERVICE --image REPO:TAG|REPO@sha256:…`.
pub async fn deploy(
    stack: &Stack,
    out: &Output,
    service: &str,
    image: &str,
    options: (Option<&str>, bool, Option<&str>),
    wait: Wait,
) -> Result<ExitCode, CliError> {
    let (reason, force, token) = options;
    let service = &service_of(stack, service).await?;
    let mut body = json!({
        "action": "DEPLOY", "service": service, "image": image, "requestToken": token_or_new(token), "force": force,
    });
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    let answer = call(stack, &body).await?;
    started(stack, out, &answer, "deploy", wait).await
}

/// `autodeploy rollback SERVICE [--to DEPLOYMENT|REVISION]`.
pub async fn rollback(
    stack: &Stack,
    out: &Output,
    service: &str,
    to: Option<&str>,
    options: (Option<&str>, Option<&str>),
    wait: Wait,
) -> Result<ExitCode, CliError> {
    let (reason, token) = options;
    let service = &service_of(stack, service).await?;
    let mut body = json!({ "action": "ROLLBACK", "service": service, "requestToken": token_or_new(token) });
    if let Some(to) = to {
        body["to"] = json!(to);
    }
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    let answer = call(stack, &body).await?;
    started(stack, out, &answer, "rollback", wait).await
}

/// `autodeploy freeze SERVICE --reason …`.
pub async fn freeze(stack: &Stack, out: &Output, service: &str, reason: &str) -> Result<ExitCode, CliError> {
    let service = &service_of(stack, service).await?;
    let answer = call(stack, &json!({ "action": "FREEZE", "service": service, "reason": reason })).await?;
    if out.json() {
        out.document(&answer);
    } else {
        let freeze: Freeze = parse(&answer["frozen"])?;
        print!("{}", render::frozen(service, &freeze, answer["alreadyFrozen"] == true, &out.style()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `autodeploy unfreeze SERVICE`.
pub async fn unfreeze(stack: &Stack, out: &Output, service: &str) -> Result<ExitCode, CliError> {
    let service = &service_of(stack, service).await?;
    let answer = call(stack, &json!({ "action": "UNFREEZE", "service": service })).await?;
    if out.json() {
        out.document(&answer);
    } else {
        let ended: Option<Freeze> = parse(&answer["unfrozen"])?;
        print!("{}", render::unfrozen(service, ended.as_ref(), answer["released"].as_str(), &out.style()));
    }
    Ok(ExitCode::SUCCESS)
}

/// A part of the operator URL's answer, as the type it is.
fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, CliError> {
    serde_json::from_value(v.clone()).map_err(|e| CliError::Aws(format!("the operator URL answered {v}: {e}")))
}

/// The service's key, checked against the stack's deploy targets first (a
/// mistyped name gets the close ones, before anything is sent).
async fn service_of(stack: &Stack, service: &str) -> Result<String, CliError> {
    let key = super::history::service_key(service)?;
    super::known_service(stack, &key).await?;
    Ok(key)
}

/// The operator URL's answer to `body`; a 5xx or a dropped connection is
/// tried again (the same body, so the same token and deployment).
async fn call(stack: &Stack, body: &Value) -> Result<Value, CliError> {
    let url = stack.operator_url.as_deref().ok_or_else(|| {
        CliError::Invalid("the stack names no operator URL (output OperatorUrl, or AUTODEPLOY_OPERATOR_URL)".into())
    })?;
    let mut attempt = 0;
    let (status, answer) = loop {
        attempt += 1;
        match signed::post(&stack.config, url, &stack.region, body).await {
            Ok((status, answer)) if status < 500 || attempt == 3 => break (status, answer),
            Err(e) if attempt == 3 => return Err(e),
            _ => tokio::time::sleep(Duration::from_millis(500 * attempt)).await,
        }
    };
    let message = answer["message"].as_str().or(answer["Message"].as_str()).unwrap_or("").to_owned();
    match status {
        200 | 202 => Ok(answer),
        403 => Err(CliError::AccessDenied { action: "lambda:InvokeFunctionUrl", resource: url.to_owned(), message }),
        404 if answer["errorType"] == "DeploymentNotFound" => Err(CliError::Refused(message)),
        400 | 404 | 405 | 409 => {
            let why = message.strip_prefix("request refused: ").unwrap_or(&message);
            Err(CliError::Refused(format!("refused by the pipeline: {why}")))
        }
        _ => Err(CliError::Aws(format!("the operator URL answered {status}: {answer}"))),
    }
}

/// What a deploy or rollback started, then (with `--wait`) how it ends.
async fn started(stack: &Stack, out: &Output, answer: &Value, what: &str, wait: Wait) -> Result<ExitCode, CliError> {
    let id = super::deployment_id(answer["deploymentId"].as_str().unwrap_or_default())?;
    if !wait.wait {
        if out.json() {
            out.document(answer);
        } else {
            let d = super::record(stack, &id).await?;
            print!("{}", render::requested(&d, answer["started"] == true, &out.style()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !out.json() {
        println!("{what} requested: {id}");
    }
    follow(stack, out, &id, wait.timeout).await
}

/// The caller's token, or a new one: 32 hex digits from two randomly keyed
/// hashers (no clock, no counter to collide across machines).
fn token_or_new(token: Option<&str>) -> String {
    if let Some(t) = token {
        return t.to_owned();
    }
    let half = || {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tokens_are_valid_and_differ() {
        let a = token_or_new(None);
        assert!(autodeploy_shared::domain::validate_token(&a).is_ok(), "{a}");
        assert_ne!(a, token_or_new(None));
        assert_eq!(token_or_new(Some("ci-run-4711-attempt")), "ci-run-4711-attempt");
    }
}
