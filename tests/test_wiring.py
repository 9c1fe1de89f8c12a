"""The wiring between template.yaml, the state machine and the Rust crates.

Each test states one thing that breaks a deployment when it drifts: a substitution the
ASL uses but the template does not fill, a crate the template builds that does not exist,
an environment variable a function reads but is not given, an error name the ASL matches
but no function reports, an IAM action a function needs but does not have, a trigger that
stops matching the events it is for. No test skips: a missing crate is a failure.
"""

import copy
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
ASL_PATH = ROOT / "statemachine" / "deploy.asl.json"
FIXTURES = ROOT / "tests" / "fixtures" / "aws-events"
SHARED = ROOT / "shared" / "src"


# ---------------------------------------------------------------- loading


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags as their long forms."""


def _cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise ValueError(f"duplicate keys: {sorted(duplicates)}")
    return dict(pairs)


TEMPLATE = yaml.load(TEMPLATE_PATH.read_text(), Loader=CfnLoader)
RESOURCES = TEMPLATE["Resources"]
GLOBAL_FUNCTION = TEMPLATE.get("Globals", {}).get("Function", {})
# Duplicate state names would silently collapse in a plain json.load.
ASL = json.loads(ASL_PATH.read_text(), object_pairs_hook=_unique_keys)
STATES = ASL["States"]


def resources_of(type_: str) -> dict:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == type_}


def function_property(logical_id: str, name: str):
    """A function property as deployed: the function's own, else the Globals one."""
    props = RESOURCES[logical_id]["Properties"]
    if name in props:
        if isinstance(props[name], dict) and isinstance(GLOBAL_FUNCTION.get(name), dict):
            return {**GLOBAL_FUNCTION[name], **props[name]}  # SAM merges maps
        return props[name]
    return GLOBAL_FUNCTION.get(name)


# ---------------------------------------------------------------- the contract

CONTRACT = {
    "OnImagePushFunction": {
        "binary": "on-image-push",
        "env": {
            "TARGETS_TABLE", "DEPLOYMENTS_TABLE", "DECISIONS_TABLE", "STATE_MACHINE_ARN", "EVENT_BUS_NAME",
            "NOTIFICATION_TOPIC_ARN", "COALESCE_SECONDS", "STACK_ACCOUNT_ID", "STACK_REGION",
        },
        "actions": {
            "dynamodb:Query", "dynamodb:PutItem", "dynamodb:GetItem", "ecr:DescribeImages",
            "states:StartExecution", "states:DescribeExecution", "events:PutEvents", "sns:Publish",
        },
        "timeout": 30,
    },
    "ReconcileFunction": {
        "binary": "reconcile",
        "env": {
            "TARGETS_TABLE", "DEPLOYMENTS_TABLE", "DECISIONS_TABLE", "STATE_MACHINE_ARN", "EVENT_BUS_NAME",
            "NOTIFICATION_TOPIC_ARN", "COALESCE_SECONDS", "STACK_ACCOUNT_ID", "STACK_REGION",
        },
        "actions": {
            "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:GetItem", "ecr:DescribeImages",
            "states:StartExecution", "states:DescribeExecution", "events:PutEvents", "sns:Publish",
        },
        "timeout": 120,
    },
    "ClaimServiceFunction": {
        "binary": "claim-service",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "POLL_INTERVAL_SECONDS"},
        "actions": {
            "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "events:PutEvents", "sns:Publish",
            "states:SendTaskSuccess", "states:DescribeExecution",
        },
        "timeout": 30,
    },
    "AwaitServiceFunction": {
        "binary": "await-service",
        "env": {"DEPLOYMENTS_TABLE"},
        "actions": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "timeout": 30,
    },
    "RegisterRevisionFunction": {
        "binary": "register-revision",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN"},
        "actions": {
            "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:TagResource",
            "ecs:ListTaskDefinitions", "iam:PassRole", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "events:PutEvents",
            "sns:Publish", "states:SendTaskSuccess",
        },
        "timeout": 30,
    },
    "UpdateServiceFunction": {
        "binary": "update-service",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "ROLLOUT_TIMEOUT_SECONDS", "POLL_INTERVAL_SECONDS"},
        "actions": {
            "ecs:UpdateService", "ecs:DescribeServices", "ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", "dynamodb:GetItem",
            "dynamodb:UpdateItem", "events:PutEvents", "sns:Publish",
        },
        "timeout": 30,
    },
    "AwaitRolloutFunction": {
        "binary": "await-rollout",
        "env": {"DEPLOYMENTS_TABLE", "POLL_INTERVAL_SECONDS"},
        "actions": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "timeout": 30,
    },
    "CheckRolloutFunction": {
        "binary": "check-rollout",
        "env": {
            "DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "POLL_INTERVAL_SECONDS", "APPROVAL_URL",
            "STACK_REGION",
        },
        "actions": {
            "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", 
            "elasticloadbalancing:DescribeTargetHealth", "cloudwatch:DescribeAlarms", "dynamodb:GetItem",
            "dynamodb:UpdateItem", "events:PutEvents", "sns:Publish",
        },
        "timeout": 60,
    },
    "RollBackFunction": {
        "binary": "roll-back",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "ROLLBACK_TIMEOUT_SECONDS", "POLL_INTERVAL_SECONDS"},
        "actions": {
            "ecs:DescribeServices", "ecs:UpdateService", "ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", "ecs:StopServiceDeployment",
            "dynamodb:GetItem", "dynamodb:UpdateItem", "events:PutEvents", "sns:Publish",
        },
        "timeout": 30,
    },
    "RecordOutcomeFunction": {
        "binary": "record-outcome",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN"},
        "actions": {
            "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "events:PutEvents", "sns:Publish",
            "states:SendTaskSuccess",
        },
        "timeout": 30,
    },
    "VerifyHookFunction": {
        "binary": "verify-hook",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN"},
        "actions": {
            "ecs:DescribeServiceDeployments", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks",
            "elasticloadbalancing:DescribeTargetHealth", "cloudwatch:DescribeAlarms", "dynamodb:Query",
            "dynamodb:GetItem", "dynamodb:UpdateItem", "events:PutEvents", "sns:Publish",
        },
        "timeout": 60,
    },
    "RequestApprovalFunction": {
        "binary": "request-approval",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "APPROVAL_URL", "STACK_REGION"},
        "actions": {
            "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "ecs:DescribeServices",
            "events:PutEvents", "sns:Publish", "states:SendTaskSuccess",
        },
        "timeout": 30,
    },
    "DecideApprovalFunction": {
        "binary": "decide-approval",
        "env": {"DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN"},
        "actions": {
            "dynamodb:GetItem", "dynamodb:UpdateItem", "ecs:DescribeServiceDeployments",
            "ecs:ContinueServiceDeployment", "events:PutEvents", "sns:Publish", "states:SendTaskSuccess",
        },
        "timeout": 30,
    },
    "OperateFunction": {
        "binary": "operate",
        "env": {
            "TARGETS_TABLE", "DEPLOYMENTS_TABLE", "DECISIONS_TABLE", "STATE_MACHINE_ARN", "EVENT_BUS_NAME",
            "NOTIFICATION_TOPIC_ARN", "COALESCE_SECONDS", "STACK_ACCOUNT_ID", "STACK_REGION",
        },
        "actions": {
            "dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
            "ecr:DescribeImages", "ecs:DescribeServices", "states:StartExecution", "states:DescribeExecution", "states:SendTaskSuccess",
            "events:PutEvents", "sns:Publish",
        },
        "timeout": 30,
    },
    "OnEcsEventFunction": {
        "binary": "on-ecs-event",
        "env": {
            "DEPLOYMENTS_TABLE", "EVENT_BUS_NAME", "NOTIFICATION_TOPIC_ARN", "APPROVAL_URL", "STACK_REGION",
        },
        "actions": {
            "dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem",
            "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", 
            "elasticloadbalancing:DescribeTargetHealth", "cloudwatch:DescribeAlarms", "states:SendTaskSuccess",
            "events:PutEvents", "sns:Publish",
        },
        "timeout": 60,
    },
}

