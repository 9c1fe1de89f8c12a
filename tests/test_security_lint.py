"""The security lint (checkov, in make lint) and what it made the template do.

Each test states one thing that drifts unnoticed otherwise: a skipped check with no
reason, or with no row in docs/security-lint.md (or a row for a check nothing skips);
iam:PassRole back on every role of the account; a function whose role cannot use the
tables' customer managed key; a secret in an environment variable; the linter no longer
run, no longer locked, or calling out of the machine.
"""

import fnmatch
import json
import re
import subprocess
from pathlib import Path

import pytest

from test_wiring import GLOBAL_FUNCTION, RESOURCES, TEMPLATE, resources_of, statements

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "security-lint.md").read_text()
README = (ROOT / "README.md").read_text()
FUNCTIONS = sorted(resources_of("AWS::Serverless::Function"))
CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")


# ---------------------------------------------------------------- skips and their reasons


def skips() -> list[tuple[str, str, str]]:
    """(resource, check id, comment) of every checkov skip in the template."""
    out = []
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            out.append((name, skip.get("id"), skip.get("comment")))
    return out


def doc_rows() -> dict[str, list[str]]:
    """Check id -> the cells of its row in the doc's "Skipped checks" table."""
    section = DOC.split("## Skipped checks", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| CKV"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert cells[0] not in rows, f"two rows for {cells[0]}"
            rows[cells[0]] = cells
    return rows


def test_there_are_skips_and_each_names_a_check_and_gives_its_reason():
    assert skips()
    for resource, check, comment in skips():
        assert isinstance(check, str) and CHECK_ID.match(check), f"{resource}: skip id {check!r}"
        assert isinstance(comment, str) and len(comment.split()) >= 5, f"{resource}: {check} needs a reason, not {comment!r}"


def test_no_resource_skips_a_check_twice():
    seen = [(resource, check) for resource, check, _ in skips()]
    assert len(seen) == len(set(seen))


def test_every_skipped_check_has_its_row_in_the_doc_and_every_row_a_skip():
    rows = doc_rows()
    skipped = {check for _, check, _ in skips()}
    assert skipped == set(rows), f"skipped, no row: {skipped - set(rows)}; row, never skipped: {set(rows) - skipped}"
    for check, cells in rows.items():
        assert len(cells) == 4 and all(cells), f"{check}: check, what it asks, skipped on, why"


def test_the_doc_says_nothing_of_where_the_work_came_from():
    assert not re.search(r"\bissues?\b|#\d+", DOC, re.I)


def test_skips_sit_on_resources_checkov_reads_and_functions_keep_their_build_metadata():
    for resource, _, _ in skips():
        assert RESOURCES[resource]["Type"].startswith("AWS::")
    for fn in FUNCTIONS:
        metadata = RESOURCES[fn]["Metadata"]
        assert metadata["BuildMethod"] == "rust-cargolambda" and metadata["BuildProperties"]["Binary"], fn


# ---------------------------------------------------------------- iam:PassRole

PASS_ROLE_DEFAULT_ALLOWS = [
    "ecsTaskExecutionRole", "ecsTaskRole", "ecs/web", "web-task", "web-task-role", "web-exec", "web_task_execution",
    "prod-WebService-TaskDefTaskRole1A2B3C-4D5E6F", "prod-WebService-TaskDefExecutionRole1A2B3C-4D5E6F",
    "myapp-test-web-TaskRole-ABC123", "myapp-test-web-ExecutionRole-ABC123", "WebECSRole",
]
PASS_ROLE_DEFAULT_REFUSES = [
    "Admin", "OrganizationAccountAccessRole", "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
    "payments", "deploy", "GitHubActions-OIDC",
]


def pass_role_statement() -> dict:
    found = [(fn, s) for fn in FUNCTIONS for s in statements(fn) if "iam:PassRole" in json.dumps(s["Action"])]
    assert [fn for fn, _ in found] == ["RegisterRevisionFunction"], "only register-revision passes roles"
    return found[0][1]


def default_patterns() -> list[str]:
    resource = pass_role_statement()["Resource"]
    condition, configured, default = resource["Fn::If"]
    assert (condition, configured) == ("HasTaskRoleArns", {"Ref": "TaskRoleArns"})
    assert isinstance(default, list) and default
    prefix = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    patterns = []
    for arn in default:
        assert set(arn) == {"Fn::Sub"} and arn["Fn::Sub"].startswith(prefix), arn
        patterns.append(arn["Fn::Sub"].removeprefix(prefix))
    return patterns


def test_pass_role_goes_to_ecs_tasks_only():
    statement = pass_role_statement()
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert TEMPLATE["Parameters"]["TaskRoleArns"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasTaskRoleArns"] == {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "TaskRoleArns"}]}, ""]}]}


def test_pass_role_default_is_not_every_role_of_the_account():
    for pattern in default_patterns():
        marker = pattern.replace("*", "").replace("?", "")
        assert len(marker) >= 3 and pattern != "*", f"role/{pattern} is (nearly) any role"
        assert "/" not in marker, "a marker, not a path"


@pytest.mark.parametrize("name", PASS_ROLE_DEFAULT_ALLOWS)
def test_pass_role_default_covers_the_usual_task_and_execution_role_names(name):
    # IAM's ARN wildcards as fnmatch's, case-sensitive: * any run (slashes too), ? one character.
    assert any(fnmatch.fnmatchcase(name, p) for p in default_patterns()), name


@pytest.mark.parametrize("name", PASS_ROLE_DEFAULT_REFUSES)
def test_pass_role_default_leaves_out_roles_named_otherwise(name):
    assert not any(fnmatch.fnmatchcase(name, p) for p in default_patterns()), name


def test_the_readme_lists_the_markers_the_template_uses():
    paragraph = README.split("**Which roles a revision may pass.**", 1)[1].split("\n\n", 1)[0]
    listed = re.search(r"whose name contains\s+(.+?)\s+\(IAM", paragraph, re.S).group(1)
    assert sorted(re.findall(r"`([^`]+)`", listed)) == sorted(p.strip("*") for p in default_patterns())
    row = next(line for line in README.splitlines() if line.startswith("| `TaskRoleArns` |"))
    assert "any role" not in row


# ---------------------------------------------------------------- the tables' key


def test_tables_take_the_optional_customer_managed_key():
    parameter = TEMPLATE["Parameters"]["TableKmsKeyArn"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "")
    allowed = re.compile(parameter["AllowedPattern"])
    assert allowed.match("") and allowed.match("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert allowed.match("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")
    assert not allowed.match("arn:aws:kms:eu-west-1:111122223333:alias/mine"), "IAM cannot grant a key by its alias"
    assert TEMPLATE["Conditions"]["HasTableKmsKey"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "TableKmsKeyArn"}, ""]}]}
    tables = resources_of("AWS::DynamoDB::Table")
    assert len(tables) == 3
    for name, table in tables.items():
        assert table["Properties"]["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Fn::If": ["HasTableKmsKey", {"Ref": "TableKmsKeyArn"}, {"Ref": "AWS::NoValue"}]},
        }, name


