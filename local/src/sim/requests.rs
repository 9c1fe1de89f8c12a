//! Requests to the simulated load balancers: where ELBv2 sends an HTTP request made to a
//! listener port, and what the task at the end answers.
//!
//! The listener on the port evaluates its rules in priority order, the default rule last,
//! and the first whose conditions all match acts ("Rules are evaluated in priority order,
//! from the lowest value to the highest value. The default rule is evaluated last", ELB
//! User Guide, "Listener rules for your Application Load Balancer"). A `forward` picks a
//! target group by weight, then a healthy target of it — any registered one when none is
//! healthy (fail open) — and the target's task answers as its image behaves
//! ([`Behavior`]). `fixed-response` and `redirect` answer for themselves.
//!
//! A request never steps the clock nor draws from the world's RNG: the only state it
//! moves is the balancing position ([`Balancing`]), so a run with requests in it is as
//! deterministic as one without.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::json;

use crate::sim::images::Behavior;
use crate::sim::model::listener::Redirect;
use crate::sim::model::{ActionKind, Condition, Listener, LoadBalancer, TargetState, Task, TaskStatus};
use crate::sim::world::World;

/// The prefix of the local URL of a listener: `/elb/<load balancer name>/<port>/<path…>`.
pub const PATH_PREFIX: &str = "/elb/";

/// What ALBs put in `Server` on the answers they make themselves.
const ELB_SERVER: &str = "awselb/2.0";

/// An HTTP request to a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbRequest {
    pub method: String,
    /// The path, from its leading `/`, without the query.
    pub path: String,
    pub query: Option<String>,
    /// Header names and values as sent (names compare without case). `host` is what
    /// host-header conditions match; without one, the load balancer's DNS name, as a
    /// client calling the load balancer by its name sends it.
    pub headers: Vec<(String, String)>,
}

impl LbRequest {
    /// A GET of `path_and_query` (`/api/items?page=2`).
    pub fn get(path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (path_and_query, None),
        };
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        Self { method: "GET".into(), path, query, headers: Vec::new() }
    }

    /// The request with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why the load balancer (or, for the first two, the local endpoint) answered itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElbFault {
    /// No load balancer with that name or ARN: 404.
    NoLoadBalancer,
    /// No listener on the port: 503 (a real client would not get a connection).
    NoListener,
    /// The forward action gives every target group weight 0: 503.
    NoWeightedTargetGroup,
    /// The chosen target group has no registered (non-draining) target: 503, "The target
    /// groups for the load balancer have no registered targets" (ELB User Guide,
    /// "Troubleshoot your Application Load Balancers", HTTP 503).
    NoRegisteredTargets,
    /// The target's task does not answer (not running, crashed, gone): 502.
    TargetUnreachable,
    /// The target's task takes the connection but does not answer in time (a `slow`
    /// start): 504.
    TargetTimeout,
}

impl ElbFault {
    /// A stable name, also sent as `x-sim-elb-fault`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoLoadBalancer => "NoLoadBalancer",
            Self::NoListener => "NoListener",
            Self::NoWeightedTargetGroup => "NoWeightedTargetGroup",
            Self::NoRegisteredTargets => "NoRegisteredTargets",
            Self::TargetUnreachable => "TargetUnreachable",
            Self::TargetTimeout => "TargetTimeout",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::NoLoadBalancer => 404,
            Self::NoListener | Self::NoWeightedTargetGroup | Self::NoRegisteredTargets => 503,
            Self::TargetUnreachable => 502,
            Self::TargetTimeout => 504,
        }
    }
}

/// The target a forwarded request went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub target_group_arn: String,
    pub ip: String,
    pub port: i64,
    /// The task holding the target's IP, if any.
    pub task_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    /// The image of the container answering on the port.
    pub image: Option<String>,
    /// Chosen among the group's registered targets because none of them was healthy.
    pub fail_open: bool,
}

/// The answer to an [`LbRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The rule whose action answered (a listener's default rule included).
    pub rule_arn: Option<String>,
    /// Where a forward sent the request.
    pub target: Option<Routed>,
    /// Set when the load balancer answered itself instead of a target.
    pub fault: Option<ElbFault>,
}

