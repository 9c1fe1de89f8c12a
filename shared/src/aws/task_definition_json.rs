//! Task definitions are cloned as JSON, not through the SDK's types.
//!
//! The SDK drops any field its model does not know yet when it parses a
//! response, so a typed clone is a whitelist frozen at the SDK's build date —
//! the bug that silently loses settings in peer tools (at the time of writing,
//! botocore already models `trustedExecutionConfiguration`, which this SDK
//! release does not). Instead, the DescribeTaskDefinition response body is kept
//! as it came, the read-only members are removed, the images and tags are set,
//! and that JSON is sent as the RegisterTaskDefinition body.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{Map, Value};

use crate::DeployError;

/// Members of `TaskDefinition` that ECS sets and RegisterTaskDefinition does
/// not take (botocore `ecs` model: TaskDefinition minus RegisterTaskDefinitionRequest).
pub const READ_ONLY_MEMBERS: [&str; 9] = [
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
];

/// Keeps the raw body of the response it is attached to.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaptureBody(Arc<Mutex<Option<Vec<u8>>>>);

impl CaptureBody {
    pub(crate) fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "CaptureTaskDefinitionJson"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Non-streaming responses are fully in memory by now.
        let bytes = context.response().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = bytes;
        Ok(())
    }
}

/// Replaces the serialized request body (before signing, so the signature covers it).
#[derive(Debug)]
pub(crate) struct ReplaceBody(pub(crate) Vec<u8>);

impl Intercept for ReplaceBody {
    fn name(&self) -> &'static str {
        "RegisterClonedTaskDefinitionJson"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        *request.body_mut() = SdkBody::from(self.0.clone());
        request.headers_mut().insert("Content-Length", self.0.len().to_string());
        Ok(())
    }
}

fn bad(what: &str) -> DeployError {
    DeployError::Aws(format!("DescribeTaskDefinition response: {what}"))
}

/// The RegisterTaskDefinition request body for a clone of the described task
/// definition: every member but the read-only ones, as it came; `images` set
/// on the named containers; `tags` merged over the source's tags.
pub fn register_body(
    describe_response: &[u8],
    images: &std::collections::BTreeMap<String, String>,
    tags: &[(String, String)],
) -> Result<Vec<u8>, DeployError> {
    let response: Value = serde_json::from_slice(describe_response).map_err(|e| bad(&e.to_string()))?;
    let mut td: Map<String, Value> =
        response.get("taskDefinition").and_then(Value::as_object).cloned().ok_or_else(|| bad("no taskDefinition"))?;
    for member in READ_ONLY_MEMBERS {
        td.remove(member);
    }
    let containers = td
        .get_mut("containerDefinitions")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| bad("no containerDefinitions"))?;
    for (name, image) in images {
        let container = containers
            .iter_mut()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| DeployError::NoMatchingContainer(format!("no container named {name:?}")))?;
        container.insert("image".into(), Value::String(image.clone()));
    }
    let mut merged: Vec<Value> = response.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
    for (key, value) in tags {
        merged.retain(|t| t.get("key").and_then(Value::as_str) != Some(key));
        merged.push(serde_json::json!({ "key": key, "value": value }));
    }
    if !merged.is_empty() {
        td.insert("tags".into(), Value::Array(merged));
    }
    serde_json::to_vec(&td).map_err(|e| bad(&e.to_string()))
}
