"""scripts/run_bootstraps.py's stand-in Runtime API, against made-up runtimes
written here in Python: what `make package` accepts as "reports a panic and
lives on" and as "built to unwind", and what it refuses."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import run_bootstraps  # noqa: E402

# A runtime client: polls for an event, answers it as told, polls again, then
# does what the second event calls for.
RUNTIME = '''
import json, os, sys, urllib.error, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
answer, after = sys.argv[1], sys.argv[2]
if answer == "die":
    sys.exit(134)
event = urllib.request.urlopen(api + "/invocation/next")
rid = event.headers["Lambda-Runtime-Aws-Request-Id"]
if answer in ("traced", "untraced"):
    headers = {"X-Amzn-Trace-Id": event.headers["Lambda-Runtime-Trace-Id"]} if answer == "traced" else {}
    try:
        urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"], data=b"{}", headers=headers))
    except urllib.error.HTTPError:
        pass  # refused, as the stand-in refuses every AWS call
    answer = "error"
body = {"errorType": "&str", "errorMessage": "Lambda panicked: on purpose"} if answer == "panic" else \\
       {"errorType": "MalformedEvent", "errorMessage": "not an object"} if answer == "error" else {"ok": 1}
urllib.request.urlopen(urllib.request.Request(
    api + "/invocation/" + rid + "/" + ("response" if answer == "response" else "error"),
    data=json.dumps(body).encode(), method="POST"))
if after == "leave":
    sys.exit(0)
second = urllib.request.urlopen(api + "/invocation/next", timeout=60)
if second.headers.get("Lambda-Runtime-Aws-Request-Id") is None:
    sys.exit(int(after))
'''


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A `bootstrap` path whose process is the runtime above, run as `answer after`."""
    script = tmp_path / "runtime.py"
    script.write_text(RUNTIME)
    how: dict[str, list[str]] = {}
    monkeypatch.setattr(run_bootstraps, "runner", lambda: [sys.executable, str(script), *how["args"]])

    def make(answer: str, after: str = "101") -> None:
        how["args"] = [answer, after]

    return make


def test_a_panic_reported_as_an_error_and_a_next_poll_passes(runtime, tmp_path, capsys):
    runtime("panic")
    assert run_bootstraps.panic_probe(tmp_path / "bootstrap") == 0
    assert "lives on" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "after", "why"),
    [
        ("die", "101", "died"),  # panic = "abort": no answer at all
        ("error", "101", "not reported"),  # an error, but not the runtime's panic report
        ("response", "101", "not reported"),
        ("panic", "leave", "died (exit 0)"),  # answered, then gone instead of polling
    ],
)
def test_the_panic_probe_refuses_a_process_that_did_not_live_on(runtime, tmp_path, capsys, answer, after, why):
    runtime(answer, after)
    assert run_bootstraps.panic_probe(tmp_path / "bootstrap") == 1
    assert why in capsys.readouterr().out


def template(tmp_path: Path) -> Path:
    t = tmp_path / "template.yaml"
    t.write_text(
        "Globals:\n  Function:\n    Environment:\n      Variables: {STACK_NAME: !Ref AWS::StackName}\n"
        "Resources:\n"
        "  A:\n    Type: AWS::Serverless::Function\n"
        "    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: a}}\n"
        "    Properties:\n      Environment:\n        Variables: {APPROVAL_URL: !GetAtt U.FunctionUrl, TABLE: !Ref T}\n"
    )
    return t


def test_every_variable_of_a_function_gets_a_stand_in_of_its_shape(tmp_path):
    names = run_bootstraps.function_variables(template(tmp_path), "A")
    assert names == ["APPROVAL_URL", "STACK_NAME", "TABLE"]
    assert run_bootstraps.stand_in("APPROVAL_URL").startswith("https://")
    assert run_bootstraps.stand_in("STATE_MACHINE_ARN").startswith("arn:aws:")
    assert run_bootstraps.stand_in("ROLLOUT_TIMEOUT_SECONDS").isdigit()
    assert run_bootstraps.stand_in_variables(template(tmp_path), "A") == {
        "APPROVAL_URL": run_bootstraps.stand_in("APPROVAL_URL"),
        "STACK_NAME": "example",
        "TABLE": "example",
    }


@pytest.mark.parametrize(
    ("answer", "after", "passes"),
    [
        ("error", "101", True),  # answered, polled again, unwound out of main
        ("error", "134", False),  # SIGABRT's code through a shell: built to abort
        ("die", "101", False),  # never answered
        ("error", "leave", False),  # never asked for its next event
    ],
)
def test_a_function_passes_when_it_answers_polls_again_and_unwinds(runtime, tmp_path, capsys, answer, after, passes):
    runtime(answer, after)
    assert run_bootstraps.functions(tmp_path / "build", template(tmp_path)) == (0 if passes else 1)
    assert ("ok" if passes else "FAILED") in capsys.readouterr().out


def claim_service_template(tmp_path: Path) -> Path:
    t = tmp_path / "template.yaml"
    t.write_text(
        "Resources:\n"
        "  ClaimServiceFunction:\n    Type: AWS::Serverless::Function\n"
        "    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: claim-service}}\n"
    )
    return t


@pytest.mark.parametrize(("answer", "passes"), [("traced", True), ("untraced", False), ("error", False)])
def test_the_trace_check_wants_the_invocations_trace_header_on_every_aws_call(
    runtime, tmp_path, capsys, answer, passes
):
    runtime(answer)
    assert run_bootstraps.trace(tmp_path / "build", claim_service_template(tmp_path)) == (0 if passes else 1)
    out = capsys.readouterr().out
    assert ("carries its X-Ray trace header" in out) == passes, out
