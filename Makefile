# xpander-redshift: the commands users, CI and the README rely on.
#   make setup   .venv with the pinned requirements and the workflow linters; idempotent
#   make plan    offline plan of the dev stack (no cloud account, no Pulumi CLI)
#   make test    lint, type check and the whole test suite (starts its own local servers;
#                as root, installs PostgreSQL 15 for the SQL tests first if the machine lacks it)
#   make lint    ruff, and the workflow linters (actionlint, zizmor)
#   make verify  the guide's connection checks against a deployed stack: make verify ARGS="--json"
#   make connector  the connectorConfig fields for the xpander UI: make connector ARGS="--json"

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
ARGS ?=

.PHONY: setup plan test lint lint-workflows typecheck postgres verify connector clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

plan: $(STAMP)
	@$(PY) -m tools.plan $(ARGS)

lint: lint-workflows
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lint-workflows: $(STAMP) $(NODE_STAMP)
	./scripts/lint-workflows.sh

typecheck: $(STAMP)
	$(PY) -m mypy

postgres:
	./scripts/ensure-postgres.sh

test: lint typecheck postgres
	$(PY) -m pytest

verify: $(STAMP)
	@$(PY) -m tools.verify $(ARGS)

connector: $(STAMP)
	@$(PY) -m tools.connector $(ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