impl LbResponse {
    /// The first value of a header (name without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn fault(fault: ElbFault, rule_arn: Option<String>, target: Option<Routed>, message: &str) -> Self {
        let status = fault.status();
        let mut headers = vec![("x-sim-elb-fault".to_owned(), fault.as_str().to_owned())];
        // The first two are the local endpoint's answers: no load balancer made them.
        let body = match fault {
            ElbFault::NoLoadBalancer | ElbFault::NoListener => {
                headers.push(("content-type".to_owned(), "text/plain".to_owned()));
                format!("{message}\n")
            }
            _ => {
                headers.push(("server".to_owned(), ELB_SERVER.to_owned()));
                headers.push(("content-type".to_owned(), "text/html".to_owned()));
                elb_page(status)
            }
        };
        Self { status, headers, body, rule_arn, target, fault: Some(fault) }
    }
}

/// The page an ALB answers its own errors with.
fn elb_page(status: u16) -> String {
    let title = match status {
        502 => "502 Bad Gateway",
        503 => "503 Service Temporarily Unavailable",
        504 => "504 Gateway Time-out",
        _ => "500 Internal Server Error",
    };
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
}

/// Where the next requests go: a smooth weighted round-robin per forward action and a
/// round-robin position per target group. Deterministic, and kept apart from the world's
/// RNG so requests change nothing else in a seeded run.
#[derive(Debug, Default)]
pub struct Balancing {
    /// By rule ARN.
    forwards: BTreeMap<String, Swrr>,
    /// Requests sent to each target group so far.
    groups: BTreeMap<String, u64>,
}

/// Smooth weighted round-robin (nginx's): each pick adds every weight to its group's
/// credit and takes the group with the most, which then pays the total. Each group's
/// count stays close to its weighted share at every point, and is exact over every
/// whole cycle of `sum(weights)` picks.
#[derive(Debug)]
struct Swrr {
    weights: Vec<(String, u32)>,
    credit: Vec<i64>,
}

impl Balancing {
    /// The target group of `weights` the next request of `rule_arn` goes to; `None` when
    /// every weight is 0. New weights (ECS moving traffic) start a new cycle.
    fn pick_group(&mut self, rule_arn: &str, weights: &[(String, u32)]) -> Option<String> {
        let total: i64 = weights.iter().map(|w| i64::from(w.1)).sum();
        if total == 0 {
            return None;
        }
        let fresh = || Swrr { weights: weights.to_vec(), credit: vec![0; weights.len()] };
        let s = self.forwards.entry(rule_arn.to_owned()).or_insert_with(fresh);
        if s.weights != weights {
            *s = fresh();
        }
        for (c, (_, w)) in s.credit.iter_mut().zip(weights) {
            *c += i64::from(*w);
        }
        // The first group wins ties.
        let best = (0..weights.len()).max_by_key(|&i| (s.credit[i], Reverse(i)))?;
        s.credit[best] -= total;
        Some(weights[best].0.clone())
    }

    /// Which of `n` candidate targets of a group the next request goes to.
    fn pick_target(&mut self, tg_arn: &str, n: usize) -> usize {
        let sent = self.groups.entry(tg_arn.to_owned()).or_insert(0);
        let i = (*sent % n as u64) as usize;
        *sent += 1;
        i
    }
}

impl World {
    /// A load balancer by ARN or by name.
    pub fn load_balancer(&self, name_or_arn: &str) -> Option<&LoadBalancer> {
        self.load_balancers.get(name_or_arn).or_else(|| self.load_balancers.values().find(|l| l.name == name_or_arn))
    }

    /// `/elb/<name>/<port>`: where the simulator's endpoint (and the local cloud's) serves
    /// the listener on `port` of a load balancer named by name or ARN; append the request
    /// path. `None` when there is no such load balancer (the port is not checked).
    pub fn load_balancer_path(&self, name_or_arn: &str, port: i64) -> Option<String> {
        self.load_balancer(name_or_arn).map(|lb| format!("{PATH_PREFIX}{}/{port}", lb.name))
    }

