//! `autodeploy` end to end against the local cloud, as an operator runs it:
//! nothing but AWS_ENDPOINT_URL, a region and an IAM user's keys. A held
//! rolling deployment is approved (watch exits 0) and the next one rejected
//! (watch exits 6); show, history and their JSON; errors a person can act on.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_approves_one_release_and_rejects_the_next() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    let spec = ServiceSpec { approval: Some(json!({"timeoutMinutes": 60})), ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.expect("seeding");
    let alice = cloud.iam_user("alice").await.unwrap();
    // Found by its CloudFormation outputs, as a deployed stack is.
    let stack = [("AUTODEPLOY_STACK", cloud.stack.name.clone())];

    // Nothing says where the stack is: the error says where it looked.
    let lost = autodeploy(&cloud, &alice, &[], &["history", "demo/web"]).await;
    assert_eq!(lost.status.code(), Some(1));
    assert!(stderr(&lost).contains("AUTODEPLOY_STACK"), "{}", stderr(&lost));
    let wrong = autodeploy(&cloud, &alice, &[], &["--stack", "nope", "history", "demo/web"]).await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("stack nope: no such stack"), "{}", stderr(&wrong));
    // A stack that is not a CloudFormation one: its table named directly.
    let table = [("AUTODEPLOY_DEPLOYMENTS_TABLE", cloud.template.physical_name("DeploymentsTable").unwrap())];
    let direct = autodeploy(&cloud, &alice, &table, &["history", "demo/web"]).await;
    assert!(direct.status.success(), "{}", stderr(&direct));

    cloud.push("web:v2", "healthy").await.unwrap();
    let held = wait_for(&cloud, 600, || async {
        let o = autodeploy(&cloud, &alice, &stack, &["history", "demo/web", "--output", "json"]).await;
        let rows = json_of(&o);
        rows.as_array()?.iter().find(|r| r["tag"] == "v2" && r["status"] == "AWAITING_APPROVAL").cloned()
    })
    .await
    .expect("v2 waits for approval");
    let v2 = held["deploymentId"].as_str().unwrap().to_owned();

    let shown = autodeploy(&cloud, &alice, &stack, &["show", &v2]).await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.starts_with(&format!("{v2}  AWAITING_APPROVAL")), "{text}");
    assert!(text.contains("approval  waiting since"), "{text}");

    let approved = autodeploy(&cloud, &alice, &stack, &["approve", &v2, "--reason", "looks good"]).await;
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert_eq!(stdout(&approved).trim(), format!("{v2} approved: it is QUEUED"));
    let watched = autodeploy(&cloud, &alice, &stack, &["watch", &v2]).await;
    assert_eq!(watched.status.code(), Some(0), "{}{}", stdout(&watched), stderr(&watched));
    assert!(stdout(&watched).contains("SUCCEEDED"), "{}", stdout(&watched));
    let record = json_of(&autodeploy(&cloud, &alice, &stack, &["show", &v2, "--output", "json"]).await);
    assert_eq!(record["status"], "SUCCEEDED");
    let alice_arn = format!("arn:aws:iam::{}:user/alice", cloud.stack.account);
    assert_eq!(record["approval"]["decidedBy"], alice_arn.as_str());
    assert_eq!(record["approval"]["reason"], "looks good");

    cloud.push("web:v3", "healthy").await.unwrap();
    let v3 = wait_for(&cloud, 600, || async {
        let rows = json_of(&autodeploy(&cloud, &alice, &stack, &["history", "demo/web", "--output", "json"]).await);
        rows.as_array()?
            .iter()
            .find(|r| r["tag"] == "v3" && r["status"] == "AWAITING_APPROVAL")
            .map(|r| r["deploymentId"].as_str().unwrap().to_owned())
    })
    .await
    .expect("v3 waits for approval");
    let rejected = autodeploy(&cloud, &alice, &stack, &["reject", &v3, "--reason", "freeze"]).await;
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let watched = autodeploy(&cloud, &alice, &stack, &["watch", &v3, "--output", "json"]).await;
    assert_eq!(watched.status.code(), Some(6), "REJECTED: {}", stderr(&watched));
    assert_eq!(json_of(&watched)["status"], "REJECTED");
    // Deciding again, otherwise: refused, with the reason.
    let again = autodeploy(&cloud, &alice, &stack, &["approve", &v3]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("REJECTED"), "{}", stderr(&again));

    let history = autodeploy(&cloud, &alice, &stack, &["history", "demo/web"]).await;
    let text = stdout(&history);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("DEPLOYMENT"), "{text}");
    assert!(lines[1].starts_with(&v3) && lines[1].contains("REJECTED") && lines[1].ends_with("web:v3"), "{text}");
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "fits a terminal: {text}");
    // Why each push did or did not deploy, with where its deployment stands.
    let why = json_of(&autodeploy(&cloud, &alice, &stack, &["why", "web:v2", "--output", "json"]).await);
    let started = why.as_array().unwrap().iter().find(|d| d["outcome"] == "STARTED").expect("v2 was started");
    assert_eq!(
        (started["deploymentId"].as_str(), started["deploymentStatus"].as_str()),
        (Some(v2.as_str()), Some("SUCCEEDED"))
    );
    let text = stdout(&autodeploy(&cloud, &alice, &stack, &["why", "web:v3"]).await);
    assert!(
        text.contains("web:v3 → demo-web: STARTED (event)") && text.contains(&format!("deployment {v3} is REJECTED")),
        "{text}"
    );
    let none = autodeploy(&cloud, &alice, &stack, &["why", "web:never-pushed"]).await;
    assert!(none.status.success() && stdout(&none).starts_with("nothing was decided about web:never-pushed"));

    let missing = autodeploy(&cloud, &alice, &stack, &["show", "d-000000000000000000000000"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("not found"), "{}", stderr(&missing));
    let bad = autodeploy(&cloud, &alice, &stack, &["show", "nope"]).await;
    assert!(stderr(&bad).contains("is not a deployment id"), "{}", stderr(&bad));
    running.stop().await;
}