def test_every_function_may_use_the_tables_key_through_dynamodb_only():
    policy = RESOURCES["TableKeyUsePolicy"]
    assert (policy["Type"], policy["Condition"]) == ("AWS::IAM::ManagedPolicy", "HasTableKmsKey")
    # Every function reads or writes a table; SAM names its generated role <Function>Role.
    assert all("Role" not in RESOURCES[fn]["Properties"] for fn in FUNCTIONS)
    assert policy["Properties"]["Roles"] == [{"Ref": f"{fn}Role"} for fn in RESOURCES if fn in FUNCTIONS]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
    assert statement["Resource"] == {"Ref": "TableKmsKeyArn"}
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}}
    output = TEMPLATE["Outputs"]["TableKeyUsePolicyArn"]
    assert (output["Condition"], output["Value"]) == ("HasTableKmsKey", {"Ref": "TableKeyUsePolicy"})


# ---------------------------------------------------------------- no secret in the environment

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY", re.I)


def test_environment_variables_hold_references_never_a_secret():
    """What the CKV_AWS_173 skips say: each variable is a reference to a resource, a
    parameter or a pseudo parameter, and none of the parameters is NoEcho."""
    assert not [p for p, spec in TEMPLATE["Parameters"].items() if spec.get("NoEcho")]
    sources = [("Globals", GLOBAL_FUNCTION["Environment"]["Variables"])]
    sources += [(fn, RESOURCES[fn]["Properties"].get("Environment", {}).get("Variables", {})) for fn in FUNCTIONS]
    for owner, variables in sources:
        for name, value in variables.items():
            assert not SECRET_NAME.search(name), f"{owner}: {name}"
            assert isinstance(value, dict) and len(value) == 1 and set(value) <= {"Ref", "Fn::GetAtt", "Fn::Sub"}, f"{owner}: {name} = {value!r}"


# ---------------------------------------------------------------- the linter itself


def test_make_lint_runs_checkov_offline_from_its_own_locked_environment():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lint: .*\$\(CHECKOV_VENV\)/\.installed", makefile, re.M)
    assert "CHECKOV_VENV := .venv-checkov" in makefile
    # What make would run to build the environment (whatever the recipe's spelling).
    rule = subprocess.run(
        ["make", "-n", "-B", ".venv-checkov/.installed"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"pip install --quiet pip==\d", rule) and "--require-hashes --no-deps -r lint/checkov.txt" in rule
    assert "lint/checkov.in:lint/checkov.txt" in makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/checkov.sh" in (ROOT / "scripts" / "lint.sh").read_text()
    script = (ROOT / "scripts" / "checkov.sh").read_text()
    assert re.search(r"^unset .*\bBC_API_KEY\b", script, re.M)
    assert "CKV_SKIP_PACKAGE_UPDATE_CHECK=true" in script
    command = next(line for line in script.splitlines() if line.startswith('"$CHECKOV"'))
    for flag in ["--file template.yaml", "--framework cloudformation", "--skip-download", "--compact", "--quiet"]:
        assert flag in command
    assert "--soft-fail" not in script, "a failed check fails the build"
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert {"/.venv-checkov", "/.venv-lock"} <= set(gitignore)


def test_the_checkov_lock_pins_what_its_input_names_with_hashes():
    wanted = [line for line in (ROOT / "lint" / "checkov.in").read_text().splitlines() if line and not line.startswith("#")]
    assert len(wanted) == 1 and re.fullmatch(r"checkov==3\.\d+\.\d+", wanted[0])
    lock = (ROOT / "lint" / "checkov.txt").read_text()
    assert lock.startswith("# The lock of lint/checkov.in (every package pinned, with hashes): make installs exactly this.\n")
    assert re.search(rf"^{re.escape(wanted[0])} \\$", lock, re.M)
    requirements = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2].strip())
    assert len(requirements) > 10
    for requirement in requirements:
        assert re.match(r"[a-z0-9._-]+==\S+ \\\n", requirement) and "--hash=sha256:" in requirement, requirement[:80]
