//! ECS over awsJson1_1: `POST /` with `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`.

pub mod render;
pub mod req;

mod clusters;
mod service_deployments;
mod services;
mod taskdefs;
mod tasks;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::sim::Sim;
use crate::sim::api::error::EcsError;
use crate::sim::world::World;
use req::Req;

/// The X-Amz-Target prefix of ECS operations.
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";

/// Handles one ECS operation; never panics on bad input.
pub fn handle(sim: &Sim, op: &str, body: &[u8]) -> Response {
    let parsed: Result<Value, EcsError> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice(body).map_err(|e| EcsError::serialization(format!("Invalid JSON: {e}")))
    };
    let result = parsed.and_then(|v| match v {
        Value::Object(m) => sim.with(|w| dispatch(w, op, &Req(&m))),
        _ => Err(EcsError::serialization("Request body must be a JSON object.")),
    });
    match result {
        Ok(v) => {
            let mut r = (StatusCode::OK, v.to_string()).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
            r
        }
        Err(e) => e.into_response(),
    }
}

/// Runs one operation against the world (also usable in-process).
pub fn dispatch(w: &mut World, op: &str, r: &Req) -> Result<Value, EcsError> {
    match op {
        "CreateCluster" => clusters::create(w, r),
        "DescribeClusters" => clusters::describe(w, r),
        "ListClusters" => clusters::list(w, r),
        "DeleteCluster" => clusters::delete(w, r),
        "RegisterTaskDefinition" => taskdefs::register(w, r),
        "DescribeTaskDefinition" => taskdefs::describe(w, r),
        "DeregisterTaskDefinition" => taskdefs::deregister(w, r),
        "ListTaskDefinitions" => taskdefs::list(w, r),
        "ListTaskDefinitionFamilies" => taskdefs::list_families(w, r),
        "CreateService" => services::create(w, r),
        "UpdateService" => services::update(w, r),
        "DescribeServices" => services::describe(w, r),
        "ListServices" => services::list(w, r),
        "DeleteService" => services::delete(w, r),
        "ListServiceDeployments" => service_deployments::list(w, r),
        "DescribeServiceDeployments" => service_deployments::describe(w, r),
        "DescribeServiceRevisions" => service_deployments::describe_revisions(w, r),
        "StopServiceDeployment" => service_deployments::stop(w, r),
        "ContinueServiceDeployment" => service_deployments::continue_deployment(w, r),
        "ListTasks" => tasks::list(w, r),
        "DescribeTasks" => tasks::describe(w, r),
        "StopTask" => tasks::stop(w, r),
        _ => Err(EcsError::new(
            "UnknownOperationException",
            format!("Operation {op} is not supported by the simulator."),
        )),
    }
}
