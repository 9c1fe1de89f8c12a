//! `autodeploy targets` end to end against the local cloud, as an operator
//! runs it: a target added after ECS confirmed its service and container,
//! listed (text and JSON), refused when its rule, service or container is
//! wrong or when it exists, disabled, removed.
//!
//! moto's IAM does not enforce policies, so `alice` may do everything here;
//! what an operator needs granted is in the README.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Output;

use autodeploy_local::cloud::Cloud;
use autodeploy_local::cloud::seed::{ServiceSpec, seed_service};
use aws_credential_types::Credentials;
use common::*;
use serde_json::{Value, json};

/// An IAM identity running `autodeploy` against the local cloud's stack,
/// found by its CloudFormation outputs.
struct Operator<'a> {
    cloud: &'a Cloud,
    who: Credentials,
}

impl Operator<'_> {
    async fn run(&self, args: &[&str]) -> Output {
        autodeploy(self.cloud, &self.who, &[("AUTODEPLOY_STACK", self.cloud.stack.name.clone())], args).await
    }

    /// `targets add` of a target of `web` with one container.
    async fn add(&self, id: &str, service: &str, rule: &str, container: &str) -> Output {
        let args =
            ["targets", "add", "--repository", "web", "--target-id", id, "--service", service, "--tag-rule", rule];
        self.run(&[&args[..], &["--container", container]].concat()).await
    }
}

