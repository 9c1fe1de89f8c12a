"""The local cloud from the outside, as a user drives it: `autodeploy-local up`,
the AWS SDK (boto3) pointed at its endpoint, `autodeploy-local push`.

A subscriber's SQS queue on the stack's EventBridge bus receives every
`Deployment State Change`, each valid against the published JSON Schema; an SQS
queue subscribed to the SNS topic receives the human message of the outcome.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import boto3
import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
BINARY = TARGET / "debug" / "autodeploy-local"
SCHEMA = json.loads((ROOT / "schemas" / "deployment-state-change.schema.json").read_text())
STACK = "ecs-autodeploy-local"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cloud():
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "-p", "autodeploy-local"], cwd=ROOT, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [str(BINARY), "up", "--port", str(port), "--seed-demo", "--speed", "20",
         "--parameter", "PollIntervalSeconds=10", "--parameter", "CoalesceSeconds=1", "--repo", str(ROOT)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "listening on" not in line:
            line = proc.stdout.readline()
            if not line and (proc.poll() is not None or time.monotonic() > deadline):
                raise RuntimeError(f"local cloud did not start (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def client(endpoint, name):
    return boto3.client(name, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def drain(sqs, url, want, timeout=60):
    """Messages from the queue until `want(messages)` or the timeout."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want(got):
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in out.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_a_subscriber_hears_every_step_in_the_documented_shape(cloud):
    sqs, events, sns = client(cloud, "sqs"), client(cloud, "events"), client(cloud, "sns")
    bus = f"{STACK}-deployments"
    q = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="to-subscriber", EventBusName=bus, EventPattern=json.dumps({"source": ["ecs-autodeploy"]}))
    events.put_targets(Rule="to-subscriber", EventBusName=bus, Targets=[{"Id": "q", "Arn": q_arn}])
    people = sqs.create_queue(QueueName="people")["QueueUrl"]
    people_arn = sqs.get_queue_attributes(QueueUrl=people, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "NotificationTopic" in t["TopicArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=people_arn)

    subprocess.run([str(BINARY), "push", "web:v2", "--behavior", "healthy", "--endpoint", cloud],
                   check=True, capture_output=True)

    terminal = lambda got: any(m.get("detail", {}).get("terminal") for m in got)  # noqa: E731
    got = drain(sqs, q, terminal)
    assert got, "no notification arrived"
    for m in got:
        jsonschema.validate(m, SCHEMA)
    statuses = [m["detail"]["status"] for m in got]
    assert statuses == ["PENDING", "REGISTERING", "UPDATING", "WAITING", "SUCCEEDED"], statuses
    final = got[-1]["detail"]
    assert final["service"] == "web" and final["tag"] == "v2"
    assert final["image"].endswith("@" + final["digest"]), "deployed pinned by digest"
    assert final["targetHealth"][0]["healthyCount"] == 4

    mail = drain(sqs, people, lambda g: len(g) >= 1)
    assert len(mail) == 1, mail
    assert "deployed to demo/web" in mail[0]["Subject"]
    assert "SUCCEEDED" in mail[0]["Message"]

    # The record the table keeps says the same.
    ddb = client(cloud, "dynamodb")
    items = [i for i in ddb.scan(TableName=f"{STACK}-DeploymentsTable")["Items"] if i["deploymentId"]["S"].startswith("d-")]
    assert len(items) == 1
    assert items[0]["status"]["S"] == "SUCCEEDED"
    assert [e["M"]["state"]["S"] for e in items[0]["timeline"]["L"]] == statuses
