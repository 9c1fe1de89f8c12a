#!/usr/bin/env bash
# `make package`: the Lambda packages exactly as `sam build` makes them, then
# checked (scripts/check_package.py). Run by make, which installs the tools.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# SAM runs `cargo lambda build` without --locked: first prove Cargo.lock is
# current, so the build resolves exactly what was tested and changes nothing.
cargo metadata --locked --format-version 1 > /dev/null
# cargo-lambda and zig from the package lock; sam from the dev lock.
PATH="$PWD/.venv-package/bin:$PATH" .venv/bin/sam build
.venv/bin/python scripts/check_package.py .aws-sam/build template.yaml
echo "make package: $(( $(date +%s) - start )) s"
