"""The published `Deployment State Change` event and its JSON Schema.

Samples of every status validate; broken ones do not; and the schema follows the Rust
types that produce the event (`shared/src/domain/notification.rs`, `status.rs`,
`rollout.rs`), so a field added on one side only fails here.
"""

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "schemas" / "deployment-state-change.schema.json"
DOMAIN = ROOT / "shared" / "src" / "domain"

SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

DIGEST = "sha256:" + "3f" * 32
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web@{DIGEST}"
TERMINAL = {"SUCCEEDED", "NOOP", "ROLLED_BACK", "FAILED", "SUPERSEDED", "REJECTED"}
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/943f017f100becff"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/prod/0b69d5c0d655f3bc"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:{}"

# What the run knows by the time it reaches each status.
EXTRA_BY_STATUS = {
    "PENDING": {},
    "AWAITING_APPROVAL": {
        "approval": {
            "gate": "PIPELINE",
            "requestedAt": "2025-11-24T15:29:03.117Z",
            "expiresAt": "2025-11-25T15:29:03.117Z",
            "onTimeout": "REJECT",
            "endpoint": {"url": "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/", "region": "us-east-1"},
        }
    },
    "QUEUED": {},
    "HELD": {
        "foundBy": "operator",
        "request": {
            "kind": "DEPLOY",
            "by": "arn:aws:iam::123456789012:user/alice",
            "token": "5f0c2a9e4b7d41c8a3e6",
            "reason": "hotfix for the checkout",
        },
    },
    "REGISTERING": {"previousTaskDefinition": TD.format(41)},
    "UPDATING": {"previousTaskDefinition": TD.format(41), "newTaskDefinition": TD.format(42)},
    "WAITING": {
        "previousTaskDefinition": TD.format(41),
        "newTaskDefinition": TD.format(42),
        "ecsDeploymentId": "ecs-svc/1234567890123456789",
        "hookVerdict": {
            "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "hookStatus": "IN_PROGRESS",
            "reason": "healthy (targetgroup/web-green/abc 4/4), no alarm in ALARM; soaking, 270 s of 300 s left",
            "at": "2025-11-24T15:29:03.117Z",
        },
    },
    "ROLLING_BACK": {
        "previousTaskDefinition": TD.format(41),
        "newTaskDefinition": TD.format(42),
        "ecsDeploymentId": "ecs-svc/1234567890123456789",
        "failureReason": "ECS deployment ecs-svc/1234567890123456789 failed: circuit breaker",
    },
    "SUCCEEDED": {
        "previousTaskDefinition": TD.format(41),
        "newTaskDefinition": TD.format(42),
        "ecsDeploymentId": "ecs-svc/1234567890123456789",
        "targetHealth": [
            {
                "targetGroupArn": TG,
                "desiredCount": 2,
                "healthyCount": 2,
                "targets": [
                    {"id": "10.0.1.12", "port": 8080, "state": "healthy", "taskArn": TASK},
                    {"id": "10.0.2.7", "port": 8080, "state": "healthy", "taskArn": TASK + "1"},
                    {"id": "10.0.3.9", "port": 8080, "state": "draining", "reason": "Target.DeregistrationInProgress"},
                ],
            }
        ],
    },
    "NOOP": {"previousTaskDefinition": TD.format(41)},
    "ROLLED_BACK": {
        "previousTaskDefinition": TD.format(41),
        "newTaskDefinition": TD.format(42),
        "ecsDeploymentId": "ecs-svc/9876543210987654321",
        "failureReason": "timed out waiting for ECS deployment ecs-svc/1234567890123456789",
    },
    "FAILED": {
        "previousTaskDefinition": TD.format(41),
        "failureReason": "rollout failed: circuit breaker; rollback failed: service is DRAINING",
    },
    "SUPERSEDED": {"supersededBy": "d-aaaaaaaaaaaaaaaaaaaaaaaa"},
    "REJECTED": {
        "failureReason": "rejected by arn:aws:iam::123456789012:user/alice: freeze",
        "approval": {
            "gate": "ECS_PAUSE_HOOK",
            "requestedAt": "2025-11-24T15:29:03.117Z",
            "onTimeout": "REJECT",
            "hookId": "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw",
            "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "outcome": "REJECTED",
            "decidedBy": "arn:aws:iam::123456789012:user/alice",
            "decidedAt": "2025-11-24T15:31:03.117Z",
            "reason": "freeze",
        },
    },
}