    /// Serves one request to the listener on `port` of a load balancer (name or ARN), as
    /// the module documentation says. Moves only the balancing position.
    pub fn lb_request(&mut self, name_or_arn: &str, port: i64, req: &LbRequest) -> LbResponse {
        let Some(lb) = self.load_balancer(name_or_arn) else {
            let msg = format!("no load balancer '{name_or_arn}'");
            return LbResponse::fault(ElbFault::NoLoadBalancer, None, None, &msg);
        };
        let Some(listener) = self.listeners.values().find(|l| l.load_balancer_arn == lb.arn && l.port == port) else {
            let msg = format!("load balancer '{}' has no listener on port {port}", lb.name);
            return LbResponse::fault(ElbFault::NoListener, None, None, &msg);
        };
        let host = host_of(req).unwrap_or_else(|| lb.dns_name.to_ascii_lowercase());
        let matched = self
            .listener_rules(&listener.arn)
            .into_iter()
            .find(|r| r.conditions.iter().all(|c| matches(c, req, &host)));
        let Some(rule) = matched else {
            // Every listener has its default rule; a missing one is as good as no listener.
            return LbResponse::fault(ElbFault::NoListener, None, None, "the listener has no default rule");
        };
        let rule_arn = rule.arn.clone();
        let Some(action) = rule.actions.iter().min_by_key(|a| a.order.unwrap_or(i64::MAX)).map(|a| a.kind.clone())
        else {
            return LbResponse::fault(ElbFault::NoListener, Some(rule_arn), None, "the rule has no action");
        };
        match action {
            ActionKind::FixedResponse { status_code, content_type, message_body } => {
                let headers = vec![
                    ("server".to_owned(), ELB_SERVER.to_owned()),
                    ("content-type".to_owned(), content_type.unwrap_or_else(|| "text/plain".to_owned())),
                ];
                let status = status_code.parse().unwrap_or(500);
                let body = message_body.unwrap_or_default();
                LbResponse { status, headers, body, rule_arn: Some(rule_arn), target: None, fault: None }
            }
            ActionKind::Redirect(r) => {
                let location = redirect_location(&r, listener, req, &host);
                let status = if r.status_code == "HTTP_301" { 301 } else { 302 };
                let headers = vec![("server".to_owned(), ELB_SERVER.to_owned()), ("location".to_owned(), location)];
                LbResponse { status, headers, body: String::new(), rule_arn: Some(rule_arn), target: None, fault: None }
            }
            ActionKind::Forward(f) => self.forward(rule_arn, &f.weights(), req),
        }
    }