/// Exit status 1 with a message that contains every one of `says`.
fn refused(o: &Output, says: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{}{err}", stdout(o));
    for s in says {
        assert!(err.contains(s), "expected {s:?} in: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_adds_lists_disables_and_removes_deploy_targets() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    // demo/web, container `app`, and deploy target web/demo-web (glob:v*).
    seed_service(&cloud, &ServiceSpec::demo()).await.expect("seeding");
    let alice = cloud.iam_user("alice").await.unwrap();
    let op = Operator { cloud: &cloud, who: alice.clone() };

    let listed = op.run(&["targets", "list"]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("REPOSITORY  TARGET") && lines[0].contains("TAG RULE"), "{text}");
    assert!(lines[1].starts_with("web") && lines[1].contains("demo-web") && lines[1].contains("glob:v*"), "{text}");

    let added = op
        .run(&[
            "targets",
            "add",
            "--repository",
            "web",
            "--target-id",
            "canary",
            "--service",
            "demo/web",
            "--tag-rule",
            "glob:canary-*",
            "--container",
            "app",
            "--alarm",
            "web-p99-latency",
            "--approval-timeout-minutes",
            "60",
            "--on-timeout",
            "approve",
        ])
        .await;
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added).trim(), "added deploy target web/canary: glob:canary-* on demo/web");

    // Text: one aligned row per target, sorted by repository and id.
    let text = stdout(&op.run(&["targets", "list", "--repository", "web"]).await);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let column = |name: &str| lines[0].find(name).unwrap();
    let canary = lines[1];
    assert!(canary.starts_with("web") && canary.contains("canary"), "{text}");
    assert_eq!(&canary[column("TAG RULE")..][..13], "glob:canary-*", "{text}");
    assert_eq!(&canary[column("CONTAINERS")..][..3], "app", "{text}");
    assert_eq!(&canary[column("ENABLED")..][..3], "yes", "{text}");
    assert!(canary.ends_with("approval 60 min, then APPROVE; alarms web-p99-latency"), "{text}");
    assert!(lines[2].contains("demo-web") && lines[2][column("CONTAINERS")..].starts_with("(all)"), "{text}");

    // JSON: every target as stored, every key present.
    let all = json_of(&op.run(&["targets", "list", "--output", "json"]).await);
    let canary = all.as_array().unwrap().iter().find(|t| t["targetId"] == "canary").expect("listed");
    assert_eq!(
        *canary,
        json!({
            "repository": "web", "targetId": "canary", "cluster": "demo", "service": "web",
            "tagRule": {"type": "glob", "pattern": "canary-*"}, "containers": ["app"], "enabled": true,
            "registries": [], "reconcile": true, "alarms": ["web-p99-latency"],
            "approval": {"timeoutMinutes": 60, "onTimeout": "APPROVE"}
        })
    );
    let by_service = json_of(&op.run(&["targets", "list", "--service", "demo/web", "--output", "json"]).await);
    assert_eq!(by_service.as_array().unwrap().len(), 2);
    let elsewhere = op.run(&["targets", "list", "--service", "demo/api"]).await;
    assert_eq!(stdout(&elsewhere).trim(), "no deploy targets for demo/api");

    // Refused before anything is written.
    refused(&op.add("x", "demo/web", "semver:not a version", "app").await, &["tag rule \"semver:not a version\""]);
    refused(&op.add("x", "demo/web", "latest", "app").await, &["tag rule \"latest\"", "exact:TAG"]);
    refused(&op.add("x", "demo/nope", "glob:*", "app").await, &["service nope not found in cluster demo"]);
    refused(&op.add("x", "demo/web", "glob:*", "sidecar").await, &["no container sidecar", "its containers: app"]);
    refused(
        &op.add("canary", "demo/web", "glob:*", "app").await,
        &["web/canary exists (glob:canary-* on demo/web)", "--replace"],
    );
    refused(
        &op.run(&[
            "targets",
            "add",
            "--repository",
            "Web",
            "--target-id",
            "x",
            "--service",
            "demo/web",
            "--tag-rule",
            "semver",
        ])
        .await,
        &["not an ECR repository name"],
    );
    let ids: Vec<Value> = json_of(&op.run(&["targets", "list", "--output", "json"]).await)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["targetId"].clone())
        .collect();
    assert_eq!(ids, [json!("canary"), json!("demo-web")], "nothing written by a refused add");

    // --replace overwrites, and says what was there.
    let replaced = op
        .run(&[
            "targets",
            "add",
            "--repository",
            "web",
            "--target-id",
            "canary",
            "--service",
            "demo/web",
            "--tag-rule",
            "semver:>=2",
            "--replace",
        ])
        .await;
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(
        stdout(&replaced).trim(),
        "replaced deploy target web/canary: semver:>=2 on demo/web (was glob:canary-* on demo/web)"
    );

    let disabled = op.run(&["targets", "disable", "--repository", "web", "--target-id", "canary"]).await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert!(stdout(&disabled).starts_with("disabled deploy target web/canary on demo/web"), "{}", stdout(&disabled));
    let text = stdout(&op.run(&["targets", "list"]).await);
    let lines: Vec<&str> = text.lines().collect();
    let enabled = lines[0].find("ENABLED").unwrap();
    assert!(lines[1].contains("canary") && lines[1].contains("semver:>=2"), "{text}");
    assert_eq!(&lines[1][enabled..][..2], "no", "{text}");
    assert_eq!(&lines[2][enabled..][..3], "yes", "{text}");
    let again = json_of(
        &op.run(&["targets", "enable", "--repository", "web", "--target-id", "canary", "--output", "json"]).await,
    );
    assert_eq!((again["targetId"].as_str(), again["enabled"].as_bool()), (Some("canary"), Some(true)));

    let removed = op.run(&["targets", "remove", "--repository", "web", "--target-id", "canary"]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(stdout(&removed).trim(), "removed deploy target web/canary");
    refused(
        &op.run(&["targets", "remove", "--repository", "web", "--target-id", "canary"]).await,
        &["no deploy target web/canary", "repository web has: demo-web"],
    );
    refused(
        &op.run(&["targets", "disable", "--repository", "web", "--target-id", "demo-wbe"]).await,
        &["did you mean demo-web?"],
    );
    refused(
        &op.run(&["targets", "enable", "--repository", "api", "--target-id", "x"]).await,
        &["repository api has none"],
    );

    // Usage errors are clap's; a stack named without its targets table says what is missing.
    let usage = op.run(&["targets", "add", "--repository", "web"]).await;
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let table = [("AUTODEPLOY_DEPLOYMENTS_TABLE", cloud.template.physical_name("DeploymentsTable").unwrap())];
    let no_table = autodeploy(&cloud, &alice, &table, &["targets", "list"]).await;
    refused(&no_table, &["TargetsTableName", "AUTODEPLOY_TARGETS_TABLE"]);
    running.stop().await;
}
