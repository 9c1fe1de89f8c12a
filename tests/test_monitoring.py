"""Monitoring in template.yaml: the dashboard, the alarms, the log level, X-Ray and the
schema registry.

Each test states one thing that breaks monitoring when it drifts: a dashboard line or an
alarm on a metric (or a dimension set) the functions never write, a function or a
dead-letter queue nobody watches, an alarm whose message never reaches the topic (or is
refused by the topic's key), a log level at which Lambda drops the metric lines, or a
registered schema that says something else than the published one.
"""

import fnmatch
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

import test_schema as published
from test_wiring import GLOBAL_FUNCTION, RESOURCES, TEMPLATE, resources_of

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "schemas" / "deployment-state-change.schema.json"

# ---------------------------------------------------------------- the metrics contract
# What the functions write (embedded metric format): metric -> its one dimension set.

NAMESPACE = "ECSAutodeploy"
CONTRACT = {
    "Deployments": {"Stack", "Outcome"},
    "ServiceDeployments": {"Stack", "Service", "Outcome"},
    "DeployDuration": {"Stack", "Outcome"},
    "DetectionDelay": {"Stack"},
    "Rollbacks": {"Stack"},
    "PushesRefused": {"Stack", "Reason"},
    "PushesReconciled": {"Stack"},
}
DIMENSION_VALUES = {
    "Outcome": {"SUCCEEDED", "ROLLED_BACK", "FAILED", "SUPERSEDED", "REJECTED", "NOOP"},
    "Reason": {"FOREIGN_REGISTRY", "IMAGE_NOT_IN_ECR", "TAG_MOVED"},
}
# DeployDuration is written for these outcomes only.
TIMED_OUTCOMES = {"SUCCEEDED", "ROLLED_BACK", "FAILED"}

TOPIC = {"Ref": "NotificationTopic"}
PSEUDO = {"AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::StackName", "AWS::URLSuffix"}
LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]  # most verbose first


# ---------------------------------------------------------------- reading the template

SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
DASHBOARD_TEXT = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
# ${Name} stays inside its JSON string as <Name>.
DASHBOARD = json.loads(SUB_VARIABLE.sub(r"<\1>", DASHBOARD_TEXT))
ALARMS = resources_of("AWS::CloudWatch::Alarm")


def sub_var(name: str) -> str:
    """How a dashboard value that was `${name}` reads once parsed."""
    return f"<{name}>"