    fn forward(&mut self, rule_arn: String, weights: &[(String, u32)], req: &LbRequest) -> LbResponse {
        // "Requests are distributed to individual target groups based on their weights"
        // (ELB User Guide, "Listener rules for your Application Load Balancer" > "Forward
        // actions"); the simulator spreads them by smooth weighted round-robin.
        let Some(tg_arn) = self.balancing.pick_group(&rule_arn, weights) else {
            return LbResponse::fault(ElbFault::NoWeightedTargetGroup, Some(rule_arn), None, "");
        };
        let Some(tg) = self.target_groups.get(&tg_arn) else {
            return LbResponse::fault(ElbFault::NoRegisteredTargets, Some(rule_arn), None, "");
        };
        // "Each load balancer node routes requests only to the healthy targets" and "If a
        // target group contains only unhealthy registered targets, the load balancer routes
        // requests to all those targets, regardless of their health status" (ELB User
        // Guide, "Health checks for Application Load Balancer target groups"): fail open,
        // here to every registered target not draining — `initial` ones too.
        let pick = |healthy: bool| -> Vec<(String, i64)> {
            tg.targets
                .iter()
                .filter(|t| if healthy { t.state == TargetState::Healthy } else { t.state != TargetState::Draining })
                .map(|t| (t.id.clone(), t.port))
                .collect()
        };
        let healthy = pick(true);
        let fail_open = healthy.is_empty();
        let candidates = if fail_open { pick(false) } else { healthy };
        if candidates.is_empty() {
            return LbResponse::fault(ElbFault::NoRegisteredTargets, Some(rule_arn), None, "");
        }
        let health_path = tg.health_check.path.clone();
        let (ip, port) = candidates[self.balancing.pick_target(&tg_arn, candidates.len())].clone();
        let task = self.tasks.values().find(|t| {
            matches!(t.last_status, TaskStatus::Activating | TaskStatus::Running | TaskStatus::Deactivating)
                && t.ip() == Some(ip.as_str())
        });
        let container = task.and_then(|t| t.container_for_port(port));
        let routed = Routed {
            target_group_arn: tg_arn,
            ip,
            port,
            task_arn: task.map(|t| t.arn.clone()),
            task_definition_arn: task.map(|t| t.task_def_arn.clone()),
            image: container.map(|c| c.image.clone()),
            fail_open,
        };
        let Some(task) = task else {
            return LbResponse::fault(ElbFault::TargetUnreachable, Some(rule_arn), Some(routed), "");
        };
        match answer(task, port, &req.path, health_path.as_deref(), self.now()) {
            Err(fault) => LbResponse::fault(fault, Some(rule_arn), Some(routed), ""),
            Ok(status) => {
                let c = container;
                let body = json!({
                    "status": status,
                    "task": task.arn,
                    "taskDefinition": task.task_def_arn,
                    "container": c.map(|c| c.name.as_str()),
                    "image": c.map(|c| c.image.as_str()),
                    "imageDigest": c.and_then(|c| c.image_digest.as_deref()),
                    "behavior": c.and_then(|c| c.behavior).map(|b| b.to_string()),
                    "method": req.method,
                    "path": req.path,
                });
                let headers = vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("x-sim-task".to_owned(), task.arn.clone()),
                    ("x-sim-task-definition".to_owned(), task.task_def_arn.clone()),
                    ("x-sim-target-group".to_owned(), routed.target_group_arn.clone()),
                    ("x-sim-fail-open".to_owned(), fail_open.to_string()),
                ];
                LbResponse {
                    status,
                    headers,
                    body: body.to_string(),
                    rule_arn: Some(rule_arn),
                    target: Some(routed),
                    fault: None,
                }
            }
        }
    }
}

/// What a task answers on `port` to a request for `path`: a status, or why it does not
/// answer. `errors` answers 200 on the target group's health check path (as it does the
/// health checks) and 500 anywhere else; `flaky` answers every request (its failures
/// are the health checks'); `slow` times out until it is up.
fn answer(task: &Task, port: i64, path: &str, health_path: Option<&str>, now: i64) -> Result<u16, ElbFault> {
    if !matches!(task.last_status, TaskStatus::Running | TaskStatus::Deactivating) {
        return Err(ElbFault::TargetUnreachable);
    }
    match task.behavior_for_port(port) {
        Some(Behavior::Healthy | Behavior::Flaky(_)) => Ok(200),
        Some(Behavior::Slow(s)) => match task.started_at {
            Some(t) if now >= t + s as i64 * 1000 => Ok(200),
            _ => Err(ElbFault::TargetTimeout),
        },
        Some(Behavior::Unhealthy) => Ok(500),
        Some(Behavior::Errors) => Ok(if health_path == Some(path) { 200 } else { 500 }),
        Some(Behavior::Crash) | None => Err(ElbFault::TargetUnreachable),
    }
}

/// The request's host name, lower case, without a port.
fn host_of(req: &LbRequest) -> Option<String> {
    let host = req.header_values("host").next()?.trim();
    let name = match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    };
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// Whether a request meets one condition (ELB User Guide, "Condition types for listener
/// rules"): a path pattern is case-sensitive and matches the path alone; host names,
/// header names and header values compare without case; any one of a condition's values
/// is enough, and `*` and `?` are wildcards in all of them.
fn matches(c: &Condition, req: &LbRequest, host: &str) -> bool {
    match c {
        Condition::PathPattern(values) => values.iter().any(|v| glob(v, &req.path)),
        Condition::HostHeader(values) => values.iter().any(|v| glob(&v.to_ascii_lowercase(), host)),
        Condition::HttpHeader { name, values } => req.header_values(name).any(|h| {
            let h = h.to_ascii_lowercase();
            values.iter().any(|v| glob(&v.to_ascii_lowercase(), &h))
        }),
    }
}

