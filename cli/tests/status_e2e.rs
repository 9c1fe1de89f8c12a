//! `autodeploy status` end to end against the local cloud, as an operator
//! runs it: after a good push, every deploy target's service with the image
//! it runs (tag and digest), its revision, the last outcome and healthy
//! targets; one service by name, a mistyped one refused with the close
//! names; a freeze shown with its reason, who and since when.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use autodeploy_local::cloud::sdk_config;
use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use autodeploy_shared::aws::DynamoLocks;
use autodeploy_shared::domain::Freeze;
use autodeploy_shared::ports::ServiceLocks;
use common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_what_runs_how_it_went_and_what_holds_it() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.expect("seeding");
    let alice = cloud.iam_user("alice").await.unwrap();
    let stack = [("AUTODEPLOY_STACK", cloud.stack.name.clone())];

    let pushed = cloud.push("web:v2", "healthy").await.unwrap();
    wait_for(&cloud, 600, || async {
        let rows = json_of(&autodeploy(&cloud, &alice, &stack, &["history", "demo/web", "--output", "json"]).await);
        rows.as_array()?.iter().find(|r| r["tag"] == "v2" && r["status"] == "SUCCEEDED").cloned()
    })
    .await
    .expect("v2 succeeds");

    let o = autodeploy(&cloud, &alice, &stack, &["status", "--output", "json"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc = json_of(&o);
    let [web] = doc.as_array().unwrap().as_slice() else { panic!("one service: {doc:#}") };
    assert_eq!(web["service"], "demo/web");
    assert_eq!(web["targets"][0]["targetId"], "demo-web");
    let running_now = &web["running"];
    let [image] = running_now["images"].as_array().unwrap().as_slice() else { panic!("one container: {web:#}") };
    assert_eq!((image["container"].as_str(), image["repository"].as_str()), (Some("app"), Some("web")));
    assert_eq!((image["tag"].as_str(), image["digest"].as_str()), (Some("v2"), Some(pushed.digest.as_str())));
    let revision = running_now["revision"].as_str().unwrap().to_owned();
    assert!(revision.starts_with("web:") && revision != "web:1", "a new revision: {web:#}");
    assert!(running_now["taskDefinition"].as_str().unwrap().ends_with(&revision), "{web:#}");
    assert!(running_now["since"].as_str().is_some_and(|s| s.ends_with('Z')), "since when: {web:#}");
    assert_eq!(web["lastOutcome"]["status"], "SUCCEEDED");
    assert_eq!(web["lastOutcome"]["tag"], "v2");
    assert_eq!(web["inFlight"], Value::Array(vec![]));
    assert_eq!(web["frozen"], Value::Null);
    assert_eq!(web["error"], Value::Null);
    let [group] = web["targetGroups"].as_array().unwrap().as_slice() else { panic!("one target group: {web:#}") };
    assert_eq!(group["desired"], 4);
    assert_eq!(group["healthy"], group["desired"], "{web:#}");
    assert_eq!(group["name"], "demo-web");

    let o = autodeploy(&cloud, &alice, &stack, &["status"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SERVICE") && lines[0].ends_with("HEALTHY"), "{text}");
    let main: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(main[..3], ["demo/web", "web:v2", revision.as_str()], "{text}");
    assert_eq!(main[5..], ["SUCCEEDED", "4/4"], "{text}");
    assert_eq!(lines[2].trim(), format!("app {}", pushed.digest), "{text}");
    assert!(lines.iter().all(|l| l.chars().count() <= 80), "fits 80 columns: {text}");
    assert!(!text.contains('\u{1b}'), "no colour off a terminal: {text}");

    // One service by name; a mistyped one names the close ones.
    let one = autodeploy(&cloud, &alice, &stack, &["status", "demo/web", "--output", "json"]).await;
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(json_of(&one).as_array().map(Vec::len), Some(1));
    let typo = autodeploy(&cloud, &alice, &stack, &["status", "demo/wbe"]).await;
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        stderr(&typo).contains("demo/wbe") && stderr(&typo).contains("did you mean demo/web?"),
        "{}",
        stderr(&typo)
    );

    // Frozen by a person (as the operator entry point does it): who, why, since when.
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let locks = DynamoLocks::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );
    let alice_arn = format!("arn:aws:iam::{}:user/alice", cloud.stack.account);
    let freeze = Freeze::new("incident 42: payments are down", &alice_arn, chrono::Utc::now()).unwrap();
    locks.freeze("demo/web", &freeze).await.unwrap();
    let doc = json_of(&autodeploy(&cloud, &alice, &stack, &["status", "demo/web", "--output", "json"]).await);
    let frozen = &doc[0]["frozen"];
    assert_eq!(
        (frozen["reason"].as_str(), frozen["by"].as_str()),
        (Some(freeze.reason.as_str()), Some(alice_arn.as_str()))
    );
    assert!(frozen["at"].as_str().is_some(), "{doc:#}");
    let text = stdout(&autodeploy(&cloud, &alice, &stack, &["status", "demo/web"]).await);
    assert!(text.contains(&format!("FROZEN since {} by {alice_arn}", freeze.at.format("%Y-%m-%d %H:%M:%S"))), "{text}");
    assert!(text.contains("    incident 42: payments are down"), "{text}");
    // A push meanwhile is held, and shown with its id below the service.
    cloud.push("web:v3", "healthy").await.unwrap();
    let held = wait_for(&cloud, 600, || async {
        let doc = json_of(&autodeploy(&cloud, &alice, &stack, &["status", "demo/web", "--output", "json"]).await);
        doc[0]["inFlight"].as_array()?.iter().find(|r| r["tag"] == "v3" && r["status"] == "HELD").cloned()
    })
    .await
    .expect("v3 is held");
    let id = held["deploymentId"].as_str().unwrap();
    let text = stdout(&autodeploy(&cloud, &alice, &stack, &["status", "demo/web"]).await);
    let line = text.lines().find(|l| l.contains(id)).unwrap_or_else(|| panic!("{id}: {text}"));
    assert!(line.starts_with("  HELD ") && line.contains("web:v3"), "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.contains("web:v2")), "v2 still runs: {text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "fits 80 columns: {text}");

    // The targets table not named: the variable to set is named.
    let table = [("AUTODEPLOY_DEPLOYMENTS_TABLE", cloud.template.physical_name("DeploymentsTable").unwrap())];
    let untargeted = autodeploy(&cloud, &alice, &table, &["status"]).await;
    assert_eq!(untargeted.status.code(), Some(1));
    assert!(stderr(&untargeted).contains("AUTODEPLOY_TARGETS_TABLE"), "{}", stderr(&untargeted));
    running.stop().await;
}
