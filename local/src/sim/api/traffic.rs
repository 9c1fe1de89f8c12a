//! `/elb/<load balancer name>/<port>/<path…>?<query>`: HTTP requests to the listeners of
//! the simulated load balancers ([`crate::sim::requests`]), any method, served by the
//! simulator's endpoint and — through [`serve`] — by the local cloud's router.

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::sim::Sim;
use crate::sim::requests::{LbRequest, PATH_PREFIX};

/// Answers a request under [`PATH_PREFIX`]; a path without a load balancer name and a
/// port (1–65535) is a 404 saying what is expected.
///
/// The `Host` of a request to the local endpoint names that endpoint (an IP address or
/// `localhost`), not the load balancer: such a host is dropped, so host-header
/// conditions see the load balancer's DNS name. Any other `Host` is kept.
pub fn serve(sim: &Sim, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let Some((name, port, path)) = uri.path().strip_prefix(PATH_PREFIX).and_then(split) else {
        let msg = format!("expected {PATH_PREFIX}<load balancer name>/<port>/<path>, got {}\n", uri.path());
        return (StatusCode::NOT_FOUND, msg).into_response();
    };
    let headers = headers
        .iter()
        .filter(|(k, v)| *k != "host" || v.to_str().is_ok_and(|h| !is_local(h)))
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let req = LbRequest { method: method.as_str().to_owned(), path, query: uri.query().map(str::to_owned), headers };
    let answer = sim.lb_request(name, port, &req);
    let mut out = Response::builder().status(answer.status);
    for (k, v) in &answer.headers {
        out = out.header(k, v);
    }
    out.body(Body::from(answer.body)).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `<name>/<port>[/<path>]` into the name, the port and the path (`/` when none).
fn split(rest: &str) -> Option<(&str, i64, String)> {
    let mut parts = rest.splitn(3, '/');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let port = parts.next()?.parse::<u16>().ok().filter(|p| *p > 0)?;
    Some((name, i64::from(port), format!("/{}", parts.next().unwrap_or(""))))
}

/// Whether a `Host` names the local endpoint rather than a load balancer.
fn is_local(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
        || host.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_a_load_balancer_and_a_port() {
        assert_eq!(split("web/80"), Some(("web", 80, "/".to_owned())));
        assert_eq!(split("web/8080/"), Some(("web", 8080, "/".to_owned())));
        assert_eq!(split("web/80/api/items"), Some(("web", 80, "/api/items".to_owned())));
        assert_eq!(split("web"), None);
        assert_eq!(split("web/0/x"), None);
        assert_eq!(split("web/http/x"), None);
        assert_eq!(split("/80/x"), None);
    }

    #[test]
    fn local_hosts_are_recognised() {
        for h in ["127.0.0.1:4566", "localhost", "LOCALHOST:80", "[::1]:4580", "::1", "10.0.0.1"] {
            assert!(is_local(h), "{h}");
        }
        for h in ["api.example.com", "web-1.us-east-1.elb.amazonaws.com:80"] {
            assert!(!is_local(h), "{h}");
        }
    }
}
