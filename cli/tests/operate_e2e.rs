//! `autodeploy deploy | rollback | freeze | unfreeze` end to end against the
//! local cloud, as an operator runs them (an IAM user's keys, the stack by
//! name): a frozen service holds a push and deploys it on unfreeze; a deploy
//! during a freeze needs --force; a bad build watched exits ROLLED_BACK; a
//! rollback runs the previous good revision again; a deploy by hand and a
//! push racing each other end with the newest on the service.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Output;

use autodeploy_local::cloud::Cloud;
use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use aws_credential_types::Credentials;
use common::*;
use serde_json::Value;

/// `autodeploy args…` as `who`, the stack found by its name.
async fn autodeploy(cloud: &Cloud, who: &Credentials, args: &[&str]) -> Output {
    common::autodeploy(cloud, who, &[("AUTODEPLOY_STACK", cloud.stack.name.clone())], args).await
}

/// The newest deployment of demo/web with `tag` in `status`, once there is one.
async fn deployment(cloud: &Cloud, who: &Credentials, tag: &str, status: &str) -> Value {
    let found = wait_for(cloud, 900, || async {
        let rows = json_of(&autodeploy(cloud, who, &["history", "demo/web", "--output", "json"]).await);
        rows.as_array()?.iter().find(|r| r["tag"] == tag && r["status"] == status).cloned()
    })
    .await;
    match found {
        Some(row) => row,
        None => {
            let history = stdout(&autodeploy(cloud, who, &["history", "demo/web"]).await);
            panic!("no {tag} deployment became {status}:\n{history}")
        }
    }
}

/// The keys of a JSON object, sorted: the documented shape.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    k.sort_unstable();
    k
}

