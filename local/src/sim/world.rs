//! The whole simulated account: state plus the helpers every part of the simulator
//! shares (ARNs, lookups, event emission, task stop). One `World` lives behind the
//! [`crate::sim::Sim`] lock; a step runs task lifecycles, then ELB health checks, then
//! the service scheduler.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::sim::clock::{Clock, ClockMode, SimTime, wall_now};
use crate::sim::config::SimConfig;
use crate::sim::events;
use crate::sim::images::ImageCatalogue;
use crate::sim::model::service::ServiceEvent;
use crate::sim::model::{
    Cluster, Listener, LoadBalancer, Rule, Service, ServiceDeployment, ServiceRevision, ServiceStatus, TargetGroup,
    Task, TaskDef, TaskStatus,
};
use crate::sim::requests::Balancing;
use crate::sim::rng::Rng;
use crate::sim::series::Series;

/// Emitted events kept for `GET /_sim/events` and [`crate::sim::Sim::events`].
const EVENT_LOG_CAP: usize = 20_000;
/// ECS keeps stopped tasks visible for about an hour.
const STOPPED_TASK_RETENTION_MS: i64 = 3_600_000;

/// Simulator state.
pub struct World {
    pub region: String,
    pub account: String,
    pub clock: Clock,
    pub rng: Rng,
    pub images: ImageCatalogue,
    pub clusters: BTreeMap<String, Cluster>,
    /// Revisions per family, revision N at index N-1.
    pub task_defs: BTreeMap<String, Vec<TaskDef>>,
    pub services: Vec<Service>,
    /// Every service deployment, oldest first.
    pub service_deployments: Vec<ServiceDeployment>,
    pub service_revisions: Vec<ServiceRevision>,
    pub tasks: BTreeMap<String, Task>,
    pub target_groups: BTreeMap<String, TargetGroup>,
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub listeners: BTreeMap<String, Listener>,
    /// Every listener's rules, its default rule included (see [`crate::sim::routing`]).
    pub rules: BTreeMap<String, Rule>,
    pub series: Series,
    pub event_log: VecDeque<Value>,
    /// Events emitted since the last flush to the sinks.
    pub(crate) outbox: Vec<Value>,
    /// Lambda hook invocations asked for since the last flush (see [`crate::sim::Sim::set_hook_invoker`]).
    pub(crate) hook_calls: Vec<crate::sim::model::HookCall>,
    /// Whether the [`crate::sim::Sim`] has a hook invoker; without one Lambda hooks fail.
    pub(crate) hook_invoker: bool,
    /// Where the next requests to the load balancers go (see [`crate::sim::requests`]).
    pub(crate) balancing: Balancing,
    next_ip: u32,
}

impl World {
    pub fn new(cfg: &SimConfig) -> Self {
        let mode = ClockMode { speed: cfg.speed, manual: cfg.manual_clock };
        Self {
            region: cfg.region.clone(),
            account: cfg.account.clone(),
            clock: Clock::new(cfg.start_time.unwrap_or_else(wall_now), mode),
            rng: Rng::new(cfg.seed),
            images: ImageCatalogue::new(cfg.default_image_behavior),
            clusters: BTreeMap::new(),
            task_defs: BTreeMap::new(),
            services: Vec::new(),
            service_deployments: Vec::new(),
            service_revisions: Vec::new(),
            tasks: BTreeMap::new(),
            target_groups: BTreeMap::new(),
            load_balancers: BTreeMap::new(),
            listeners: BTreeMap::new(),
            rules: BTreeMap::new(),
            series: Series::default(),
            event_log: VecDeque::new(),
            outbox: Vec::new(),
            hook_calls: Vec::new(),
            hook_invoker: false,
            balancing: Balancing::default(),
            next_ip: 0,
        }
    }

    pub fn now(&self) -> SimTime {
        self.clock.now()
    }

