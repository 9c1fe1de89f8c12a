#!/usr/bin/env bash
# `make package`: the Lambda packages exactly as `sam build` makes them, then
# checked (scripts/check_package.py) and run (scripts/run_bootstraps.py). Run
# by make, which installs the tools.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# SAM runs `cargo lambda build` without --locked: first prove Cargo.lock is
# current, so the build resolves exactly what was tested and changes nothing.
cargo metadata --locked --format-version 1 > /dev/null
# The packages are run after the build: on a host that is not aarch64 that
# needs qemu, so say so now rather than after the build.
.venv/bin/python scripts/run_bootstraps.py --check-host
# cargo-lambda and zig from the package lock; sam from the dev lock.
export PATH="$PWD/.venv-package/bin:$PATH"
.venv/bin/sam build
.venv/bin/python scripts/check_package.py .aws-sam/build template.yaml
built=$(date +%s)
# The panic probe, built with the command and profile SAM used, run as Lambda
# would: a handler's panic must come back as an error. Then every function
# SAM built, started with stand-in variables: each must answer and unwind.
# And an AWS call made in an invocation must carry its X-Ray trace header.
cargo lambda build --release --arm64 --locked -p autodeploy-panic-probe
.venv/bin/python scripts/run_bootstraps.py --panic-probe "${CARGO_TARGET_DIR:-target}/lambda/panic-probe/bootstrap"
.venv/bin/python scripts/run_bootstraps.py --functions .aws-sam/build template.yaml
.venv/bin/python scripts/run_bootstraps.py --trace .aws-sam/build template.yaml
end=$(date +%s)
echo "make package: $(( end - start )) s (sam build and checks $(( built - start )) s, runs $(( end - built )) s)"