fn id(row: &Value) -> String {
    row["deploymentId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_freezes_deploys_rolls_back_and_races_a_push() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.expect("seeding");
    let alice = cloud.iam_user("alice").await.unwrap();
    let alice_arn = format!("arn:aws:iam::{}:user/alice", cloud.stack.account);

    cloud.push("web:v2", "healthy").await.unwrap();
    let v2 = deployment(&cloud, &alice, "v2", "SUCCEEDED").await;

    // A bad build: watch exits with the ROLLED_BACK code, the service stays on v2.
    cloud.push("web:v3", "crash").await.unwrap();
    let v3 = wait_for(&cloud, 600, || async {
        let rows = json_of(&autodeploy(&cloud, &alice, &["history", "demo/web", "--output", "json"]).await);
        rows.as_array()?.iter().find(|r| r["tag"] == "v3").map(id)
    })
    .await
    .expect("v3 started");
    let watched = autodeploy(&cloud, &alice, &["watch", &v3]).await;
    assert_eq!(watched.status.code(), Some(3), "ROLLED_BACK: {}{}", stdout(&watched), stderr(&watched));

    // Frozen: a push is held with the reason, a plain deploy is refused.
    let frozen = autodeploy(&cloud, &alice, &["freeze", "demo/web", "--reason", "incident 7: checkout errors"]).await;
    assert!(frozen.status.success(), "{}", stderr(&frozen));
    assert!(stdout(&frozen).starts_with("demo/web frozen since "), "{}", stdout(&frozen));
    let text = stdout(&frozen);
    assert!(text.contains(&format!("  by   {alice_arn}\n  why  incident 7: checkout errors\n")), "{text}");
    cloud.push("web:v4", "healthy").await.unwrap();
    let held = deployment(&cloud, &alice, "v4", "HELD").await;
    let shown = stdout(&autodeploy(&cloud, &alice, &["show", &id(&held)]).await);
    assert!(shown.contains("incident 7: checkout errors"), "the held push says why: {shown}");
    let refused = autodeploy(&cloud, &alice, &["deploy", "demo/web", "--image", "web:v2"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("frozen") && stderr(&refused).contains("force"),
        "the pipeline's reason: {}",
        stderr(&refused)
    );

    // Unfreeze: the held push deploys.
    let again =
        json_of(&autodeploy(&cloud, &alice, &["freeze", "demo/web", "--reason", "x", "--output", "json"]).await);
    assert_eq!(keys(&again), ["alreadyFrozen", "frozen", "service"], "{again}");
    assert_eq!(again["alreadyFrozen"], true, "a second freeze keeps the first: {again}");
    assert_eq!(keys(&again["frozen"]), ["at", "by", "reason"], "{again}");
    let unfrozen = autodeploy(&cloud, &alice, &["unfreeze", "demo/web"]).await;
    assert!(unfrozen.status.success(), "{}", stderr(&unfrozen));
    let text = stdout(&unfrozen);
    assert!(text.contains(&format!("the newest held push deploys now: {}", id(&held))), "{text}");
    let after = json_of(&autodeploy(&cloud, &alice, &["unfreeze", "demo/web", "--output", "json"]).await);
    assert_eq!(keys(&after), ["released", "service", "unfrozen"], "{after}");
    assert_eq!(after["unfrozen"], Value::Null, "unfreezing twice changes nothing: {after}");
    let watched = autodeploy(&cloud, &alice, &["watch", &id(&held), "--output", "json"]).await;
    assert_eq!(watched.status.code(), Some(0), "{}{}", stdout(&watched), stderr(&watched));

    // Roll back: v2's revision again, recorded and announced as a rollback by alice.
    let back = autodeploy(&cloud, &alice, &["rollback", "demo/web", "--reason", "v4 is slow", "--wait"]).await;
    assert_eq!(back.status.code(), Some(0), "{}{}", stdout(&back), stderr(&back));
    let rows = json_of(&autodeploy(&cloud, &alice, &["history", "demo/web", "--output", "json"]).await);
    let rollback = id(&rows[0]);
    let record = json_of(&autodeploy(&cloud, &alice, &["show", &rollback, "--output", "json"]).await);
    assert_eq!(record["status"], "SUCCEEDED");
    assert_eq!(record["foundBy"], "operator");
    assert_eq!(record["request"]["kind"], "ROLLBACK");
    assert_eq!(record["request"]["by"], alice_arn.as_str());
    let rows = json_of(&autodeploy(&cloud, &alice, &["history", "demo/web", "--output", "json"]).await);
    assert_eq!(rows[0]["request"]["kind"], "ROLLBACK", "history says who asked: {}", rows[0]);
    let text = stdout(&autodeploy(&cloud, &alice, &["history", "demo/web"]).await);
    assert!(text.contains("rollback by alice"), "{text}");
    let v2_record = json_of(&autodeploy(&cloud, &alice, &["show", &id(&v2), "--output", "json"]).await);
    assert_eq!(record["newTaskDefinition"], v2_record["newTaskDefinition"], "v2's own revision, not a new one");

    // A deploy by hand, in JSON, with a token: sent twice, it is one deployment.
    let args =
        ["deploy", "demo/web", "--image", "web:v4", "--request-token", "ci-run-4711-attempt", "--output", "json"];
    let first = json_of(&autodeploy(&cloud, &alice, &args).await);
    let second = json_of(&autodeploy(&cloud, &alice, &args).await);
    assert_eq!(keys(&first), ["deploymentId", "image", "request", "service", "started", "status", "tag"], "{first}");
    assert_eq!(keys(&first["request"]), ["by", "kind", "token"], "{first}");
    assert_eq!(first["deploymentId"], second["deploymentId"]);
    assert_eq!((first["started"].as_bool(), second["started"].as_bool()), (Some(true), Some(false)));
    // A push right after it: newest wins, the push ends up on the service.
    cloud.push("web:v5", "healthy").await.unwrap();
    let by_hand = autodeploy(&cloud, &alice, &["watch", first["deploymentId"].as_str().unwrap()]).await;
    assert!(matches!(by_hand.status.code(), Some(0 | 5)), "SUCCEEDED or SUPERSEDED: {}", stderr(&by_hand));
    let v5 = deployment(&cloud, &alice, "v5", "SUCCEEDED").await;
    let status = json_of(&autodeploy(&cloud, &alice, &["status", "demo/web", "--output", "json"]).await);
    assert_eq!(status[0]["running"]["images"][0]["tag"], "v5", "{status}");
    assert_eq!(status[0]["running"]["images"][0]["digest"], v5["digest"], "{status}");
    running.stop().await;
}
