//! ELBv2 load balancers (Application and Network). Listeners and rules are in
//! [`super::listener`].

use crate::sim::clock::SimTime;

/// `Type` of a load balancer; gateway load balancers are not simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbType {
    Application,
    Network,
}

impl LbType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "application" => Some(Self::Application),
            "network" => Some(Self::Network),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Network => "network",
        }
    }

    /// The ARN segment after `loadbalancer/`, `listener/`, `listener-rule/`.
    pub fn arn_segment(self) -> &'static str {
        match self {
            Self::Application => "app",
            Self::Network => "net",
        }
    }

    /// Listener protocols this type accepts.
    pub fn protocols(self) -> &'static [&'static str] {
        match self {
            Self::Application => &["HTTP", "HTTPS"],
            Self::Network => &["TCP", "TLS", "UDP", "TCP_UDP"],
        }
    }
}

/// A load balancer. Subnets and security groups are kept as given: the simulator has no VPC.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    pub lb_type: LbType,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub ip_address_type: String,
    /// `(zone, subnet)` per subnet, zones assigned in the order the subnets were given.
    pub zones: Vec<(String, String)>,
    pub security_groups: Vec<String>,
    pub created_at: SimTime,
}