    /// Advances one step: task lifecycles, then target health, then the service scheduler.
    pub fn step(&mut self) {
        self.clock.step();
        self.step_tasks();
        self.step_health();
        self.step_services();
        self.prune_stopped_tasks();
        self.record_series();
    }

    /// `arn:aws:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.region, self.account)
    }

    /// The cluster named by a name or ARN (`None` = "default").
    pub fn cluster(&self, ident: Option<&str>) -> Option<&Cluster> {
        let name = ident.map_or("default", |i| last_segment(i, "cluster/"));
        self.clusters.get(name).filter(|c| c.status == "ACTIVE")
    }

    /// Index of the newest service named by a name or ARN in a cluster, any status.
    pub fn service_index(&self, cluster: &str, ident: &str) -> Option<usize> {
        let name = ident.rsplit('/').next().unwrap_or(ident);
        self.services.iter().rposition(|s| s.cluster == cluster && s.name == name)
    }

    /// Index of the ACTIVE or DRAINING service with this name.
    pub fn live_service_index(&self, cluster: &str, ident: &str) -> Option<usize> {
        self.service_index(cluster, ident).filter(|&i| self.services[i].status != ServiceStatus::Inactive)
    }

    pub fn service_by_arn(&self, arn: &str) -> Option<&Service> {
        self.services.iter().rev().find(|s| s.arn == arn)
    }

    /// A task definition by `family`, `family:revision` or ARN; bare family = latest ACTIVE.
    pub fn task_def(&self, ident: &str) -> Option<&TaskDef> {
        let name = ident.rsplit_once("task-definition/").map_or(ident, |(_, n)| n);
        match name.split_once(':') {
            Some((family, rev)) => {
                let rev: usize = rev.parse().ok()?;
                self.task_defs.get(family)?.get(rev.checked_sub(1)?)
            }
            None => self.task_defs.get(name)?.iter().rev().find(|t| t.status == "ACTIVE"),
        }
    }

    /// A task by id or ARN.
    pub fn task_id(&self, ident: &str) -> Option<String> {
        let id = ident.rsplit('/').next().unwrap_or(ident);
        self.tasks.contains_key(id).then(|| id.to_string())
    }

    /// Allocates a private IP in 10.0.0.0/16, skipping addresses held by live tasks.
    pub fn alloc_ip(&mut self) -> String {
        loop {
            self.next_ip = (self.next_ip + 1) % 65_000;
            let n = self.next_ip + 10;
            let ip = format!("10.0.{}.{}", n / 250, n % 250 + 2);
            let taken =
                self.tasks.values().any(|t| t.last_status != TaskStatus::Stopped && t.ip() == Some(ip.as_str()));
            if !taken {
                return ip;
            }
        }
    }

    /// Queues an EventBridge event (`source: aws.ecs`).
    pub fn emit(&mut self, detail_type: &str, resources: Vec<String>, detail: Value) {
        let id = self.rng.uuid();
        let ev = events::envelope(&id, &self.account, &self.region, self.now(), detail_type, resources, detail);
        if self.event_log.len() >= EVENT_LOG_CAP {
            self.event_log.pop_front();
        }
        self.event_log.push_back(ev.clone());
        self.outbox.push(ev);
    }

    /// Adds a message to a service's `events`, newest first.
    pub fn service_event(&mut self, svc: usize, message: String) {
        let id = self.rng.uuid();
        let now = self.now();
        let events = &mut self.services[svc].events;
        events.push_front(ServiceEvent { id, created_at: now, message });
        events.truncate(Service::MAX_EVENTS);
    }

    fn prune_stopped_tasks(&mut self) {
        let cutoff = self.now() - STOPPED_TASK_RETENTION_MS;
        self.tasks.retain(|_, t| t.stopped_at.is_none_or(|s| s > cutoff));
    }
}

/// The part of an identifier after `marker` (or the whole identifier).
pub fn last_segment<'a>(ident: &'a str, marker: &str) -> &'a str {
    ident.rsplit_once(marker).map_or(ident, |(_, n)| n)
}
