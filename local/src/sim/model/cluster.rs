//! ECS clusters.

use serde_json::Value;

use crate::sim::clock::SimTime;

/// A cluster; the simulator has no container instances, tasks run "on Fargate".
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    /// ACTIVE or INACTIVE (after DeleteCluster).
    pub status: String,
    pub tags: Vec<Value>,
    pub settings: Option<Value>,
    pub configuration: Option<Value>,
    pub created_at: SimTime,
}
