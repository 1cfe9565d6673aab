# aio-mq: `make up` deploys the dev stack offline, `make test` runs every check.
# Everything is installed by these targets; nothing needs to be on the machine but
# Python 3.11 and Go (the Pulumi engine is built from Go modules on first use).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
STACK ?= dev
VENV := venv
PY := $(VENV)/bin/python
PULUMI := tools/pulumi

.PHONY: help setup engine stack-select up preview policy-preview destroy test check lint unit e2e schema package-schema \
	bench clean cluster-bin cluster-up cluster-down cluster-status

help:
	@echo "make up [STACK=dev|staging|prod]  set up, then pulumi up (dev renders to rendered/dev)"
	@echo "make preview [STACK=...]          show the diff (staging/prod render offline)"
	@echo "make policy-preview [STACK=...]   preview with the guardrails policy pack"
	@echo "make destroy [STACK=...]          remove what up created"
	@echo "make test                         set up, then lint, types, unit and end-to-end tests"
	@echo "make check                        the fast part: lint, types, unit tests (no engine)"
	@echo "make schema | make bench          regenerate the stack-file schema | run the benchmark"
	@echo "make package-schema               regenerate the component package's schema"
	@echo "make cluster-up|cluster-down|cluster-status  the local API server (STACK=local uses it)"

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

engine:
	tools/ensure-engine >/dev/null

# dev renders, local deploys to the local cluster; the other stacks talk to real clusters, so
# offline they render into rendered/<stack> instead.
render_override = $(if $(filter dev local,$(STACK)),,AIO_MQ_RENDER_YAML_TO_DIRECTORY=rendered/$(STACK))
# The local stack needs its cluster: started (or reused) with what a fresh AIO install has.
local_cluster = $(if $(filter local,$(STACK)),tools/local-cluster up --aio-defaults >/dev/null,true)

stack-select: setup engine
	$(local_cluster)
	$(PULUMI) stack select $(STACK) --create --non-interactive >/dev/null

# On the local cluster, up first reads back what the API server holds, so drift is put back.
refresh = $(if $(filter local,$(STACK)),--refresh,)

up: stack-select
	$(render_override) $(PULUMI) up --yes $(refresh) --stack $(STACK)
	$(PULUMI) stack output --stack $(STACK) --json

preview: stack-select
	$(render_override) $(PULUMI) preview --diff --stack $(STACK)

policy-preview: stack-select
	policy/ensure-venv >/dev/null
	$(render_override) $(PULUMI) preview --diff --stack $(STACK) --policy-pack policy

destroy: stack-select
	$(render_override) $(PULUMI) destroy --yes --stack $(STACK)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

unit: setup
	$(VENV)/bin/pytest -m "not e2e"

e2e: setup engine cluster-bin
	$(VENV)/bin/pytest -m e2e

check: lint unit

test: lint engine cluster-bin
	$(VENV)/bin/pytest

schema: setup
	$(PY) -m components.schema

# What `pulumi package get-schema` prints for this directory as a package (PulumiPlugin.yaml).
# Run from outside: `pulumi package` commands refuse a directory with both Pulumi.yaml and
# PulumiPlugin.yaml as their working directory.
package-schema: setup engine
	cd / && "$(CURDIR)/$(PULUMI)" package get-schema "$(CURDIR)" > "$(CURDIR)/schema/pulumi-package.schema.json"

bench: setup
	$(PY) tools/bench.py $(BENCH_ARGS)

# The local cluster's binaries (tests on a real API server start clusters of their own).
cluster-bin: setup
	tools/local-cluster build >/dev/null

cluster-up: setup
	tools/local-cluster up --aio-defaults

cluster-down:
	tools/local-cluster down

cluster-status:
	tools/local-cluster status

clean:
	rm -rf rendered .pulumi-state