# What each environment variable must point at.
ENV_VALUES = {
    "TARGETS_TABLE": {"Ref": "TargetsTable"},
    "DEPLOYMENTS_TABLE": {"Ref": "DeploymentsTable"},
    "DECISIONS_TABLE": {"Ref": "DecisionsTable"},
    "STATE_MACHINE_ARN": {"Ref": "DeployStateMachine"},
    "EVENT_BUS_NAME": {"Ref": "DeploymentEventBus"},
    "NOTIFICATION_TOPIC_ARN": {"Ref": "NotificationTopic"},
    "ROLLOUT_TIMEOUT_SECONDS": {"Ref": "RolloutTimeoutSeconds"},
    "ROLLBACK_TIMEOUT_SECONDS": {"Ref": "RollbackTimeoutSeconds"},
    "POLL_INTERVAL_SECONDS": {"Ref": "PollIntervalSeconds"},
    "COALESCE_SECONDS": {"Ref": "CoalesceSeconds"},
    "STACK_ACCOUNT_ID": {"Ref": "AWS::AccountId"},
    "STACK_REGION": {"Ref": "AWS::Region"},
    "APPROVAL_URL": {"Fn::GetAtt": ["DecideApprovalFunctionUrl", "FunctionUrl"]},
}

# Actions whose Resource may be "*": they support no useful resource-level scoping.
UNSCOPABLE = {
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:ListTasks",  # scoped by the ecs:cluster condition instead
    "elasticloadbalancing:DescribeTargetHealth",
    "states:SendTaskSuccess",  # task tokens name no resource
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}

CLUSTER_SCOPED = {
    "ecs:DescribeServices", "ecs:UpdateService", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", "ecs:StopServiceDeployment",
    "ecs:ContinueServiceDeployment",
}

