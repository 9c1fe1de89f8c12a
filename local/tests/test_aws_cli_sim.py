"""The AWS CLI (`aws ecs …`, its own botocore) against the simulator, unmodified:
what a team that deploys by hand, or with `update-service` + `wait services-stable`,
runs. The CLI validates every request and parses every response against its model."""

import json
import os
import subprocess
import sys
from pathlib import Path

from test_boto3_sim import REPO, clients, control, register, running_sim  # noqa: F401  (fixture)

AWS = Path(sys.executable).parent / "aws"


def aws(url, *args, timeout=180):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    done = subprocess.run([str(AWS), *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stdout}{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli_updates_waits_and_reads_the_service_deployment(running_sim):
    ecs, elbv2 = clients(running_sim)
    images = {}
    for tag in ("v1", "v2"):
        digest = "sha256:" + tag.encode().hex().rjust(64, "0")
        control(running_sim, "/_sim/images", {"image": f"{REPO}:{tag}", "digest": digest, "behavior": "healthy"})
        images[tag] = f"{REPO}@{digest}"
    aws(running_sim, "ecs", "create-cluster", "--cluster-name", "apps")
    tg = elbv2.create_target_group(
        Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    v1 = register(ecs, images["v1"])
    aws(
        running_sim, "ecs", "create-service", "--cluster", "apps", "--service-name", "web",
        "--task-definition", v1, "--desired-count", "2", "--launch-type", "FARGATE",
        "--network-configuration", "awsvpcConfiguration={subnets=[subnet-a]}",
        "--load-balancers", f"targetGroupArn={tg},containerName=web,containerPort=8080",
    )
    aws(running_sim, "ecs", "wait", "services-stable", "--cluster", "apps", "--services", "web")

    v2 = register(ecs, images["v2"])
    updated = aws(running_sim, "ecs", "update-service", "--cluster", "apps", "--service", "web", "--task-definition", v2)
    ours = next(d["id"] for d in updated["service"]["deployments"] if d["status"] == "PRIMARY")
    aws(running_sim, "ecs", "wait", "services-stable", "--cluster", "apps", "--services", "web")

    described = aws(running_sim, "ecs", "describe-services", "--cluster", "apps", "--services", "web")["services"][0]
    assert described["taskDefinition"] == v2
    assert [d["rolloutState"] for d in described["deployments"]] == ["COMPLETED"]
    listed = aws(running_sim, "ecs", "list-service-deployments", "--cluster", "apps", "--service", "web")
    newest = listed["serviceDeployments"][0]
    assert newest["status"] == "SUCCESSFUL"
    assert newest["targetServiceRevisionArn"].rsplit("/", 1)[1] == ours.removeprefix("ecs-svc/")
    sd = aws(
        running_sim, "ecs", "describe-service-deployments", "--service-deployment-arns", newest["serviceDeploymentArn"]
    )["serviceDeployments"][0]
    assert sd["targetServiceRevision"]["runningTaskCount"] == 2
    revision = aws(
        running_sim, "ecs", "describe-service-revisions", "--service-revision-arns", newest["targetServiceRevisionArn"]
    )["serviceRevisions"][0]
    assert revision["taskDefinition"] == v2
    assert revision["containerImages"][0]["image"] == images["v2"]