def event(status: str, /, **detail_changes) -> dict:
    """A whole EventBridge event as a rule target receives it."""
    detail = {
        "schemaVersion": "3",
        "deploymentId": "d-0123456789abcdef01234567",
        "status": status,
        "terminal": status in TERMINAL,
        "cluster": "prod",
        "service": "web",
        "repository": "team/web",
        "image": IMAGE,
        "digest": DIGEST,
        "tag": "release-1.4.2",
        "foundBy": "event",
        "detail": f"{status.lower()}: sample",
        "at": "2025-11-24T15:29:03.117Z",
        **EXTRA_BY_STATUS[status],
    }
    detail.update(detail_changes)
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Deployment State Change",
        "source": "ecs-autodeploy",
        "account": "123456789012",
        "time": "2025-11-24T15:29:03Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def errors(doc: dict) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(doc)]


def test_schema_is_valid_draft_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("status", sorted(EXTRA_BY_STATUS))
def test_an_event_of_every_status_validates(status):
    assert errors(event(status)) == []


def test_optional_fields_may_be_absent():
    doc = event("PENDING")
    del doc["detail"]["tag"]
    assert errors(doc) == []


def without(doc: dict, *path: str) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return doc


BAD = {
    "unknown status": event("SUCCEEDED", status="DONE"),
    "missing deploymentId": without(event("SUCCEEDED"), "detail", "deploymentId"),
    "missing at": without(event("SUCCEEDED"), "detail", "at"),
    "extra property in detail": event("SUCCEEDED", deployedBy="someone"),
    "extra property in a target": event(
        "SUCCEEDED",
        targetHealth=[{"targetGroupArn": TG, "desiredCount": 1, "healthyCount": 1, "targets": [{"id": "10.0.0.1", "state": "healthy", "az": "a"}]}],
    ),
    "deployment id not d- + 24 hex": event("SUCCEEDED", deploymentId="d-XYZ"),
    "image not pinned by digest": event("SUCCEEDED", image="team/web:release-1.4.2"),
    "digest not sha256": event("SUCCEEDED", digest="md5:abc"),
    "at without milliseconds": event("SUCCEEDED", at="2025-11-24T15:29:03Z"),
    "at not UTC": event("SUCCEEDED", at="2025-11-24T15:29:03.117+01:00"),
    "terminal not a boolean": event("SUCCEEDED", terminal="true"),
    "healthyCount not an integer": event(
        "SUCCEEDED", targetHealth=[{"targetGroupArn": TG, "desiredCount": 1, "healthyCount": 0.5, "targets": []}]
    ),
    "schemaVersion other than 3": event("SUCCEEDED", schemaVersion="2"),
    "request without who asked": event(
        "HELD", request={k: v for k, v in EXTRA_BY_STATUS["HELD"]["request"].items() if k != "by"}
    ),
    "request of an unknown kind": event("HELD", request={**EXTRA_BY_STATUS["HELD"]["request"], "kind": "SCALE"}),
    "found by someone unknown": event("SUCCEEDED", foundBy="cron"),
    "approval decided by no ARN": event(
        "REJECTED", approval={**EXTRA_BY_STATUS["REJECTED"]["approval"], "decidedBy": "alice"}
    ),
    "hook verdict with an unknown status": event(
        "WAITING", hookVerdict={**EXTRA_BY_STATUS["WAITING"]["hookVerdict"], "hookStatus": "MAYBE"}
    ),
    "approval with an unknown gate": event(
        "AWAITING_APPROVAL", approval={**EXTRA_BY_STATUS["AWAITING_APPROVAL"]["approval"], "gate": "SLACK"}
    ),
    "other source": {**event("SUCCEEDED"), "source": "aws.ecs"},
    "other detail-type": {**event("SUCCEEDED"), "detail-type": "ECS Deployment State Change"},
    "missing detail": without(event("SUCCEEDED"), "detail"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_event_does_not_validate(case):
    assert errors(BAD[case]), f"{case} validated"


# ---------------------------------------------------------------- schema follows the Rust types


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.capitalize() for w in rest)


def rust_struct_fields(path: Path, name: str) -> dict[str, bool]:
    """The serialized fields of `pub struct name` as {camelCaseName: always_present}.

    A field may be absent when it is an `Option` or carries `skip_serializing_if`.
    """
    source = path.read_text()
    match = re.search(r"pub struct " + name + r"\s*\{(.*?)\n\}", source, re.S)
    assert match, f"pub struct {name} not found in {path}"
    fields: dict[str, bool] = {}
    attributes = ""
    for line in match.group(1).splitlines():
        line = line.strip()
        if line.startswith("#["):
            attributes += line
        elif field := re.match(r"pub (\w+):\s*(.+?),?$", line):
            name_, type_ = field.groups()
            fields[camel(name_)] = not (type_.startswith("Option<") or "skip_serializing_if" in attributes)
            attributes = ""
    assert fields, f"no fields parsed from {name}"
    return fields


def required_by_rust(fields: dict[str, bool]) -> set[str]:
    return {f for f, always in fields.items() if always}


def test_detail_has_exactly_the_fields_of_the_rust_event():
    fields = rust_struct_fields(DOMAIN / "notification.rs", "DeploymentStateChange")
    detail = SCHEMA["$defs"]["detail"]
    assert set(detail["properties"]) == set(fields)
    assert set(detail["required"]) == required_by_rust(fields)


@pytest.mark.parametrize(
    "schema_def, struct",
    [("targetGroupHealth", "TargetGroupHealth"), ("target", "TargetView")],
)
def test_target_health_has_exactly_the_fields_of_the_rust_types(schema_def, struct):
    fields = rust_struct_fields(DOMAIN / "rollout.rs", struct)
    definition = SCHEMA["$defs"][schema_def]
    assert set(definition["properties"]) == set(fields)
    assert set(definition["required"]) == required_by_rust(fields)


def test_status_enum_is_the_rust_status_set():
    source = (DOMAIN / "status.rs").read_text()
    as_str = re.search(r"fn as_str\(self\).*?\{(.*?)\n    \}", source, re.S)
    assert as_str, "DeploymentStatus::as_str not found"
    rust = set(re.findall(r'=> "([A-Z_]+)"', as_str.group(1)))
    assert len(rust) == 14
    assert set(SCHEMA["$defs"]["detail"]["properties"]["status"]["enum"]) == rust
    terminal = re.search(r"fn is_terminal\(self\).*?matches!\(self, ([^)]*)\)", source, re.S)
    assert terminal, "DeploymentStatus::is_terminal not found"
    variants = {v.strip() for v in terminal.group(1).split("|")}
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", v).upper() for v in variants}
    assert snake == TERMINAL


def test_source_and_detail_type_are_the_rust_constants():
    source = (DOMAIN / "notification.rs").read_text()
    assert f'EVENT_SOURCE: &str = "{SCHEMA["properties"]["source"]["const"]}"' in source
    assert f'EVENT_DETAIL_TYPE: &str = "{SCHEMA["properties"]["detail-type"]["const"]}"' in source
    assert f'SCHEMA_VERSION: &str = "{SCHEMA["$defs"]["detail"]["properties"]["schemaVersion"]["const"]}"' in source


def test_approval_has_exactly_the_fields_of_the_rust_type():
    fields = rust_struct_fields(DOMAIN / "approval.rs", "Approval")
    definition = SCHEMA["$defs"]["approval"]
    assert set(definition["properties"]) == set(fields)
    assert set(definition["required"]) == required_by_rust(fields)
    endpoint = rust_struct_fields(DOMAIN / "approval.rs", "ApprovalEndpoint")
    assert set(definition["properties"]["endpoint"]["properties"]) == set(endpoint)


def test_request_has_exactly_the_fields_of_the_rust_type():
    fields = rust_struct_fields(DOMAIN / "operator_request.rs", "OperatorRequest")
    definition = SCHEMA["$defs"]["request"]
    assert set(definition["properties"]) == set(fields)
    assert set(definition["required"]) == required_by_rust(fields)


def test_hook_verdict_has_exactly_the_fields_of_the_rust_type():
    fields = rust_struct_fields(DOMAIN / "hook.rs", "HookVerdict")
    definition = SCHEMA["$defs"]["hookVerdict"]
    assert set(definition["properties"]) == set(fields)
    assert set(definition["required"]) == required_by_rust(fields)