def dashboard_rows():
    """(widget title, namespace, metric, {dimension: value}, options) of every metric row."""
    for widget in DASHBOARD["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):
                continue  # an expression: dashboard_searches()
            *fields, options = row if isinstance(row[-1], dict) else (*row, {})
            assert "." not in fields, f"{widget['properties']['title']}: write rows out in full, no '.'"
            namespace, metric, *pairs = fields
            assert len(pairs) % 2 == 0, f"{widget['properties']['title']}: {row}"
            yield widget["properties"]["title"], namespace, metric, dict(zip(pairs[::2], pairs[1::2])), options


SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s*(.*?)',\s*'(\w+)'")


def dashboard_searches():
    """(widget title, namespace, schema dimensions, [(designator, value)]) of every SEARCH."""
    for widget in DASHBOARD["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict) and "SEARCH(" in row[0]["expression"]:
                match = SEARCH.search(row[0]["expression"])
                assert match, row[0]["expression"]
                namespace, *dimensions = [part.strip() for part in match.group(1).split(",")]
                terms = re.findall(r'(\w+)="([^"]*)"', match.group(2))
                yield widget["properties"]["title"], namespace, set(dimensions), terms


def alarm_metrics(alarm: dict):
    """(namespace, metric, {dimension: value}, period, stat) of each metric an alarm reads."""
    props = alarm["Properties"]
    if "MetricName" in props:
        dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        yield props["Namespace"], props["MetricName"], dims, props["Period"], props["Statistic"]
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            yield metric["Namespace"], metric["MetricName"], dims, stat["Period"], stat["Stat"]


def truth(condition, parameters: dict) -> bool:
    """A condition of the template, for the given parameter values."""
    (function, args), = condition.items()
    value = lambda v: parameters[v["Ref"]] if isinstance(v, dict) else v  # noqa: E731
    if function == "Fn::Equals":
        return value(args[0]) == value(args[1])
    if function == "Fn::Or":
        return any(truth(c, parameters) for c in args)
    if function == "Fn::Not":
        return not truth(args[0], parameters)
    raise AssertionError(f"no evaluation of {function} here")


def dead_letter_queues() -> set[str]:
    """The queues that something sends what it could not deliver or process to."""
    queues = set()

    def walk(node, under_dead_letters=False):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::GetAtt" and under_dead_letters and RESOURCES[value[0]]["Type"] == "AWS::SQS::Queue":
                    queues.add(value[0])
                walk(value, under_dead_letters or key in ("DeadLetterConfig", "OnFailure", "RedrivePolicy"))
        elif isinstance(node, list):
            for item in node:
                walk(item, under_dead_letters)

    walk(RESOURCES)
    return queues


# ---------------------------------------------------------------- the schema registry

DRAFT4_URI = "http://json-schema.org/draft-04/schema#"
# Keywords of the published schema whose meaning is the same in draft 4.
SAME_IN_DRAFT4 = {
    "title", "description", "type", "required", "enum", "format", "pattern",
    "minLength", "maxLength", "minimum", "maximum",
}
ANNOTATIONS = {"title", "description"}


def draft4(schema: dict, *, root: bool = True) -> dict:
    """The published schema (draft 2020-12) written in draft 4, the newest dialect the
    EventBridge schema registry reads: `const` becomes a one-value `enum`, `$defs`
    `definitions` (and the `$ref`s to them), `$id` `id`. Any keyword whose meaning
    differs between the two, or that draft 4 lacks, is refused rather than passed on."""
    beside_ref = set(schema) - {"$ref"} - ANNOTATIONS
    if "$ref" in schema and beside_ref:
        raise ValueError(f"draft 4 ignores what sits beside $ref: {sorted(beside_ref)}")
    if "const" in schema and "enum" in schema:
        raise ValueError("const beside enum")
    out = {}
    for key, value in schema.items():
        if key == "$schema" and root:
            out[key] = DRAFT4_URI
        elif key == "$id" and root:
            out["id"] = value
        elif key == "$defs" and root:
            out["definitions"] = {name: draft4(sub, root=False) for name, sub in value.items()}
        elif key == "properties":
            out[key] = {name: draft4(sub, root=False) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = draft4(value, root=False)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else draft4(value, root=False)
        elif key == "const":
            out["enum"] = [value]
        elif key == "$ref":
            if not value.startswith("#/$defs/"):
                raise ValueError(f"$ref {value} points outside $defs")
            out[key] = "#/definitions/" + value.removeprefix("#/$defs/")
        elif key in SAME_IN_DRAFT4:
            out[key] = value
        else:
            raise ValueError(f"{key!r} has no draft-4 rendering here: decide how to register it")
    return out


SCHEMA_RESOURCE = RESOURCES["DeploymentStateChangeSchema"]["Properties"]
REGISTERED = json.loads(SCHEMA_RESOURCE["Content"])
FILE_SCHEMA = json.loads(SCHEMA_PATH.read_text())


def test_the_registry_holds_the_published_schema_in_draft_4():
    assert SCHEMA_RESOURCE["Type"] == "JSONSchemaDraft4"
    assert REGISTERED == draft4(FILE_SCHEMA), (
        "template.yaml's DeploymentStateChangeSchema Content is not the published schema in draft 4; "
        "paste this:\n" + json.dumps(draft4(FILE_SCHEMA), indent=2, ensure_ascii=False)
    )
    Draft4Validator.check_schema(REGISTERED)


def samples() -> dict[str, dict]:
    good = {f"a {status} event": published.event(status) for status in published.EXTRA_BY_STATUS}
    return {**good, **{f"bad: {case}": doc for case, doc in published.BAD.items()}}


@pytest.mark.parametrize("case", sorted(samples()))
def test_the_registered_schema_judges_each_sample_as_the_published_one_does(case):
    doc = samples()[case]
    as_published = not list(published.VALIDATOR.iter_errors(doc))
    registered = Draft4Validator(REGISTERED, format_checker=Draft4Validator.FORMAT_CHECKER)
    assert (not list(registered.iter_errors(doc))) == as_published
    assert as_published == case.startswith("a ")


@pytest.mark.parametrize(
    "schema",
    [
        {"prefixItems": [{"type": "string"}]},
        {"properties": {"a": {"$ref": "#/$defs/a", "minLength": 1}}},
        {"properties": {"a": {"const": "x", "enum": ["x"]}}},
        {"properties": {"a": {"dependentRequired": {"b": ["c"]}}}},
    ],
)
def test_the_draft_4_rendering_refuses_what_it_cannot_say(schema):
    with pytest.raises(ValueError):
        draft4(schema)


def test_the_published_schema_is_still_draft_2020_12():
    # The registry gets a rendering of it; the file itself is what events are checked against.
    assert FILE_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(FILE_SCHEMA)


def test_registry_and_schema_names_are_outputs():
    registry = RESOURCES["EventSchemaRegistry"]
    assert registry["Type"] == "AWS::EventSchemas::Registry"
    assert registry["Properties"]["RegistryName"]["Fn::Sub"].startswith("${AWS::StackName}")
    assert SCHEMA_RESOURCE["RegistryName"] == {"Fn::GetAtt": ["EventSchemaRegistry", "RegistryName"]}
    outputs = TEMPLATE["Outputs"]
    assert outputs["SchemaRegistryName"]["Value"] == registry["Properties"]["RegistryName"]
    assert outputs["DeploymentStateChangeSchemaName"]["Value"] == SCHEMA_RESOURCE["SchemaName"]


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_body_is_json_and_every_substitution_resolves():
    for name in SUB_VARIABLE.findall(DASHBOARD_TEXT):
        assert name in PSEUDO or name.split(".")[0] in RESOURCES, f"${{{name}}}"
    assert "${AWS::Region}" in DASHBOARD_TEXT and "${AWS::StackName}" in DASHBOARD_TEXT
    for widget in DASHBOARD["widgets"]:
        assert widget["properties"]["region"] == sub_var("AWS::Region")


def test_dashboard_widgets_sit_on_the_grid_without_overlapping():
    taken = set()
    for widget in DASHBOARD["widgets"]:
        assert widget["properties"]["title"]
        assert 0 <= widget["x"] and widget["x"] + widget["width"] <= 24
        cells = {(x, y) for x in range(widget["x"], widget["x"] + widget["width"])
                 for y in range(widget["y"], widget["y"] + widget["height"])}
        assert not cells & taken, f"{widget['properties']['title']} overlaps another widget"
        taken |= cells
    titles = [w["properties"]["title"] for w in DASHBOARD["widgets"]]
    assert len(titles) == len(set(titles))


def custom_metrics():
    """(where, metric, {dimension: value}) of every ECSAutodeploy metric the dashboard or an alarm reads."""
    for title, namespace, metric, dims, _ in dashboard_rows():
        if namespace == NAMESPACE:
            yield f"dashboard: {title}", metric, dims
    for title, namespace, dimensions, terms in dashboard_searches():
        assert namespace == NAMESPACE, title
        (metric,) = {v for k, v in terms if k == "MetricName"}
        searched = {k: v for k, v in terms if k != "MetricName"}
        assert set(searched) <= dimensions, f"{title}: searches a dimension outside its schema"
        for k, v in terms:
            assert v in DIMENSION_VALUES.get(k, {v}), f"{title}: {k}={v}"
        yield f"dashboard: {title}", metric, {d: searched.get(d) for d in dimensions}
    for name, alarm in ALARMS.items():
        for namespace, metric, dims, _, _ in alarm_metrics(alarm):
            if namespace == NAMESPACE:
                yield f"alarm {name}", metric, dims


@pytest.mark.parametrize("where, metric, dims", list(custom_metrics()), ids=lambda v: v if isinstance(v, str) else None)
def test_every_custom_metric_read_is_one_the_functions_write(where, metric, dims):
    assert metric in CONTRACT, f"{where}: {metric} is not a metric the functions write"
    assert set(dims) == CONTRACT[metric], f"{where}: {metric} is written with {sorted(CONTRACT[metric])}"
    assert dims["Stack"] in (sub_var("AWS::StackName"), "${AWS::StackName}", {"Ref": "AWS::StackName"})
    for dimension, values in DIMENSION_VALUES.items():
        if dims.get(dimension) is not None:
            assert dims[dimension] in values, f"{where}: {dimension} {dims[dimension]}"


def test_every_contract_metric_is_on_the_dashboard():
    shown = {metric for _, metric, _ in custom_metrics()}
    assert set(CONTRACT) <= shown
    rows = list(dashboard_rows())
    outcomes = {d["Outcome"] for _, _, m, d, _ in rows if m == "Deployments"}
    assert outcomes == DIMENSION_VALUES["Outcome"]
    reasons = {d["Reason"] for _, _, m, d, _ in rows if m == "PushesRefused"}
    assert reasons == DIMENSION_VALUES["Reason"]


def test_durations_show_p50_p90_and_max():
    durations = {(d["Outcome"], o["stat"]) for _, _, m, d, o in dashboard_rows() if m == "DeployDuration"}
    assert durations == {(outcome, stat) for outcome in TIMED_OUTCOMES for stat in ("p50", "p90", "Maximum")}
    delays = {o["stat"] for _, _, m, _, o in dashboard_rows() if m == "DetectionDelay"}
    assert delays == {"p50", "p90", "Maximum"}


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_errors_and_throttles_cover_exactly_the_stacks_functions(metric):
    functions = set(resources_of("AWS::Serverless::Function"))
    named = []
    for _, namespace, name, dims, _ in dashboard_rows():
        if namespace == "AWS/Lambda" and name == metric:
            assert set(dims) == {"FunctionName"}
            match = re.fullmatch(r"<(\w+)>", dims["FunctionName"])
            assert match and match.group(1) in functions, f"{dims['FunctionName']} is not a function of the stack"
            named.append(match.group(1))
    assert sorted(named) == sorted(functions)


def test_every_lambda_metric_of_the_dashboard_names_a_function_of_the_stack():
    functions = set(resources_of("AWS::Serverless::Function"))
    for title, namespace, _, dims, _ in dashboard_rows():
        if namespace == "AWS/Lambda":
            assert dims["FunctionName"].strip("<>") in functions, title


def test_the_dashboard_shows_the_runs_that_did_not_succeed():
    shown = {m for _, ns, m, d, _ in dashboard_rows()
             if ns == "AWS/States" and d == {"StateMachineArn": sub_var("DeployStateMachine")}}
    assert shown == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


# ---------------------------------------------------------------- dead-letter queues


def test_the_dead_letter_queues_are_found():
    assert dead_letter_queues() == {"UndeliveredEventsQueue"}


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_every_dead_letter_queue_has_an_alarm_and_a_dashboard_line(queue):
    depth = {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}
    alarms = [
        name for name, alarm in ALARMS.items()
        if ("AWS/SQS", "ApproximateNumberOfMessagesVisible", depth) in [m[:3] for m in alarm_metrics(alarm)]
    ]
    assert alarms, f"no alarm on {queue}"
    for name in alarms:
        props = ALARMS[name]["Properties"]
        assert "Condition" not in ALARMS[name]
        assert props["Statistic"] == "Maximum"
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
        # A state: its end (the queue drained) is news too.
        assert props["OKActions"] == [TOPIC]
    shown = {d["QueueName"] for _, ns, m, d, _ in dashboard_rows() if (ns, m) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert sub_var(f"{queue}.QueueName") in shown


# ---------------------------------------------------------------- alarms


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_notifies_the_topic(name):
    props = ALARMS[name]["Properties"]
    assert props["AlarmActions"] == [TOPIC]
    assert props.get("OKActions", [TOPIC]) == [TOPIC]
    assert props["TreatMissingData"] == "notBreaching"
    assert len(props["AlarmDescription"]) > 40
    assert props["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")
    assert props.get("ActionsEnabled", True) is True


@pytest.mark.parametrize("name", sorted(n for n, a in ALARMS.items() if "Metrics" in a["Properties"]))
def test_alarm_math_returns_one_series_from_its_own_metrics(name):
    queries = ALARMS[name]["Properties"]["Metrics"]
    ids = {q["Id"] for q in queries if "MetricStat" in q}
    (returned,) = [q for q in queries if q.get("ReturnData", True)]
    used = set(re.findall(r"\b([a-z]\w*)\b", returned["Expression"])) - {"FILL"}
    assert used == ids, f"{name}: {returned['Expression']} reads {sorted(used)} of {sorted(ids)}"


def test_the_failed_runs_alarm_sums_failed_timed_out_and_aborted_runs():
    alarm = ALARMS["FailedExecutionsAlarm"]
    metrics = list(alarm_metrics(alarm))
    assert {m[1] for m in metrics} == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for namespace, _, dims, period, stat in metrics:
        assert (namespace, dims, period, stat) == ("AWS/States", {"StateMachineArn": {"Ref": "DeployStateMachine"}}, 300, "Sum")
    props = alarm["Properties"]
    assert (props["ComparisonOperator"], props["Threshold"], props["EvaluationPeriods"]) == ("GreaterThanOrEqualToThreshold", 1, 1)


def test_the_rolled_back_or_failed_alarm_is_there_only_when_asked_for():
    alarm = ALARMS["FailedDeploymentsAlarm"]
    assert alarm["Condition"] == "HasFailedDeploymentAlarm"
    condition = TEMPLATE["Conditions"]["HasFailedDeploymentAlarm"]
    parameter = TEMPLATE["Parameters"]["AlarmOnFailedDeployments"]
    assert parameter["AllowedValues"] == ["true", "false"] and parameter["Default"] == "true"
    assert truth(condition, {"AlarmOnFailedDeployments": "true"})
    assert not truth(condition, {"AlarmOnFailedDeployments": "false"})
    outcomes = {dims["Outcome"] for _, metric, dims, _, _ in alarm_metrics(alarm) if metric == "Deployments"}
    assert outcomes == {"ROLLED_BACK", "FAILED"}
    props = alarm["Properties"]
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    # Only this alarm depends on the parameter.
    assert [n for n, a in ALARMS.items() if "Condition" in a] == ["FailedDeploymentsAlarm"]


def seconds_of(schedule: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule)
    assert match, f"{schedule}: only rate() schedules are read here"
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def test_the_reconciler_alarm_spans_several_passes():
    alarm = ALARMS["PushesReconciledAlarm"]
    ((namespace, metric, dims, period, stat),) = alarm_metrics(alarm)
    assert (namespace, metric, stat) == (NAMESPACE, "PushesReconciled", "Sum")
    schedule = TEMPLATE["Parameters"]["ReconcileSchedule"]["Default"]
    assert RESOURCES["ReconcileFunction"]["Properties"]["Events"]["EverySoOften"]["Properties"]["Schedule"] == {"Ref": "ReconcileSchedule"}
    assert period >= 3 * seconds_of(schedule)
    assert period <= 86400
    props = alarm["Properties"]
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


# ---------------------------------------------------------------- the topic lets the alarms publish


def stacks_alarm_statement(statements: list[dict]) -> dict:
    (statement,) = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert statement["Effect"] == "Allow"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    return statement


def source_arn_pattern(statement: dict) -> str:
    return statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]


def test_cloudwatch_may_publish_to_the_topic_for_the_stacks_alarms_only():
    policy = RESOURCES["NotificationTopicPolicy"]["Properties"]
    assert policy["Topics"] == [TOPIC]
    statement = stacks_alarm_statement(policy["PolicyDocument"]["Statement"])
    assert statement["Action"] == "sns:Publish" and statement["Resource"] == TOPIC
    pattern = source_arn_pattern(statement)
    assert pattern == "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-*"
    for name, alarm in ALARMS.items():
        arn = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + alarm["Properties"]["AlarmName"]["Fn::Sub"]
        assert fnmatch.fnmatchcase(arn, pattern), f"{name} is not covered by the topic policy"


def test_the_topics_key_serves_the_publishers_and_the_stacks_alarms():
    key = RESOURCES["NotificationTopicKey"]["Properties"]
    assert RESOURCES["NotificationTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "NotificationTopicKey"}
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    alarms = stacks_alarm_statement(statements)
    assert set(alarms["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    topic_policy = RESOURCES["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert source_arn_pattern(alarms) == source_arn_pattern(stacks_alarm_statement(topic_policy))
    # The functions publish as before, with no KMS permission of their own: the key
    # lets this account's principals use it through SNS, as alias/aws/sns does.
    (through_sns,) = [s for s in statements if s["Principal"] == {"AWS": "*"}]
    assert set(through_sns["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert through_sns["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": {"Ref": "AWS::AccountId"},
            "kms:ViaService": {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"},
        }
    }
    (admin,) = [s for s in statements if s["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}]
    assert admin["Action"] == "kms:*"
    assert len(statements) == 3


# ---------------------------------------------------------------- log level


def test_the_log_level_parameter():
    parameter = TEMPLATE["Parameters"]["LogLevel"]
    assert parameter["AllowedValues"] == LOG_LEVELS and parameter["Default"] == "INFO"


def test_the_functions_filter_at_the_log_level_and_know_their_stack():
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    assert variables["RUST_LOG"] == {"Ref": "LogLevel"}
    assert variables["STACK_NAME"] == {"Ref": "AWS::StackName"}
    for fn, resource in resources_of("AWS::Serverless::Function").items():
        own = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert not set(own) & set(variables), f"{fn} overrides {sorted(set(own) & set(variables))}"


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_lambda_never_filters_above_info_nor_drops_what_the_functions_write(level):
    logging = GLOBAL_FUNCTION["LoggingConfig"]
    assert logging["LogFormat"] == "JSON" and logging["SystemLogLevel"] == "WARN"
    assert logging["ApplicationLogLevel"] == {"Fn::If": ["LogsBelowInfo", {"Ref": "LogLevel"}, "INFO"]}
    below_info = truth(TEMPLATE["Conditions"]["LogsBelowInfo"], {"LogLevel": level})
    assert below_info == (level in ("TRACE", "DEBUG"))
    lambdas = level if below_info else "INFO"
    # Lambda lets through everything at INFO (the metric lines) and everything the function logs.
    assert LOG_LEVELS.index(lambdas) <= LOG_LEVELS.index("INFO")
    assert LOG_LEVELS.index(lambdas) <= LOG_LEVELS.index(level)


def test_no_function_sets_its_own_lambda_log_filter():
    for fn, resource in resources_of("AWS::Serverless::Function").items():
        own = resource["Properties"].get("LoggingConfig", {})
        assert set(own) <= {"LogGroup"}, f"{fn} sets {sorted(set(own) - {'LogGroup'})}"


# ---------------------------------------------------------------- X-Ray


def test_x_ray_traces_every_function_and_the_state_machine():
    assert GLOBAL_FUNCTION["Tracing"] == "Active"
    for fn, resource in resources_of("AWS::Serverless::Function").items():
        assert "Tracing" not in resource["Properties"], f"{fn} sets its own Tracing"
    assert RESOURCES["DeployStateMachine"]["Properties"]["Tracing"] == {"Enabled": True}


# ---------------------------------------------------------------- outputs


def test_the_dashboard_is_an_output():
    outputs = TEMPLATE["Outputs"]
    assert outputs["DashboardName"]["Value"] == {"Ref": "Dashboard"}
    url = outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    assert "${Dashboard}" in url and "region=${AWS::Region}" in url
    assert RESOURCES["Dashboard"]["Properties"]["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}


# What the local cloud resolves in Outputs (local/src/cloud/template.rs, get_att): its
# CloudFormation answers DescribeStacks with them, so an output it cannot resolve breaks
# the operator CLI's tests.
LOCALLY_RESOLVED_ATTRIBUTES = {"Arn", "Name", "QueueName", "TopicName", "FunctionUrl", "FunctionArn"}


def test_every_output_resolves_in_the_local_cloud():
    def attributes(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::GetAtt":
                    yield value[1]
                elif key == "Fn::Sub":
                    text = value if isinstance(value, str) else value[0]
                    yield from (n.split(".", 1)[1] for n in SUB_VARIABLE.findall(text) if "." in n and not n.startswith("AWS::"))
                    yield from attributes(value)
                else:
                    yield from attributes(value)
        elif isinstance(node, list):
            for item in node:
                yield from attributes(item)

    for name, output in TEMPLATE["Outputs"].items():
        unresolved = set(attributes(output["Value"])) - LOCALLY_RESOLVED_ATTRIBUTES
        assert not unresolved, f"Outputs.{name} uses {sorted(unresolved)}"
