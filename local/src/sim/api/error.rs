//! Wire errors: awsJson1_1 (`__type` + `message`) for ECS and the awsQuery
//! `<ErrorResponse>` document for ELBv2, both of which the AWS SDKs parse into their
//! typed exceptions.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::elb::xml::escape;

/// An ECS error: `code` is the modeled exception name (e.g. `ClusterNotFoundException`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct EcsError {
    pub code: &'static str,
    pub message: String,
}

impl EcsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn client(m: impl Into<String>) -> Self {
        Self::new("ClientException", m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", m)
    }
    pub fn cluster_not_found() -> Self {
        Self::new("ClusterNotFoundException", "Cluster not found.")
    }
    pub fn service_not_found() -> Self {
        Self::new("ServiceNotFoundException", "Service not found.")
    }
    pub fn service_not_active() -> Self {
        Self::new("ServiceNotActiveException", "Service was not ACTIVE.")
    }
    pub fn serialization(m: impl Into<String>) -> Self {
        Self::new("SerializationException", m)
    }

    fn status(&self) -> StatusCode {
        match self.code {
            "ServerException" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for EcsError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.code, "message": self.message}).to_string();
        let mut r = (self.status(), body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        r
    }
}

/// An ELBv2 error: `code` is the query-protocol error code (e.g. `TargetGroupNotFound`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ElbError {
    pub code: &'static str,
    pub message: String,
}

impl ElbError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new("ValidationError", m)
    }
    pub fn tg_not_found() -> Self {
        Self::new("TargetGroupNotFound", "One or more target groups not found")
    }
    pub fn lb_not_found() -> Self {
        Self::new("LoadBalancerNotFound", "One or more load balancers not found")
    }
    pub fn listener_not_found() -> Self {
        Self::new("ListenerNotFound", "One or more listeners not found")
    }
    pub fn rule_not_found() -> Self {
        Self::new("RuleNotFound", "One or more rules not found")
    }

    /// Renders the `<ErrorResponse>` document with a request id.
    pub fn into_response_with(self, request_id: &str) -> Response {
        let body = format!(
            "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            ns = super::elb::xml::NAMESPACE,
            code = self.code,
            msg = escape(&self.message),
        );
        let status =
            if self.code == "InternalFailure" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
        (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
    }
}
