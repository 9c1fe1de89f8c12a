//! Task definitions, stored as the request JSON so every field round-trips.

use serde_json::{Map, Value};

use crate::sim::clock::SimTime;

/// A registered task definition revision.
#[derive(Debug, Clone)]
pub struct TaskDef {
    pub family: String,
    pub revision: u32,
    pub arn: String,
    /// The RegisterTaskDefinition request object minus `tags`, kept verbatim (unknown
    /// fields included) so DescribeTaskDefinition echoes exactly what was registered.
    pub body: Map<String, Value>,
    pub tags: Vec<Value>,
    /// ACTIVE or INACTIVE.
    pub status: String,
    pub registered_at: SimTime,
    pub deregistered_at: Option<SimTime>,
    pub registered_by: String,
}

impl TaskDef {
    pub fn network_mode(&self) -> &str {
        self.body.get("networkMode").and_then(Value::as_str).unwrap_or("bridge")
    }

    pub fn containers(&self) -> &[Value] {
        self.body.get("containerDefinitions").and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }

    pub fn container(&self, name: &str) -> Option<&Value> {
        self.containers().iter().find(|c| c.get("name").and_then(Value::as_str) == Some(name))
    }

    /// True when `name` declares `port` as a containerPort in its portMappings.
    pub fn container_exposes(&self, name: &str, port: i64) -> bool {
        self.container(name)
            .and_then(|c| c.get("portMappings"))
            .and_then(Value::as_array)
            .is_some_and(|pms| pms.iter().any(|pm| pm.get("containerPort").and_then(Value::as_i64) == Some(port)))
    }

    pub fn requires_compatibilities(&self) -> Vec<String> {
        self.body
            .get("requiresCompatibilities")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default()
    }

    pub fn string_field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}
