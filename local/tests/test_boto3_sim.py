"""The simulator binary driven by boto3 (botocore parses responses strictly).

Starts `target/debug/autodeploy-local sim --port <free> --manual-clock`, rolls a
service from v1 to v2 with the `ecs` and `elbv2` clients, steps the clock through the
control API, and checks the recorded series never dipped below minimum healthy.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import botocore.exceptions
import botocore.session
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "autodeploy-local"
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_sim(*clock_args):
    """The simulator binary on a free port with `clock_args`; yields its URL, killed afterwards."""
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "-p", "autodeploy-local"], cwd=ROOT, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [str(BINARY), "sim", "--port", str(port), *clock_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_sim/health", timeout=1) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"simulator did not start (exit code {proc.poll()})")
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def sim():
    """The simulator on a manual clock: time moves only when a test advances it."""
    yield from serve_sim("--manual-clock")


def control(url, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def clients(url):
    kw = dict(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return boto3.client("ecs", **kw), boto3.client("elbv2", **kw)


def register(ecs, image):
    td = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "web", "image": image, "essential": True, "portMappings": [{"containerPort": 8080}]}
        ],
        tags=[{"key": "app", "value": "web"}],
    )
    return td["taskDefinition"]["taskDefinitionArn"]


def settle(url, ecs, deployment_id, limit=900):
    """Steps the clock 5 s at a time until the deployment leaves IN_PROGRESS."""
    for _ in range(limit // 5):
        svc = ecs.describe_services(cluster="apps", services=["web"])["services"][0]
        for d in svc["deployments"]:
            if d["id"] == deployment_id and d["rolloutState"] != "IN_PROGRESS":
                return d["rolloutState"], svc
        control(url, "/_sim/clock/advance", {"seconds": 5})
    raise AssertionError(f"{deployment_id} still in progress after {limit} s")


def test_rollout_through_boto3(sim):
    ecs, elbv2 = clients(sim)
    digests = {}
    for tag in ("v1", "v2"):
        digests[tag] = "sha256:" + tag.encode().hex().rjust(64, "0")
        out = control(sim, "/_sim/images", {"image": f"{REPO}:{tag}", "digest": digests[tag], "behavior": "healthy"})
        assert f"{REPO}@{digests[tag]}" in out["registered"]

    ecs.create_cluster(clusterName="apps")
    tg = elbv2.create_target_group(
        Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "15"}]
    )
    td1 = register(ecs, f"{REPO}@{digests['v1']}")
    created = ecs.create_service(
        cluster="apps", serviceName="web", taskDefinition=td1, desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-a"], "assignPublicIp": "DISABLED"}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
        deploymentConfiguration={
            "minimumHealthyPercent": 100, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )["service"]
    state, _ = settle(sim, ecs, created["deployments"][0]["id"])
    assert state == "COMPLETED"

    td2 = register(ecs, f"{REPO}@{digests['v2']}")
    described = ecs.describe_task_definition(taskDefinition=td2, include=["TAGS"])
    assert described["tags"] == [{"key": "app", "value": "web"}]
    start = control(sim, "/_sim/clock")["now"]
    updated = ecs.update_service(cluster="apps", service="web", taskDefinition=td2)["service"]
    primary = updated["deployments"][0]
    assert primary["status"] == "PRIMARY" and primary["rolloutState"] == "IN_PROGRESS"
    assert primary["taskDefinition"] == td2 and primary["id"].startswith("ecs-svc/")
    assert updated["deployments"][1]["status"] == "ACTIVE"

    state, svc = settle(sim, ecs, primary["id"])
    assert state == "COMPLETED"
    assert svc["taskDefinition"] == td2
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert any("has reached a steady state" in e["message"] for e in svc["events"])

    # Old tasks drain for the 15 s delay, then only v2 targets remain, all healthy.
    for _ in range(20):
        health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if len(health) == 2:
            break
        control(sim, "/_sim/clock/advance", {"seconds": 5})
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy", "healthy"]
    arns = ecs.list_tasks(cluster="apps", startedBy=primary["id"])["taskArns"]
    tasks = ecs.describe_tasks(cluster="apps", tasks=arns)["tasks"]
    ips = {d["value"] for t in tasks for d in t["attachments"][0]["details"] if d["name"] == "privateIPv4Address"}
    assert ips == {h["Target"]["Id"] for h in health}
    assert all(t["containers"][0]["image"] == f"{REPO}@{digests['v2']}" for t in tasks)

    series = control(sim, "/_sim/series?cluster=apps&service=web")["samples"]
    during = [s for s in series if s["t"] >= start]
    assert len(during) > 3
    for s in during:
        assert s["healthy"] >= s["minHealthy"], s
        assert s["alive"] <= s["maxAllowed"], s

    events = control(sim, "/_sim/events")["events"]
    names = [e["detail"].get("eventName") for e in events if e["detail-type"] == "ECS Deployment State Change"
             and e["detail"]["deploymentId"] == primary["id"]]
    assert names == ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"]

    # ECS's own record of both rollouts, as botocore parses it.
    listed = ecs.list_service_deployments(cluster="apps", service="web")["serviceDeployments"]
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert svc["currentServiceDeployment"] == listed[0]["serviceDeploymentArn"]
    full = ecs.describe_service_deployments(serviceDeploymentArns=[listed[0]["serviceDeploymentArn"]])
    update = full["serviceDeployments"][0]
    assert update["finishedAt"] >= update["startedAt"] >= update["createdAt"]
    assert update["sourceServiceRevisions"][0]["arn"] == listed[1]["targetServiceRevisionArn"]
    assert update["deploymentCircuitBreaker"]["status"] == "MONITORING_COMPLETE"
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[update["targetServiceRevision"]["arn"]])
    revision = revisions["serviceRevisions"][0]
    assert revision["taskDefinition"] == td2
    assert revision["containerImages"] == [{"containerName": "web", "image": f"{REPO}@{digests['v2']}", "imageDigest": digests["v2"]}]
    with pytest.raises(ecs.exceptions.ConflictException):
        ecs.stop_service_deployment(serviceDeploymentArn=listed[0]["serviceDeploymentArn"], stopType="ROLLBACK")

    with pytest.raises(botocore.exceptions.ClientError) as err:
        ecs.describe_services(cluster="nope", services=["web"])
    assert err.value.response["Error"]["Code"] == "ClusterNotFoundException"
    with pytest.raises(elbv2.exceptions.TargetGroupNotFoundException):
        elbv2.describe_target_health(TargetGroupArn=tg.replace("web-tg", "other"))


def unknown_elements(url, operation, **params):
    """Element paths of `operation`'s raw XML response that botocore's output shape does not
    name (the parser would silently drop them)."""
    model = botocore.session.get_session().get_service_model("elbv2")
    op = model.operation_model(operation)
    body = urllib.parse.urlencode({"Action": operation, "Version": "2015-12-01", **params}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as r:
        root = ET.fromstring(r.read())
    ns = "{http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/}"
    result = root.find(f"{ns}{operation}Result")
    unknown = []

    def walk(el, shape, path):
        for child in el:
            name = child.tag.removeprefix(ns)
            if shape.type_name == "list":
                walk(child, shape.member, f"{path}/{name}") if name == "member" else unknown.append(f"{path}/{name}")
            elif shape.type_name == "structure":
                if name not in shape.members:
                    unknown.append(f"{path}/{name}")
                else:
                    walk(child, shape.members[name], f"{path}/{name}")

    walk(result, op.output_shape, operation)
    return unknown


def test_listeners_and_weighted_rules_through_boto3(sim):
    _, elbv2 = clients(sim)
    blue, green = (
        elbv2.create_target_group(Name=n, Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip")[
            "TargetGroups"][0]["TargetGroupArn"]
        for n in ("blue", "green")
    )
    lb = elbv2.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"], SecurityGroups=["sg-1"])[
        "LoadBalancers"][0]
    assert lb["State"] == {"Code": "active"} and lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert lb["DNSName"].startswith("web-") and lb["DNSName"].endswith(".us-east-1.elb.amazonaws.com")
    assert [z["SubnetId"] for z in lb["AvailabilityZones"]] == ["subnet-a", "subnet-b"]
    lb_arn = lb["LoadBalancerArn"]

    listener = elbv2.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}],
    )["Listeners"][0]
    listener_arn = listener["ListenerArn"]
    assert listener["DefaultActions"][0]["ForwardConfig"] == {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}],
        "TargetGroupStickinessConfig": {"Enabled": False},
    }
    rule = elbv2.create_rule(
        ListenerArn=listener_arn, Priority=10,
        Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["true"]}},
                    {"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": green}],
    )["Rules"][0]
    assert rule["Actions"] == [{
        "Type": "forward", "TargetGroupArn": green,
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": green, "Weight": 1}],
                          "TargetGroupStickinessConfig": {"Enabled": False}},
    }]
    assert rule["Conditions"] == [
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["true"]}},
        {"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}},
    ]

    rules = elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
    assert [(r["Priority"], r["IsDefault"]) for r in rules] == [("10", False), ("default", True)]
    assert rules[1]["Conditions"] == [] and rules[1]["Actions"] == listener["DefaultActions"]

    modified = elbv2.modify_rule(RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}])["Rules"][0]
    forward = modified["Actions"][0]
    assert "TargetGroupArn" not in forward
    assert [t["Weight"] for t in forward["ForwardConfig"]["TargetGroups"]] == [90, 10]
    assert forward["ForwardConfig"]["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 300}
    groups = elbv2.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"]
    assert sorted(g["TargetGroupArn"] for g in groups) == sorted([blue, green])
    assert all(g["LoadBalancerArns"] == [lb_arn] for g in groups)

    state = control(sim, "/_sim/state")["loadBalancers"][0]
    assert state["listeners"][0]["rules"][0]["forward"] == [
        {"targetGroupArn": blue, "weight": 90}, {"targetGroupArn": green, "weight": 10}]

    for op, params in [
        ("DescribeLoadBalancers", {"LoadBalancerArns.member.1": lb_arn}),
        ("DescribeListeners", {"LoadBalancerArn": lb_arn}),
        ("DescribeRules", {"ListenerArn": listener_arn}),
        ("DescribeTargetGroups", {"LoadBalancerArn": lb_arn}),
    ]:
        assert unknown_elements(sim, op, **params) == [], op

    with pytest.raises(elbv2.exceptions.PriorityInUseException):
        elbv2.create_rule(ListenerArn=listener_arn, Priority=10, Conditions=rule["Conditions"][1:],
                          Actions=[{"Type": "forward", "TargetGroupArn": blue}])
    with pytest.raises(elbv2.exceptions.OperationNotPermittedException):
        elbv2.delete_rule(RuleArn=rules[1]["RuleArn"])
    with pytest.raises(elbv2.exceptions.TargetGroupNotFoundException):
        elbv2.modify_listener(ListenerArn=listener_arn, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": blue.replace("/blue/", "/ghost/")}])
    with pytest.raises(botocore.exceptions.ClientError) as err:
        elbv2.modify_rule(RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": blue, "Weight": 1000}]}}])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    elbv2.delete_rule(RuleArn=rule["RuleArn"])
    with pytest.raises(elbv2.exceptions.RuleNotFoundException):
        elbv2.describe_rules(RuleArns=[rule["RuleArn"]])
    elbv2.delete_load_balancer(LoadBalancerArn=lb_arn)
    with pytest.raises(elbv2.exceptions.ListenerNotFoundException):
        elbv2.describe_listeners(ListenerArns=[listener_arn])


def test_blue_green_service_through_boto3(sim):
    """A BLUE_GREEN service created, updated and described through boto3: botocore checks
    the request shapes and parses lifecycleStage, the traffic weights and resolvedConfiguration."""
    ecs, elbv2 = clients(sim)
    for tag in ("v1", "v2"):
        control(sim, "/_sim/images", {"image": f"{REPO}:{tag}", "behavior": "healthy"})
    ecs.create_cluster(clusterName="apps")
    blue, green = (
        elbv2.create_target_group(
            Name=n, Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
            UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        for n in ("blue", "green")
    )
    for tg in (blue, green):
        elbv2.modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}]
        )
    lb_arn = elbv2.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0][
        "LoadBalancerArn"]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]
    forward = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}]
    test_rule = elbv2.create_rule(
        ListenerArn=listener, Priority=5, Actions=forward,
        Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Test", "Values": ["1"]}}],
    )["Rules"][0]["RuleArn"]
    production = elbv2.create_rule(
        ListenerArn=listener, Priority=10, Actions=forward, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
    )["Rules"][0]["RuleArn"]
    advanced = {"alternateTargetGroupArn": green, "productionListenerRule": production,
                "testListenerRule": test_rule, "roleArn": "arn:aws:iam::123456789012:role/ecs-elb"}
    config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
              "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    created = ecs.create_service(
        cluster="apps", serviceName="web", taskDefinition=register(ecs, f"{REPO}:v1"), desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-a"]}},
        loadBalancers=[{"targetGroupArn": blue, "containerName": "web", "containerPort": 8080,
                        "advancedConfiguration": advanced}],
        deploymentConfiguration=config,
    )["service"]
    assert created["loadBalancers"][0]["advancedConfiguration"] == advanced
    assert created["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert created["deploymentConfiguration"]["bakeTimeInMinutes"] == 1

    def newest():
        arn = ecs.list_service_deployments(cluster="apps", service="web")["serviceDeployments"][0][
            "serviceDeploymentArn"]
        return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]

    def follow():
        stages = []
        for _ in range(600):
            sd = newest()
            if not stages or stages[-1] != sd["lifecycleStage"]:
                stages.append(sd["lifecycleStage"])
            if sd["status"] != "IN_PROGRESS":
                return sd, stages
            control(sim, "/_sim/clock/advance", {"seconds": 1})
        raise AssertionError("the deployment did not finish")

    first, _ = follow()
    assert first["status"] == "SUCCESSFUL"
    def weights():
        forward = elbv2.describe_rules(RuleArns=[production])["Rules"][0]["Actions"][0]["ForwardConfig"]
        return {t["TargetGroupArn"]: t["Weight"] for t in forward["TargetGroups"]}

    # The first deployment had nothing to keep serving: it came up where production went.
    assert weights() == {blue: 100, green: 0}

    start = control(sim, "/_sim/clock")["now"]
    ecs.update_service(cluster="apps", service="web", taskDefinition=register(ecs, f"{REPO}:v2"))
    control(sim, "/_sim/clock/advance", {"seconds": 5})
    during = newest()
    assert during["lifecycleStage"] == "SCALE_UP"
    assert during["status"] == "IN_PROGRESS" and during["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert during["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    assert during["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 100.0
    done, stages = follow()
    assert done["status"] == "SUCCESSFUL", done
    assert stages[-3:] == ["POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"], stages
    assert done["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert done["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
    revision = ecs.describe_service_revisions(serviceRevisionArns=[done["targetServiceRevision"]["arn"]])[
        "serviceRevisions"][0]
    assert revision["resolvedConfiguration"]["loadBalancers"] == [
        {"targetGroupArn": green, "productionListenerRule": production}]
    assert weights() == {blue: 0, green: 100}
    svc = ecs.describe_services(cluster="apps", services=["web"])["services"][0]
    assert [(d["status"], d["rolloutState"]) for d in svc["deployments"]] == [("PRIMARY", "COMPLETED")]
    assert svc["loadBalancers"][0]["targetGroupArn"] == blue

    series = control(sim, "/_sim/series?cluster=apps&service=web")["samples"]
    assert any(s.get("lifecycleStage") == "BAKE_TIME" for s in series)
    for s in (s for s in series if s["t"] >= start):
        for v in s["versions"]:
            assert v["productionTraffic"] == 0 or v["healthy"] > 0, s

    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.update_service(cluster="apps", service="web", deploymentConfiguration={"bakeTimeInMinutes": 2000})
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.update_service(cluster="apps", service="web", loadBalancers=[
            {"targetGroupArn": blue, "containerName": "web", "containerPort": 8080}])

    # A PAUSE hook at POST_TEST_TRAFFIC_SHIFT: the deployment waits, AWAITING_ACTION, until
    # continue_service_deployment (botocore checks the request and the hook details' shapes).
    hook = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 10, "action": "ROLLBACK"}}
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.update_service(cluster="apps", service="web", deploymentConfiguration={
            "lifecycleHooks": [dict(hook, lifecycleStages=["PRODUCTION_TRAFFIC_SHIFT"])]})
    ecs.update_service(cluster="apps", service="web", taskDefinition=register(ecs, f"{REPO}:v1"),
                       deploymentConfiguration={"lifecycleHooks": [hook]})
    for _ in range(600):
        paused = newest()
        details = paused.get("lifecycleHookDetails", [])
        if details and details[0]["status"] == "AWAITING_ACTION":
            break
        control(sim, "/_sim/clock/advance", {"seconds": 1})
    else:
        raise AssertionError("the deployment did not pause")
    assert paused["status"] == "IN_PROGRESS" and paused["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    detail = details[0]
    assert detail["hookId"].startswith("ecs-pause-") and detail["targetType"] == "PAUSE"
    assert detail["timeoutAction"] == "ROLLBACK" and "targetArn" not in detail
    assert detail["expiresAt"].timestamp() > control(sim, "/_sim/clock")["now"]
    assert paused["deploymentConfiguration"]["lifecycleHooks"] == [hook]
    with pytest.raises(ecs.exceptions.ServiceDeploymentNotFoundException):
        ecs.continue_service_deployment(
            serviceDeploymentArn=paused["serviceDeploymentArn"] + "x", hookId=detail["hookId"])
    out = ecs.continue_service_deployment(
        serviceDeploymentArn=paused["serviceDeploymentArn"], hookId=detail["hookId"], action="CONTINUE")
    assert out["serviceDeploymentArn"] == paused["serviceDeploymentArn"]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.continue_service_deployment(serviceDeploymentArn=paused["serviceDeploymentArn"], hookId=detail["hookId"])
    done, _ = follow()
    assert done["status"] == "SUCCESSFUL", done


@pytest.fixture
def running_sim():
    """The simulator on a running clock (60 simulated seconds a second), for clients that poll."""
    yield from serve_sim("--speed", "60")


def test_fabfuel_ecs_deploy_runs_unmodified(running_sim):
    """`ecs deploy` (pip ecs-deploy) reads the members ECS fills in (volumes, portMappings, …)
    without checking: it must find them, then roll the service and wait until it is done."""
    ecs, elbv2 = clients(running_sim)
    images = {}
    for tag in ("v1", "v2"):
        digest = "sha256:" + tag.encode().hex().rjust(64, "0")
        control(running_sim, "/_sim/images", {"image": f"{REPO}:{tag}", "digest": digest, "behavior": "healthy"})
        images[tag] = f"{REPO}@{digest}"
    ecs.create_cluster(clusterName="apps")
    tg = elbv2.create_target_group(
        Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    ecs.create_service(
        cluster="apps", serviceName="web", taskDefinition=register(ecs, images["v1"]), desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-a"]}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
    )
    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert described["volumes"] == [] and described["placementConstraints"] == []
    web = described["containerDefinitions"][0]
    assert (web["environment"], web["mountPoints"], web["volumesFrom"], web["essential"]) == ([], [], [], True)

    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": running_sim, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
    }
    ecs_deploy = Path(sys.executable).parent / "ecs"
    done = subprocess.run(
        [str(ecs_deploy), "deploy", "apps", "web", "--image", "web", images["v2"], "--timeout", "120"],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Deployment successful" in done.stdout, done.stdout
    svc = ecs.describe_services(cluster="apps", services=["web"])["services"][0]
    rolled = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    assert rolled["containerDefinitions"][0]["image"] == images["v2"]
    assert len(svc["deployments"]) == 1 and svc["deployments"][0]["rolloutState"] == "COMPLETED"
