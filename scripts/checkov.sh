#!/usr/bin/env bash
# Security lint of the infrastructure: checkov on template.yaml (its CloudFormation and
# SAM resources), offline. Any failed check fails the run. A check that does not apply
# is skipped on its resource (Metadata: checkov: skip, with the reason) and has its row
# in docs/security-lint.md. Run from the repository root after `make lint`'s install
# of .venv-checkov (lint/checkov.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV=.venv-checkov/bin/checkov
[[ -x $CHECKOV ]] || { echo "lint: $CHECKOV is missing; run 'make lint'" >&2; exit 1; }

# Nothing leaves the machine: no platform key (so no upload and no platform policies),
# --skip-download (no guidelines or ID mapping from the platform), and no version check
# against PyPI (which checkov otherwise makes on every start).
unset BC_API_KEY PRISMA_API_URL BC_API_URL
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE

"$CHECKOV" --file template.yaml --framework cloudformation --skip-download --compact --quiet
