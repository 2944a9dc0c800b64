# orderflow — every entry point a newcomer needs. `make preview` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
REQUIREMENTS := requirements.txt requirements-test.txt policy/requirements.txt handlers/requirements.txt \
	handlers/layer-requirements.txt

.PHONY: install policy-venv preview test lint bench diagram docs capacity burst clean

# The venv is rebuilt only when a requirements file changes.
$(VENV)/.installed: $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --requirement requirements-test.txt
	touch $@

install: $(VENV)/.installed

## policy-venv: the policy pack's own virtualenv (PulumiPolicy.yaml names policy/venv), for the pulumi CLI.
policy-venv: policy/venv/.installed

policy/venv/.installed: policy/requirements.txt
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --disable-pip-version-check --requirement policy/requirements.txt
	touch $@

## preview: the plan for STACK (default dev): `pulumi preview` with policies when the CLI and AWS
## credentials are present, otherwise the offline plan through the recording harness.
preview: $(VENV)/.installed
	$(PY) -m offline.preview --stack $(STACK)

## test: every suite (unit, program, policy, handlers, workflows, end to end), then lint and types.
test: $(VENV)/.installed
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory lint

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy __main__.py components offline orderflow benchmarks handlers
	$(VENV)/bin/mypy policy

## diagram: regenerate docs/architecture.dot from the program and render it (installs Graphviz if missing).
diagram: $(VENV)/.installed
	command -v dot >/dev/null || (apt-get update -qq && apt-get install -y -qq graphviz)
	$(PY) -m offline.diagram --stack dev

## docs: regenerate everything under docs/ that is generated from the code (diagram, event catalogue).
docs: diagram
	$(PY) -m offline.catalogue --stack dev

## capacity: ceilings per hop, the first bottleneck and the cost per 1,000 orders for STACK at RATE orders/s.
RATE ?= 100
capacity: $(VENV)/.installed
	$(PY) -m offline.capacity --stack $(STACK) --rate $(RATE) $(ARGS)

## burst: seeded simulation of 10 x RATE orders/s for 60 s through STACK (throttles, retries, DLQs, losses).
burst: $(VENV)/.installed
	$(PY) -m offline.burst --stack $(STACK) --rate $(RATE) $(ARGS)

## bench: speed, size and cost figures (never asserted in tests).
bench: $(VENV)/.installed
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
