//! What the people's entry points (Lambda function URLs with AuthType
//! AWS_IAM) share: the caller's verified identity, the JSON body, and
//! answers as HTTP status codes.

use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_lambda_events::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::StepInput;
use crate::DeployError;
use crate::domain::DeploymentId;
use crate::error::Result;

/// A function URL's request, as Lambda delivers it (payload format 2.0).
#[derive(Debug, Clone)]
pub struct UrlCall(pub LambdaFunctionUrlRequest);

impl StepInput for UrlCall {
    fn parse(payload: Value) -> Result<Self> {
        crate::events::from_object(payload, "a function URL request").map(Self)
    }

    /// The body names the deployment, if any; it is read (and checked) by the step.
    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

/// The caller's IAM identity, from what Lambda verified (the signature);
/// `None` when the URL is not AWS_IAM, so nobody can be recorded.
pub fn caller(r: &LambdaFunctionUrlRequest) -> Option<String> {
    let iam = r.request_context.authorizer.as_ref()?.iam.as_ref()?;
    iam.user_arn.clone().filter(|arn| arn.starts_with("arn:"))
}

/// Whether the request is a POST.
pub fn is_post(r: &LambdaFunctionUrlRequest) -> bool {
    r.request_context.http.method.as_deref().unwrap_or_default().eq_ignore_ascii_case("POST")
}

/// The JSON body as `T`; `MalformedEvent` saying what `shape` is expected.
pub fn body<T: DeserializeOwned>(r: &LambdaFunctionUrlRequest, shape: &str) -> Result<T> {
    let raw = r.body.as_deref().unwrap_or_default();
    let text = if r.is_base64_encoded {
        let bytes = aws_smithy_types::base64::decode(raw).map_err(|e| DeployError::malformed(format!("body: {e}")))?;
        String::from_utf8(bytes).map_err(|e| DeployError::malformed(format!("body: {e}")))?
    } else {
        raw.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| DeployError::malformed(format!("body must be {shape}: {e}")))
}

/// Errors that are the caller's to fix, answered with a status code; the
/// others (AWS failing) are function errors, which the URL reports as 502
/// and the caller retries.
pub fn is_refusal(e: &DeployError) -> bool {
    matches!(
        e,
        DeployError::MalformedEvent(_)
            | DeployError::InvalidInput(_)
            | DeployError::DeploymentNotFound(_)
            | DeployError::ServiceNotFound { .. }
            | DeployError::NoMatchingContainer(_)
            | DeployError::ApprovalRefused(_)
            | DeployError::RequestRefused(_)
            | DeployError::StaleTransition { .. }
    )
}

pub fn refusal(e: &DeployError) -> LambdaFunctionUrlResponse {
    let status = match e {
        DeployError::DeploymentNotFound(_) | DeployError::ServiceNotFound { .. } => 404,
        DeployError::ApprovalRefused(_) | DeployError::RequestRefused(_) | DeployError::StaleTransition { .. } => 409,
        _ => 400,
    };
    respond(status, &json!({ "errorType": e.error_type(), "message": e.to_string() }))
}

pub fn respond(status: i64, body: &Value) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let mut r = LambdaFunctionUrlResponse::default();
    r.status_code = status;
    r.headers = headers;
    r.body = Some(body.to_string());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_status_codes() {
        let id = DeploymentId::parse("d-000000000000000000000001").unwrap();
        assert_eq!(refusal(&DeployError::DeploymentNotFound(id)).status_code, 404);
        assert_eq!(refusal(&DeployError::ApprovalRefused("x".into())).status_code, 409);
        assert_eq!(refusal(&DeployError::RequestRefused("x".into())).status_code, 409);
        assert_eq!(refusal(&DeployError::malformed("x")).status_code, 400);
        assert!(!is_refusal(&DeployError::Retryable("throttled".into())));
        let r = respond(200, &json!({"a": 1}));
        assert_eq!(r.headers["content-type"], "application/json");
        let wire = serde_json::to_value(&r).unwrap();
        assert_eq!(wire["statusCode"], 200);
        assert_eq!(wire["body"], "{\"a\":1}");
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let mut r = LambdaFunctionUrlRequest::default();
        r.body = Some(aws_smithy_types::base64::encode(r#"{"a":1}"#));
        r.is_base64_encoded = true;
        let v: Value = body(&r, "{\"a\"}").unwrap();
        assert_eq!(v["a"], 1);
        r.is_base64_encoded = false;
        assert_eq!(body::<Value>(&r, "{\"a\"}").unwrap_err().error_type(), "MalformedEvent");
    }
}
