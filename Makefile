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

.PHONY: help setup engine up preview policy-preview render destroy recover test check lint unit e2e schema \
	package-schema \
	bench clean cluster-bin cluster-up cluster-down cluster-status operator-double

help:
	@echo "make up [STACK=dev|dev-ga]        pulumi up; a cluster stack (staging, prod) needs CLUSTER=yes"
	@echo "make preview [STACK=...]          show the diff (a cluster stack: offline, on a disposable copy)"
	@echo "make render STACK=...             write a stack's manifests into rendered/<stack>, offline"
	@echo "make policy-preview [STACK=...]   preview with the guardrails policy pack"
	@echo "make destroy [STACK=...]          remove what up created (a cluster stack needs CLUSTER=yes)"
	@echo "make recover [STACK=...]          after a crash: unlock the stack, drop pending operations"
	@echo "make test                         set up, then lint, types, unit and end-to-end tests"
	@echo "make check                        the fast part: lint, types, unit tests (no engine)"
	@echo "make schema | make bench          regenerate the stack-file schema | run the benchmark"
	@echo "make package-schema               regenerate the component package's schema"
	@echo "make cluster-up|cluster-down|cluster-status  the local API server (STACK=local uses it)"
	@echo "make operator-double [DOUBLE_ARGS=...]  a test double of the broker's operator for it"

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

engine:
	tools/ensure-engine >/dev/null

# tools/stacks decides per stack (docs: README "Environments"): a production stack
# (aio-mq:production, true unless a stack says false) runs the guardrails policy pack; a cluster
# stack is changed only with CLUSTER=yes, and previewed or rendered offline on a disposable copy.
# A local stack (local, local-ga: on tools/local-cluster) starts its cluster and acts on it.
up preview policy-preview render destroy: setup engine
	tools/stacks run $@ $(STACK) --cluster '$(CLUSTER)'

recover: setup engine
	tools/recover $(STACK)

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
	cd / && "$(CURDIR)/tools/pulumi" package get-schema "$(CURDIR)" > "$(CURDIR)/schema/pulumi-package.schema.json.new"
	mv "$(CURDIR)/schema/pulumi-package.schema.json.new" "$(CURDIR)/schema/pulumi-package.schema.json"

bench: setup
	$(PY) -m tools.bench $(BENCH_ARGS)

# The local cluster's binaries (tests on a real API server start clusters of their own).
cluster-bin: setup
	tools/local-cluster build >/dev/null

cluster-up: setup
	tools/local-cluster up --aio-defaults

cluster-down:
	tools/local-cluster down

cluster-status:
	tools/local-cluster status

# A TEST DOUBLE of the broker's operator for the local cluster (tools/cluster/operator_double.py):
# it answers GA objects' status and gives listeners a Service, so `up STACK=local-ga` has a broker
# answer to wait for. Runs in the foreground; e.g. DOUBLE_ARGS="--reject-port 1883='in use'".
operator-double: setup
	tools/operator-double $(DOUBLE_ARGS)

clean:
	rm -rf rendered .pulumi-state
