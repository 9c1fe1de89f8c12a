# ecs-autodeploy — the two commands a newcomer needs:
#   make demo   the whole pipeline offline on the local cloud
#   make test   everything CI runs (installs what it needs into .venv and node_modules)

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo

.PHONY: help tools lock test style test-rust test-python lint build package demo proptest-long chaos bench

help:
	@echo "make demo    run the offline demo (local cloud)"
	@echo "make test    run every check CI runs"
	@echo "make lint    cfn-lint, sam validate --lint, ASL validation, checkov (security lint)"
	@echo "make style   cargo fmt --check and clippy with warnings as errors"
	@echo "make build   sam build (needs cargo-lambda; see README)"
	@echo "make package sam build with the locked cargo-lambda, then every bootstrap checked (arm64, size) and run (panics, trace)"
	@echo "make chaos   the chaos suite at full size; writes docs/reliability.md (not in make test)"
	@echo "make bench   the benchmark beside the AWS CLI and fabfuel; writes bench/results and README (not in make test)"
	@echo "make lock    the Python tool locks updated to the newest releases that fit (then make test)"
	@echo "make proptest-long  the parsers' property tests, 100,000 cases each (not in make test)"

# Project-local tools: a Python venv (moto, cfn-lint, aws-sam-cli, boto3, pytest)
# and node_modules (asl-validator), each exactly as locked: requirements-dev.txt
# (pins and hashes, written by `make lock` from requirements-dev.in) and
# package-lock.json (npm ci). Re-run only when a lock changes.
PIP_VERSION := 26.3
UV_VERSION := 0.13.9
tools: $(VENV)/.installed node_modules/.installed

# A virtual environment holding exactly what its lock lists: $(call locked_venv,DIR,LOCK).
define locked_venv
	python3 -m venv $(1)
	$(1)/bin/pip install --quiet pip==$(PIP_VERSION)
	$(1)/bin/pip install --quiet --require-hashes --no-deps -r $(2)
	touch $(1)/.installed
endef

$(VENV)/.installed: requirements-dev.txt
	$(call locked_venv,$(VENV),$<)

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Python locks written again from their .in files, every package at its
# newest release that fits (then `make test` says whether they still work).
LOCK_VENV := .venv-lock
lock:
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	for pair in requirements-dev.in:requirements-dev.txt bench/requirements.in:bench/requirements.txt lint/checkov.in:lint/checkov.txt package/requirements.in:package/requirements.txt; do \
	  in=$${pair%%:*}; out=$${pair##*:}; \
	  { echo "# The lock of $$in (every package pinned, with hashes): make installs exactly this."; \
	    echo "# Update it with \`make lock\` (uv pip compile --upgrade); do not edit by hand."; \
	    $(LOCK_VENV)/bin/uv pip compile "$$in" --upgrade --generate-hashes --python-version 3.11 \
	      --python-platform x86_64-unknown-linux-gnu --no-header --quiet --annotation-style line; \
	  } > "$$out.new" && mv "$$out.new" "$$out" || exit 1; \
	done

test: tools style lint test-rust test-python

# The workspace's lints are in Cargo.toml ([workspace.lints]) and clippy.toml.
style:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

# The property tests of every parser of outside input (shared/tests/properties.rs)
# run 256 cases each inside test-rust; this is the long mode.
proptest-long:
	PROPTEST_CASES=100000 $(CARGO) test -p autodeploy-shared --release --locked --test integration properties

test-python: tools
	$(CARGO) build -p autodeploy-local --locked
	$(PY) -m pytest -q tests local/tests

# The security linter (checkov) pins its own boto3 and botocore, so it has an
# environment of its own, exactly as locked in lint/checkov.txt (`make lock` writes
# it from lint/checkov.in). Only make lint needs it.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: lint/checkov.txt
	$(call locked_venv,$(CHECKOV_VENV),$<)

lint: tools $(CHECKOV_VENV)/.installed
	bash scripts/lint.sh

build:
	sam build

# The Lambda packages as `sam build` makes them (cargo-lambda, arm64), checked:
# every function's bootstrap is there, an aarch64 ELF, within its size budget.
# cargo-lambda (and zig, its linker) come from package/requirements.txt.
PACKAGE_VENV := .venv-package
$(PACKAGE_VENV)/.installed: package/requirements.txt
	$(call locked_venv,$(PACKAGE_VENV),$<)

package: tools $(PACKAGE_VENV)/.installed
	bash scripts/package.sh

# The chaos suite at full size (make test runs it smaller): the reliability table.
chaos: tools
	$(CARGO) build -p autodeploy-local --locked
	"$${CARGO_TARGET_DIR:-target}/debug/autodeploy-local" chaos --full --write docs/reliability.md

# The benchmark in full (make test runs its smoke): the peer tools pinned in
# their own environment, results in bench/results/, the README's Performance table.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(call locked_venv,$(BENCH_VENV),$<)

# The local cloud is built optimised (profile bench-local): a debug build's
# steps cost more than the functions do in Lambda and would be measured instead.
bench: tools $(BENCH_VENV)/.installed
	$(CARGO) build --profile bench-local -p autodeploy-local --locked
	"$${CARGO_TARGET_DIR:-target}/bench-local/autodeploy-local" bench --tools $(BENCH_VENV)/bin --write bench/results --readme README.md

demo: tools
	$(CARGO) build -p autodeploy-local --locked
	RUST_LOG="$${RUST_LOG:-warn}" "$${CARGO_TARGET_DIR:-target}/debug/autodeploy-local" demo
