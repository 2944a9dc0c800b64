# orderflow — every entry point a newcomer needs. `make preview` and `make test` install what they need.
SHELL := /bin/bash
# The functions run on Lambda's python3.13 (components/function.py); the tests, the program and the layers'
# bytecode run on that same Python, named once in .python-version (pyenv, uv and actions/setup-python read it).
PYTHON_VERSION := $(shell cat .python-version)
# `make PYTHON=/path/to/python3.13 ...` names the interpreter; otherwise the first of these on that version.
PYTHON_CANDIDATES = $(PYTHON) python$(PYTHON_VERSION) \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION)) python3
IS_PYTHON_VERSION = -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))'
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
REQUIREMENTS := requirements.txt requirements-test.txt policy/requirements.txt handlers/requirements.txt \
	handlers/layer-requirements.txt .python-version

.PHONY: install policy-venv preview test lint bench diagram docs clean

# The venv is updated when a requirements file changes, and made anew when it is on another Python. Without
# Python $(PYTHON_VERSION) on PATH or in pyenv, Debian's package is installed where the release has one.
$(VENV)/.installed: $(REQUIREMENTS)
	@if ! $(PY) $(IS_PYTHON_VERSION) 2>/dev/null; then \
	  interpreter=$$(for candidate in $(PYTHON_CANDIDATES); do \
	    if $$candidate $(IS_PYTHON_VERSION) 2>/dev/null; then echo $$candidate; break; fi; done); \
	  if [ -z "$$interpreter" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq >/dev/null 2>&1; \
	    if apt-cache show python$(PYTHON_VERSION)-venv >/dev/null 2>&1; then \
	      apt-get install -y -qq python$(PYTHON_VERSION)-venv >/dev/null && interpreter=python$(PYTHON_VERSION); \
	    fi; \
	  fi; \
	  if [ -z "$$interpreter" ]; then \
	    echo "error: Python $(PYTHON_VERSION) not found. The functions run on Lambda's python$(PYTHON_VERSION) and the" \
	      "tests run on the same version (.python-version): install it (pyenv install $(PYTHON_VERSION)," \
	      "uv python install $(PYTHON_VERSION), or apt-get install python$(PYTHON_VERSION)-venv on Debian 13)" \
	      "or name it: make PYTHON=/path/to/python$(PYTHON_VERSION) ..." >&2; \
	    exit 1; \
	  fi; \
	  echo "creating $(VENV)/ with $$interpreter ($$($$interpreter --version))"; \
	  rm -rf $(VENV) && $$interpreter -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --requirement requirements-test.txt
	touch $@

install: $(VENV)/.installed

## policy-venv: the policy pack's own virtualenv (PulumiPolicy.yaml names policy/venv), for the pulumi CLI.
policy-venv: policy/venv/.installed

policy/venv/.installed: policy/requirements.txt
	test -x policy/venv/bin/python || $(or $(PYTHON),python3) -m venv policy/venv
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

## bench: speed, size and cost figures (never asserted in tests).
bench: $(VENV)/.installed
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