PATTERNS = {
    ("OnImagePushFunction", "ImagePushed"): {
        "source": ["aws.ecr"],
        "detail-type": ["ECR Image Action"],
        "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"]},
    },
    ("OnEcsEventFunction", "DeploymentStateChanged"): {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
        "detail": {"eventName": ["SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED"]},
    },
    ("OnEcsEventFunction", "ServiceActionReported"): {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Service Action"],
        "detail": {"eventName": ["SERVICE_STEADY_STATE", "SERVICE_TASK_START_IMPAIRED"]},
    },
    ("OnEcsEventFunction", "HookStateChanged"): {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Hook State Change"],
    },
    ("OnEcsEventFunction", "TargetAlarmRaised"): {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {
            "state": {"value": ["ALARM"]},
            "configuration": {"metrics": {"metricStat": {"metric": {"namespace": ["AWS/ApplicationELB", "AWS/NetworkELB"]}}}},
        },
    },
}


# ---------------------------------------------------------------- references

PSEUDO = {
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
    "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}


def sam_generated() -> set[str]:
    """Logical IDs the SAM transform adds and a template may refer to."""
    ids = set()
    for fn, resource in resources_of("AWS::Serverless::Function").items():
        ids.add(fn + "Role")
        ids |= {fn + event for event in resource["Properties"].get("Events", {})}
        if "FunctionUrlConfig" in resource["Properties"]:
            ids.add(fn + "Url")
    ids |= {sm + "Role" for sm in resources_of("AWS::Serverless::StateMachine")}
    return ids


def references(node):
    """(kind, name) of every Ref, GetAtt, Sub variable and Fn::If condition under node."""
    if isinstance(node, list):
        for item in node:
            yield from references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield "Ref", value
            elif key == "Fn::GetAtt":
                yield "GetAtt", value[0]
            elif key == "Fn::If":
                yield "Condition", value[0]
                yield from references(value[1:])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                yield from references(variables)
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if name not in variables:
                        yield "Sub", name.split(".")[0]
            else:
                yield from references(value)


def test_every_reference_resolves():
    """cfn-lint checks SAM resources against SAM's schema without transforming them and
    does not resolve Refs in their environment or inline policies: this test does."""
    known = set(TEMPLATE.get("Parameters", {})) | set(RESOURCES) | PSEUDO | sam_generated()
    conditions = set(TEMPLATE.get("Conditions", {}))
    dangling = []
    for section in ("Resources", "Outputs", "Conditions"):
        for kind, name in references(TEMPLATE.get(section, {})):
            if (kind == "Condition" and name not in conditions) or (kind != "Condition" and name not in known):
                dangling.append(f"{section}: {kind} {name}")
    for logical_id, resource in RESOURCES.items():
        if "Condition" in resource and resource["Condition"] not in conditions:
            dangling.append(f"{logical_id}: Condition {resource['Condition']}")
    assert dangling == []


# ---------------------------------------------------------------- functions and crates


def test_the_template_deploys_exactly_the_contract_functions():
    assert set(resources_of("AWS::Serverless::Function")) == set(CONTRACT)


FUNCTIONS_MANIFEST = ROOT / "functions" / "Cargo.toml"


def function_bins() -> dict[str, str]:
    """The binaries of the functions crate: name -> source path."""
    cargo = tomllib.loads(FUNCTIONS_MANIFEST.read_text())
    return {b["name"]: b["path"] for b in cargo.get("bin", [])}


@pytest.mark.parametrize("fn", sorted(CONTRACT))
def test_function_builds_its_binary_for_lambda_arm64(fn):
    resource = RESOURCES[fn]
    binary = CONTRACT[fn]["binary"]
    assert resource["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert resource["Metadata"]["BuildProperties"]["Binary"] == binary
    assert function_property(fn, "CodeUri") == ".", "CodeUri is the Cargo workspace root"
    assert function_property(fn, "Runtime") == "provided.al2023"
    assert function_property(fn, "Architectures") == ["arm64"]
    assert function_property(fn, "Handler") == "bootstrap"
    assert function_property(fn, "MemorySize") == 128
    assert function_property(fn, "Timeout") == CONTRACT[fn]["timeout"]

    bins = function_bins()
    assert binary in bins, f"{FUNCTIONS_MANIFEST.relative_to(ROOT)} builds {sorted(bins)}, not {binary!r}"
    assert (FUNCTIONS_MANIFEST.parent / bins[binary]).is_file()


def test_every_function_binary_is_deployed():
    deployed = {c["binary"] for c in CONTRACT.values()}
    assert set(function_bins()) == deployed


@pytest.mark.parametrize("fn", sorted(CONTRACT))
def test_function_environment_is_the_contract(fn):
    env = function_property(fn, "Environment")["Variables"]
    assert set(env) == CONTRACT[fn]["env"]
    for name, value in env.items():
        assert value == ENV_VALUES[name], f"{fn}: {name} = {value}"


# -- environment variables the Rust code reads
# Which variables each step reads is checked in Rust: the local cloud's function
# host builds every step from exactly its template environment and refuses one
# that asks for a variable the template does not set (local/src/cloud/functions.rs).


def test_environment_is_read_only_through_config_and_wiring():
    """No shared code reads configuration except through `Vars` in config.rs, the adapter
    wiring, and the process's own setup from what Lambda defines (logs, SDK configuration)."""
    allowed = {SHARED / "config.rs", SHARED / "aws" / "wiring.rs", SHARED / "logs.rs", SHARED / "aws" / "sdk_config.rs"}
    readers = [
        str(p.relative_to(ROOT))
        for p in SHARED.rglob("*.rs")
        if p not in allowed and re.search(r"(?<!::)\b(?:required|seconds)\(|env::var|\.var\(", p.read_text())
    ]
    assert readers == []


# ---------------------------------------------------------------- IAM


def statements(fn: str) -> list[dict]:
    """The explicit policy statements of a function or of the state machine."""
    out = []
    for policy in RESOURCES[fn]["Properties"].get("Policies", []):
        if fn == "DeployStateMachine" and set(policy) == {"LambdaInvokePolicy"}:
            continue  # one function each: checked in the state machine tests
        assert isinstance(policy, dict) and "Statement" in policy, (
            f"{fn}: use explicit statements, not {policy!r} (SAM policy templates are broader than needed)"
        )
        out.extend(policy["Statement"])
    return out


def actions_of(statement: dict) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.mark.parametrize("fn", sorted(CONTRACT))
def test_function_may_do_exactly_what_the_contract_says(fn):
    granted = set().union(*(actions_of(s) for s in statements(fn) if s["Effect"] == "Allow"))
    assert granted == CONTRACT[fn]["actions"]
    assert all("*" not in a for a in granted), "no action wildcards"


@pytest.mark.parametrize("fn", sorted(CONTRACT) + ["DeployStateMachine"])
def test_wildcard_resources_only_for_actions_that_cannot_be_scoped(fn):
    for statement in statements(fn):
        if statement["Resource"] == "*" or "*" in (statement["Resource"] if isinstance(statement["Resource"], list) else []):
            assert actions_of(statement) <= UNSCOPABLE, f"{fn}: {statement.get('Sid')} grants {actions_of(statement)} on *"


@pytest.mark.parametrize("fn", sorted(CONTRACT))
def test_ecs_service_and_task_actions_are_limited_to_the_configured_clusters(fn):
    for statement in statements(fn):
        if not actions_of(statement) & CLUSTER_SCOPED:
            continue
        if "ecs:ListTasks" in actions_of(statement):
            scope = statement["Condition"]["ArnLike"]["ecs:cluster"]
        else:
            scope = statement["Resource"]
        assert '{"Ref": "ClusterNames"}' in json.dumps(scope), f"{fn}: {statement.get('Sid')} is not scoped to ClusterNames"
        assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == {"Ref": "AWS::Region"}


def test_pass_role_only_to_ecs_tasks():
    found = False
    for fn in CONTRACT:
        for statement in statements(fn):
            if "iam:PassRole" in actions_of(statement):
                found = True
                assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
                assert "TaskRoleArns" in json.dumps(statement["Resource"])
    assert found


def test_tagging_only_on_register():
    for statement in statements("RegisterRevisionFunction"):
        if "ecs:TagResource" in actions_of(statement):
            assert statement["Condition"] == {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}


# ---------------------------------------------------------------- triggers


def eventbridge_events(fn: str) -> dict:
    events = RESOURCES[fn]["Properties"].get("Events", {})
    return {name: e for name, e in events.items() if e["Type"] == "EventBridgeRule"}


def test_rules_are_exactly_the_contract_triggers():
    rules = {(fn, name) for fn in CONTRACT for name in eventbridge_events(fn)}
    assert rules == set(PATTERNS)


@pytest.mark.parametrize("fn, rule", sorted(PATTERNS))
def test_rule_pattern_on_the_default_bus_with_retries_and_dead_letters(fn, rule):
    props = eventbridge_events(fn)[rule]["Properties"]
    assert props["Pattern"] == PATTERNS[(fn, rule)]
    assert "EventBusName" not in props, "AWS services publish on the default bus"
    assert props["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["UndeliveredEventsQueue", "Arn"]}}
    assert props["RetryPolicy"]["MaximumRetryAttempts"] > 0
    # The dead-letter queue must let this rule send to it.
    queue_policy = RESOURCES["UndeliveredEventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert {"Fn::GetAtt": [fn + rule, "Arn"]} in queue_policy["Condition"]["ArnEquals"]["aws:SourceArn"]


def leaves(pattern):
    for value in pattern.values():
        if isinstance(value, dict):
            yield from leaves(value)
        else:
            yield value


@pytest.mark.parametrize("fn, rule", sorted(PATTERNS))
def test_patterns_use_only_the_operators_the_local_cloud_implements(fn, rule):
    for values in leaves(eventbridge_events(fn)[rule]["Properties"]["Pattern"]):
        assert isinstance(values, list) and values
        for v in values:
            assert isinstance(v, str) or (isinstance(v, dict) and set(v) == {"prefix"}), v


def matches(pattern: dict, event) -> bool:
    """EventBridge matching for exact values and prefix; arrays in the event match by any element."""
    for key, want in pattern.items():
        if not isinstance(event, dict) or key not in event:
            return False
        got = event[key]
        items = got if isinstance(got, list) else [got]
        if isinstance(want, dict):
            if not any(matches(want, item) for item in items):
                return False
        elif not any(
            (isinstance(w, str) and item == w)
            or (isinstance(w, dict) and isinstance(item, str) and item.startswith(w["prefix"]))
            for w in want
            for item in items
        ):
            return False
    return True


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def stopped_task(group: str, stop_code: str) -> dict:
    event = fixture("ecs-task-state-change-running.json")
    event["detail"].update(lastStatus="STOPPED", desiredStatus="STOPPED", group=group, stopCode=stop_code)
    return event


SAMPLES = {
    "ecr-image-push.json": {"ImagePushed"},
    "ecr-image-delete.json": set(),
    "ecs-deployment-completed.json": {"DeploymentStateChanged"},
    "ecs-deployment-failed.json": {"DeploymentStateChanged"},
    "ecs-deployment-in-progress.json": set(),
    "ecs-service-action-steady-state.json": {"ServiceActionReported"},
    "ecs-service-action-placement-failure.json": set(),
    "ecs-task-state-change-running.json": set(),
    "cloudwatch-alarm-unhealthy-hosts.json": {"TargetAlarmRaised"},
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_documented_sample_events_reach_exactly_the_right_rule(name):
    event = fixture(name)
    hit = {rule for (fn, rule) in PATTERNS if matches(eventbridge_events(fn)[rule]["Properties"]["Pattern"], event)}
    assert hit == SAMPLES[name]


def test_no_task_state_change_invokes_anything():
    # A crashing service's stopped tasks (each one an event) reach no rule: its
    # deployment's FAILED and the service's TASK_START_IMPAIRED say it once.
    for group, code in [("service:web", "EssentialContainerExited"), ("service:web", "TaskFailedToStart"),
                        ("family:batch", "EssentialContainerExited")]:
        event = stopped_task(group, code)
        hit = [r for (fn, r) in PATTERNS if matches(eventbridge_events(fn)[r]["Properties"]["Pattern"], event)]
        assert hit == [], (group, code, hit)


def test_only_load_balancer_alarms_reach_the_alarm_rule():
    pattern = eventbridge_events("OnEcsEventFunction")["TargetAlarmRaised"]["Properties"]["Pattern"]
    event = fixture("cloudwatch-alarm-unhealthy-hosts.json")
    ok = copy.deepcopy(event)
    ok["detail"]["state"]["value"] = "OK"
    assert not matches(pattern, ok)
    other = copy.deepcopy(event)
    other["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = "AWS/EC2"
    assert not matches(pattern, other)


# ---------------------------------------------------------------- tables, logs, bus, topic


def test_targets_table():
    table = RESOURCES["TargetsTable"]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "repository", "KeyType": "HASH"},
        {"AttributeName": "targetId", "KeyType": "RANGE"},
    ]
    assert_durable(table)


def test_decisions_table():
    table = RESOURCES["DecisionsTable"]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "repository", "KeyType": "HASH"},
        {"AttributeName": "decisionKey", "KeyType": "RANGE"},
    ]
    source = (SHARED / "aws" / "dynamo_decisions.rs").read_text()
    assert 'SORT_KEY: &str = "decisionKey"' in source
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert_durable(table)


def test_the_reconciler_runs_on_the_schedule_parameter():
    events = RESOURCES["ReconcileFunction"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["Schedule"]
    assert next(iter(events.values()))["Properties"]["Schedule"] == {"Ref": "ReconcileSchedule"}
    assert TEMPLATE["Parameters"]["ReconcileSchedule"]["Default"] == "rate(5 minutes)"


def test_ecr_reads_are_scoped_to_the_repository_parameter_or_this_registry():
    for fn in ["OnImagePushFunction", "ReconcileFunction"]:
        [statement] = [s for s in statements(fn) if "ecr:DescribeImages" in actions_of(s)]
        assert statement["Resource"] == {
            "Fn::If": [
                "HasRepositoryArns",
                {"Ref": "RepositoryArns"},
                {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"},
            ]
        }


def test_deployments_table_and_its_indexes():
    table = RESOURCES["DeploymentsTable"]
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "deploymentId", "KeyType": "HASH"}]
    indexes = {
        i["IndexName"]: ([(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]], i["Projection"]["ProjectionType"])
        for i in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "ByService": ([("serviceKey", "HASH"), ("createdAt", "RANGE")], "ALL"),
        "Recent": ([("recentKey", "HASH"), ("createdAt", "RANGE")], "ALL"),
        "ActiveWatches": ([("watchState", "HASH"), ("deploymentId", "RANGE")], "ALL"),
        "WatchesByService": ([("watchService", "HASH"), ("deploymentId", "RANGE")], "KEYS_ONLY"),
    }
    attributes = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert attributes == {
        "deploymentId": "S", "serviceKey": "S", "recentKey": "S", "watchState": "S", "watchService": "S", "createdAt": "S",
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert_durable(table)


def test_index_names_are_the_ones_the_adapter_queries():
    source = (SHARED / "aws" / "dynamo_deployments.rs").read_text()
    used = set(re.findall(r'_INDEX: &str = "(\w+)"', source))
    declared = {i["IndexName"] for i in RESOURCES["DeploymentsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert used == declared


def test_the_watches_of_a_service_are_read_by_the_event_handler_and_the_hook_only():
    def queried_indexes(fn):
        out = set()
        for st in statements(fn):
            if st["Effect"] != "Allow" or "dynamodb:Query" not in actions_of(st):
                continue
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for r in resources:
                sub = r.get("Fn::Sub") if isinstance(r, dict) else None
                if isinstance(sub, str) and sub.startswith("${DeploymentsTable.Arn}/index/"):
                    out.add(sub.removeprefix("${DeploymentsTable.Arn}/index/"))
        return out

    readers = {fn for fn in CONTRACT if "WatchesByService" in queried_indexes(fn)}
    assert readers == {"OnEcsEventFunction", "VerifyHookFunction"}
    assert queried_indexes("OnEcsEventFunction") == {"WatchesByService", "ActiveWatches"}, "alarms name no service"
    assert queried_indexes("VerifyHookFunction") == {"WatchesByService"}


def assert_durable(table: dict):
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # The key (AWS managed, or TableKmsKeyArn's): tests/test_security_lint.py.
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("fn", sorted(CONTRACT))
def test_function_logs_json_to_its_own_log_group_with_retention(fn):
    logging = function_property(fn, "LoggingConfig")
    assert logging["LogFormat"] == "JSON"
    group = logging["LogGroup"]["Ref"]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    others = [f for f in CONTRACT if f != fn and function_property(f, "LoggingConfig")["LogGroup"]["Ref"] == group]
    assert others == [], f"{fn} shares its log group with {others}"


def test_only_the_functions_fed_by_the_whole_account_have_reserved_concurrency():
    # A flood of the account's pushes or ECS events waits in Lambda's
    # asynchronous queue instead of taking the account's concurrency.
    expected = {"Fn::If": ["HasEventFunctionConcurrency", {"Ref": "EventFunctionConcurrency"}, {"Ref": "AWS::NoValue"}]}
    reserved = {
        name: r["Properties"]["ReservedConcurrentExecutions"]
        for name, r in RESOURCES.items()
        if r["Type"] == "AWS::Serverless::Function" and "ReservedConcurrentExecutions" in r["Properties"]
    }
    assert reserved == {"OnImagePushFunction": expected, "OnEcsEventFunction": expected}
    assert TEMPLATE["Conditions"]["HasEventFunctionConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EventFunctionConcurrency"}, 0]}]
    }
    param = TEMPLATE["Parameters"]["EventFunctionConcurrency"]
    assert param["Type"] == "Number" and param["MinValue"] == 0 and 1 <= param["Default"] <= param["MaxValue"]


def test_bus_topic_and_optional_email():
    assert RESOURCES["DeploymentEventBus"]["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-deployments"}
    # The stack's own key, not alias/aws/sns: CloudWatch alarms publish to the topic too
    # (its key policy: tests/test_monitoring.py).
    assert RESOURCES["NotificationTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "NotificationTopicKey"}
    assert RESOURCES["NotificationTopicKey"]["Type"] == "AWS::KMS::Key"
    subscription = RESOURCES["NotificationEmailSubscription"]
    assert subscription["Condition"] == "HasNotificationEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "NotificationEmail"}
    assert TEMPLATE["Parameters"]["NotificationEmail"]["Default"] == ""


def test_parameters_and_outputs():
    params = TEMPLATE["Parameters"]
    assert params["ClusterNames"]["Type"] == "CommaDelimitedList"
    assert params["TaskRoleArns"]["Type"] == "CommaDelimitedList"
    assert params["RolloutTimeoutSeconds"]["Default"] == 1800
    assert params["RollbackTimeoutSeconds"]["Default"] == 1800
    assert params["PollIntervalSeconds"]["Default"] == 60
    assert params["LogRetentionDays"]["Default"] in params["LogRetentionDays"]["AllowedValues"]
    outputs = {name: o["Value"] for name, o in TEMPLATE["Outputs"].items()}
    for value in [
        {"Ref": "DeployStateMachine"},
        {"Ref": "TargetsTable"},
        {"Ref": "DeploymentsTable"},
        {"Ref": "DecisionsTable"},
        {"Ref": "DeploymentEventBus"},
        {"Ref": "NotificationTopic"},
    ]:
        assert value in outputs.values(), f"no output of {value}"


def test_ecs_may_invoke_the_hook_and_nothing_else():
    """The role a service names in its lifecycle hook: ECS of this account may
    assume it, and it may invoke the verification hook only."""
    role = RESOURCES["HookInvokeRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = [st for p in role["Policies"] for st in p["PolicyDocument"]["Statement"]]
    assert [(st["Action"], st["Resource"]) for st in statements] == [
        ("lambda:InvokeFunction", {"Fn::GetAtt": ["VerifyHookFunction", "Arn"]})
    ]
    outputs = {name: o["Value"] for name, o in TEMPLATE["Outputs"].items()}
    assert outputs["VerifyHookFunctionArn"] == {"Fn::GetAtt": ["VerifyHookFunction", "Arn"]}
    assert outputs["HookInvokeRoleArn"] == {"Fn::GetAtt": ["HookInvokeRole", "Arn"]}


# ---------------------------------------------------------------- state machine wiring

STATE_MACHINE = RESOURCES["DeployStateMachine"]["Properties"]


def asl_substitutions() -> set[str]:
    return set(re.findall(r"\$\{([^}]+)\}", ASL_PATH.read_text()))


def test_state_machine_is_standard_and_loads_the_asl_file():
    assert RESOURCES["DeployStateMachine"]["Type"] == "AWS::Serverless::StateMachine"
    assert STATE_MACHINE["Type"] == "STANDARD"
    assert (ROOT / STATE_MACHINE["DefinitionUri"]).resolve() == ASL_PATH.resolve()
    assert STATE_MACHINE["Logging"]["Level"] == "ERROR"
    assert STATE_MACHINE["Logging"]["IncludeExecutionData"] is False


def test_every_asl_substitution_is_filled():
    used = asl_substitutions()
    assert used, "the ASL uses no ${...} substitutions"
    filled = set(STATE_MACHINE["DefinitionSubstitutions"])
    assert used - filled == set(), f"not in DefinitionSubstitutions: {sorted(used - filled)}"
    assert filled - used == set(), f"DefinitionSubstitutions the ASL does not use: {sorted(filled - used)}"


def test_substitutions_are_function_arns_the_state_machine_may_invoke():
    invocable = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in STATE_MACHINE["Policies"] if "LambdaInvokePolicy" in p
    }
    for name, value in STATE_MACHINE["DefinitionSubstitutions"].items():
        fn, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn" and name == f"{fn}Arn", f"{name}: {value}"
        assert RESOURCES[fn]["Type"] == "AWS::Serverless::Function"
        assert fn in invocable, f"the state machine may not invoke {fn}"
    assert invocable == {v["Fn::GetAtt"][0] for v in STATE_MACHINE["DefinitionSubstitutions"].values()}


def test_no_arn_is_hard_coded_in_the_asl():
    arns = set(re.findall(r'"(arn:[^"]*)"', ASL_PATH.read_text()))
    integrations = {a for a in arns if re.fullmatch(r"arn:aws:states:::[a-z:.]+(\.waitForTaskToken|\.sync)?", a)}
    assert arns - integrations == set()


# ---------------------------------------------------------------- ASL rules


def all_states(states: dict):
    """Every state, including those inside Parallel branches and Map iterators."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from all_states(processor["States"])


def error_names(state: dict) -> set[str]:
    return {e for rule in state.get("Retry", []) + state.get("Catch", []) for e in rule["ErrorEquals"]}


def is_lambda_task(state: dict) -> bool:
    resource = state.get("Resource", "")
    return state["Type"] == "Task" and (
        resource.startswith("arn:aws:states:::lambda:invoke") or "FunctionArn" in resource
    )


# Every ErrorEquals name is checked against DeployError's own variants in Rust
# (tests/tests/state_machine_payloads.rs).


def test_every_task_retries_with_backoff_and_jitter():
    tasks = [(n, s) for n, s in all_states(STATES) if s["Type"] == "Task"]
    assert tasks
    for name, state in tasks:
        assert state.get("Retry"), f"{name} has no Retry"
        for rule in state["Retry"]:
            assert rule.get("BackoffRate", 2.0) > 1, f"{name}: no backoff"
            assert rule.get("JitterStrategy") == "FULL", f"{name}: no jitter"
            assert "States.ALL" not in rule["ErrorEquals"], f"{name}: retries every error"


def test_every_lambda_task_retries_retryable_transient_lambda_errors_and_a_dead_invocation():
    # Every step may be retried after it did its work, so an invocation that
    # timed out (Sandbox.Timedout) or whose process died (Runtime.ExitError,
    # Lambda.Unknown) is tried again rather than failing the deployment.
    tasks = [(n, s) for n, s in all_states(STATES) if is_lambda_task(s)]
    assert tasks
    wanted = {
        "Retryable",
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
        "Sandbox.Timedout",
        "Runtime.ExitError",
        # What the Step Functions guide says a timeout or an out-of-memory
        # death is reported as, where the payload names no errorType.
        "Lambda.Unknown",
    }
    for name, state in tasks:
        retried = {e for rule in state["Retry"] for e in rule["ErrorEquals"]}
        assert wanted <= retried, (name, wanted - retried)


def test_a_run_ends_as_its_record_did_and_never_before_its_record_is_written():
    # Recording a failure that cannot be written now is tried again a minute
    # later (not given up: the execution would end FAILED with its record
    # still saying PENDING); the run then ends as the record says, which may
    # be SUCCEEDED when "Record success" wrote it and failed afterwards.
    for name in ["Record failure", "Record rollback failure"]:
        state = STATES[name]
        assert state["ResultSelector"] == {"status.$": "$.Payload.status"}, name
        [catch] = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        wait = STATES[catch["Next"]]
        assert wait["Type"] == "Wait" and wait["Next"] == name, name
        assert state["Next"] == "Did the record fail?", name
    choice = STATES["Did the record fail?"]
    [failed] = choice["Choices"]
    assert failed == {"Variable": "$.outcome.status", "StringEquals": "FAILED", "Next": "Deployment failed"}
    assert STATES[choice["Default"]]["Type"] == "Succeed"


def test_every_lambda_task_calls_a_substituted_function():
    for name, state in all_states(STATES):
        if is_lambda_task(state):
            function = state["Parameters"]["FunctionName"]
            assert re.fullmatch(r"\$\{\w+FunctionArn\}", function), f"{name}: FunctionName {function}"


def test_state_names_are_sentences():
    sentence = re.compile(r"[A-Z][a-z]+( ([a-z]+|[A-Z]{2,}))+\??")
    for name, _ in all_states(STATES):
        assert sentence.fullmatch(name), f"state name {name!r} does not read as a sentence"


def test_state_names_are_unique_across_the_definition():
    names = [n for n, _ in all_states(STATES)]
    assert len(names) == len(set(names))
    # Duplicate keys in one States object are rejected when the ASL is loaded (see _unique_keys).
    with pytest.raises(ValueError):
        json.loads('{"States": {"A b": {}, "A b": {}}}', object_pairs_hook=_unique_keys)


# ---------------------------------------------------------------- one build


def resolved_features(*selection: str) -> set[str]:
    """Every dependency with the features a cargo build of `selection` turns on."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "--prefix", "none", "--format", "{p} [{f}]", *selection],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    members = f"({ROOT}"
    return {line.removesuffix(" (*)") for line in out.splitlines() if line and members not in line}


def test_the_demo_build_and_the_test_build_resolve_the_same_features():
    """`make demo` builds autodeploy-local alone, `make test` the workspace with its
    dev-dependencies: with the same features for every crate both build, `make
    test` after `make demo` compiles no dependency a second time."""
    demo = resolved_features("-p", "autodeploy-local", "--edges", "normal,build")
    test = resolved_features("--workspace")
    assert not demo - test, f"only in the demo build: {sorted(demo - test)}"
    # Crates only the test build needs (the operator CLI's) are compiled once
    # there; a crate the demo built must not come back with other features.
    built = {crate.split(" [")[0] for crate in demo}
    rebuilt = sorted(crate for crate in test - demo if crate.split(" [")[0] in built)
    assert not rebuilt, f"built again for the tests with other features: {rebuilt}"


def test_the_approval_url_needs_iam_and_only_approvers_may_call_it():
    """The entry point records the caller's IAM identity: its URL must be AWS_IAM,
    and the policy handed to approvers grants calling that URL and nothing else."""
    fn = RESOURCES["DecideApprovalFunction"]["Properties"]
    assert fn["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    policy = RESOURCES["ApproverPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunctionUrl"
    assert statement["Resource"] == {"Fn::GetAtt": ["DecideApprovalFunction", "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}
    outputs = TEMPLATE["Outputs"]
    assert outputs["ApprovalUrl"]["Value"] == {"Fn::GetAtt": ["DecideApprovalFunctionUrl", "FunctionUrl"]}
    assert outputs["ApproverPolicyArn"]["Value"] == {"Ref": "ApproverPolicy"}


def test_the_operators_read_only_policy_reads_and_changes_nothing():
    policy = RESOURCES["OperatorReadOnlyPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    def actions_of(s):
        return [s["Action"]] if isinstance(s["Action"], str) else s["Action"]

    actions = {a for s in statements for a in actions_of(s)}
    assert actions == {
        "cloudformation:DescribeStacks", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
        "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeTargetHealth",
    }
    # Every resource named, but for the two actions IAM cannot scope to one.
    unscoped = {"ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeTargetHealth"}
    assert all(s["Effect"] == "Allow" and (s["Resource"] != "*" or set(actions_of(s)) <= unscoped) for s in statements)
    assert TEMPLATE["Outputs"]["OperatorReadOnlyPolicyArn"]["Value"] == {"Ref": "OperatorReadOnlyPolicy"}


def _grants(policy: str) -> set[tuple[str, str]]:
    """(action, resource) pairs a managed policy of the template allows."""
    pairs = set()
    for s in RESOURCES[policy]["Properties"]["PolicyDocument"]["Statement"]:
        assert s["Effect"] == "Allow"
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        pairs |= {(a, json.dumps(r, sort_keys=True)) for a in actions for r in resources}
    return pairs


def test_the_deployer_policy_does_everything_and_only_what_the_commands_need():
    """One policy for people who operate the stack: whatever the read-only and the
    approver policies allow, plus the operator URL and writing the deploy targets."""
    deployer = _grants("OperatorDeployerPolicy")
    assert _grants("OperatorReadOnlyPolicy") <= deployer
    assert _grants("ApproverPolicy") <= deployer
    operate = json.dumps({"Fn::GetAtt": ["OperateFunction", "Arn"]}, sort_keys=True)
    targets = json.dumps({"Fn::GetAtt": ["TargetsTable", "Arn"]}, sort_keys=True)
    extra = deployer - _grants("OperatorReadOnlyPolicy") - _grants("ApproverPolicy")
    assert extra == {
        ("lambda:InvokeFunctionUrl", operate),
        *{(a, targets) for a in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]},
    }
    fn = RESOURCES["OperateFunction"]["Properties"]
    assert fn["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    [call] = [s for s in RESOURCES["OperatorDeployerPolicy"]["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "lambda:InvokeFunctionUrl"]
    assert call["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}
    outputs = TEMPLATE["Outputs"]
    assert outputs["OperatorUrl"]["Value"] == {"Fn::GetAtt": ["OperateFunctionUrl", "FunctionUrl"]}
    assert outputs["OperatorDeployerPolicyArn"]["Value"] == {"Ref": "OperatorDeployerPolicy"}