/// `*` matches any run of characters (none included), `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `Location` of a redirect: its components with `#{protocol}`, `#{host}`, `#{port}`,
/// `#{path}` and `#{query}` replaced by the request's, the defaults being the request's
/// own (ELB User Guide, "Redirect actions"); a protocol's default port is left out.
fn redirect_location(r: &Redirect, listener: &Listener, req: &LbRequest, host: &str) -> String {
    let port = listener.port.to_string();
    let path_tail = req.path.strip_prefix('/').unwrap_or(&req.path);
    let query = req.query.as_deref().unwrap_or("");
    let fill = |s: &str| {
        s.replace("#{protocol}", &listener.protocol)
            .replace("#{host}", host)
            .replace("#{port}", &port)
            .replace("#{path}", path_tail)
            .replace("#{query}", query)
    };
    let protocol = fill(r.protocol.as_deref().unwrap_or("#{protocol}")).to_ascii_lowercase();
    let host = fill(r.host.as_deref().unwrap_or("#{host}"));
    let to_port = fill(r.port.as_deref().unwrap_or("#{port}"));
    let path = fill(r.path.as_deref().unwrap_or("/#{path}"));
    let query = fill(r.query.as_deref().unwrap_or("#{query}"));
    let default_port = matches!((protocol.as_str(), to_port.as_str()), ("http", "80") | ("https", "443"));
    let mut url = if default_port {
        format!("{protocol}://{host}{path}")
    } else {
        format!("{protocol}://{host}:{to_port}{path}")
    };
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_elb() {
        assert!(glob("/*", "/"));
        assert!(glob("/*", "/api/items"));
        assert!(glob("/api/*", "/api/"));
        assert!(!glob("/api/*", "/API/x"));
        assert!(glob("/img/*.png", "/img/a/b.png"));
        assert!(!glob("/img/*.png", "/img/a.jpg"));
        assert!(glob("v?", "v2"));
        assert!(!glob("v?", "v"));
        assert!(glob("*.example.com", "api.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
    }

    #[test]
    fn hosts_lose_their_port_and_case() {
        let req = |h: &str| LbRequest::get("/").header("Host", h);
        assert_eq!(host_of(&req("API.Example.com:8080")).as_deref(), Some("api.example.com"));
        assert_eq!(host_of(&req("api.example.com")).as_deref(), Some("api.example.com"));
        assert_eq!(host_of(&LbRequest::get("/")), None);
    }

    #[test]
    fn smooth_weighted_round_robin_is_exact_over_a_cycle() {
        let mut b = Balancing::default();
        let w = vec![("blue".to_string(), 900), ("green".to_string(), 100)];
        let picks: Vec<String> = (0..1000).map(|_| b.pick_group("r", &w).unwrap()).collect();
        assert_eq!(picks.iter().filter(|p| *p == "green").count(), 100);
        for n in 1..=1000 {
            let green = picks[..n].iter().filter(|p| *p == "green").count() as f64;
            assert!((green - n as f64 / 10.0).abs() <= 1.0, "{green} green of {n}");
        }
        // Weight 0 never gets a request; all 0 is no target group.
        let w = vec![("blue".to_string(), 0), ("green".to_string(), 5)];
        assert!((0..10).all(|_| b.pick_group("r", &w).as_deref() == Some("green")));
        assert_eq!(b.pick_group("r", &[("blue".to_string(), 0)]), None);
        assert_eq!((0..4).map(|_| b.pick_target("tg", 3)).collect::<Vec<_>>(), [0, 1, 2, 0]);
    }

    #[test]
    fn requests_parse_path_and_query() {
        let r = LbRequest::get("api/items?page=2");
        assert_eq!((r.path.as_str(), r.query.as_deref()), ("/api/items", Some("page=2")));
    }
}
