//! ELBv2 target groups and their targets.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sim::clock::SimTime;

/// Target group health check settings (ELB User Guide, "Health checks for target groups").
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub enabled: bool,
    pub protocol: String,
    pub port: String,
    pub path: Option<String>,
    pub interval_seconds: i64,
    pub timeout_seconds: i64,
    pub healthy_threshold: i64,
    pub unhealthy_threshold: i64,
    pub matcher: Option<String>,
}

/// A target's health state as DescribeTargetHealth reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Initial,
    Healthy,
    Unhealthy,
    Draining,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Draining => "draining",
        }
    }
}

/// A registered (or draining) target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The IP address (target type `ip`).
    pub id: String,
    pub port: i64,
    pub availability_zone: Option<String>,
    pub state: TargetState,
    /// ELB reason code and description; `None` when healthy.
    pub reason: Option<(&'static str, String)>,
    pub registered_at: SimTime,
    pub next_check_at: SimTime,
    pub checks_done: u32,
    pub ok_streak: i64,
    pub fail_streak: i64,
    /// When a draining target is removed.
    pub drain_until: Option<SimTime>,
}

/// A target group.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub protocol_version: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    pub target_type: String,
    pub ip_address_type: String,
    pub health_check: HealthCheck,
    pub attributes: BTreeMap<String, String>,
    pub targets: Vec<Target>,
    pub tags: Vec<Value>,
}

impl TargetGroup {
    /// `deregistration_delay.timeout_seconds` (default 300).
    pub fn deregistration_delay(&self) -> i64 {
        self.attributes.get("deregistration_delay.timeout_seconds").and_then(|v| v.parse().ok()).unwrap_or(300)
    }

    pub fn target(&self, id: &str, port: i64) -> Option<&Target> {
        self.targets.iter().find(|t| t.id == id && t.port == port)
    }
}
