#!/usr/bin/env bash
# Static checks of the infrastructure: cfn-lint, sam validate --lint, the state
# machine definition (cfn-lint does not open DefinitionUri) and the security lint
# (checkov, scripts/checkov.sh). Offline, no AWS account. Run from the repository root
# through `make lint` (.venv, node_modules and .venv-checkov).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN=.venv/bin
NODE_BIN=node_modules/.bin
ASL=statemachine/deploy.asl.json

for tool in "$VENV_BIN/cfn-lint" "$VENV_BIN/sam" "$NODE_BIN/asl-validator" .venv-checkov/bin/checkov; do
  [[ -x $tool ]] || { echo "lint: $tool is missing; run 'make tools'" >&2; exit 1; }
done

# sam validate only transforms and lints locally, but it still builds an AWS session:
# give it a region and dummy credentials so it never looks for real ones.
export AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint AWS_SESSION_TOKEN=lint
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
export SAM_CLI_TELEMETRY=0

echo "== cfn-lint template.yaml"
"$VENV_BIN/cfn-lint" template.yaml

echo "== sam validate --lint"
"$VENV_BIN/sam" validate --lint --template template.yaml --region us-east-1

echo "== cfn-lint on the SAM-transformed template"
# cfn-lint checks SAM resources against SAM's schema without transforming them, and
# does not resolve Refs in their environment or inline policies. Linting the plain
# CloudFormation that the SAM transform produces (offline, local paths replaced by a
# placeholder S3 location) checks the generated roles, rules and permissions as well.
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
"$VENV_BIN/python" - template.yaml "$workdir/transformed.json" <<'PY'
import json, sys
from cfnlint.decode import decode
from samtranslator.translator.transform import transform

template, matches = decode(sys.argv[1])
if matches:
    sys.exit("\n".join(str(m) for m in matches))
placeholder = "s3://lint-placeholder-bucket/artifact"
for resource in [template.get("Globals", {}).get("Function", {}), *(r.get("Properties", {}) for r in template["Resources"].values())]:
    for key in ("CodeUri", "DefinitionUri"):
        if isinstance(resource.get(key), str) and not resource[key].startswith("s3://"):
            resource[key] = placeholder

class NoManagedPolicies:
    def load(self):
        return {}

json.dump(transform(template, {}, NoManagedPolicies()), open(sys.argv[2], "w"), indent=1)
PY
"$VENV_BIN/cfn-lint" "$workdir/transformed.json"

echo "== asl-validator $ASL"
# Fill every ${Substitution} with a syntactically valid Lambda ARN, as
# DefinitionSubstitutions does at deploy time.
substituted=$workdir/deploy.asl.json
sed -E 's/\$\{([A-Za-z0-9_]+)\}/arn:aws:lambda:us-east-1:123456789012:function:\1/g' "$ASL" >"$substituted"
if grep -q '\${' "$substituted"; then
  echo "lint: $ASL has a \${...} that is not a plain substitution name" >&2
  exit 1
fi
"$NODE_BIN/asl-validator" --json-path "$substituted"

echo "== checkov template.yaml (security lint; docs/security-lint.md)"
bash scripts/checkov.sh

echo "lint: all checks passed"
