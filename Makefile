# orderflow — every entry point a newcomer needs. `make preview` and `make test` install what they need.
SHELL := /bin/bash
# The functions run on Lambda's python3.13 (components/function.py); the tests, the program and the layers'
# bytecode run on that same Python, named once in .python-version (pyenv, uv and actions/setup-python read it).
PYTHON_VERSION := $(shell cat .python-version)
# `make PYTHON=/path/to/python3.13 ...` names the interpreter; otherwise the first of these on that version.
PYTHON_CANDIDATES = $(or $(PYTHON),python$(PYTHON_VERSION) \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION)) python3)
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
# Debian packages (Chromium) are installed as root: through sudo when make runs as another user.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
REQUIREMENTS := requirements.txt requirements-test.txt policy/requirements.txt handlers/requirements.txt \
	handlers/layer-requirements.txt local/requirements.txt .python-version
# The installer of the main venv (see INSTALL_VENV).
UV := uv==0.13.8
# The order page imports the MQTT client from here (pinned by web/package-lock.json; never a CDN).
WEB_VENDOR := web/public/vendor/mqtt.esm.js
# Every command here starts Python processes (the tests alone start hundreds: workers, pack processes, CLIs).
# Images that set PYTHONDONTWRITEBYTECODE make each one compile every module it imports from source again
# (pulumi_aws, moto, the project, pytest's rewritten tests); the caches go to git-ignored __pycache__ folders.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: install policy-venv preview test test-suites test-browser check lint bench diagram docs ops capacity burst clean web browser local

# The interpreter on .python-version's version, into $$interpreter: PYTHON= when given, else the first candidate
# on that version; without one on PATH or in pyenv, Debian's package where the release has one. Otherwise one
# clear line says what is needed.
PYTHON_OF = $$($(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
FIND_PYTHON = interpreter=""; \
	for candidate in $(PYTHON_CANDIDATES); do \
	  if [ "$(call PYTHON_OF,$$candidate)" = "$(PYTHON_VERSION)" ]; then interpreter=$$candidate; break; fi; done; \
	if [ -z "$$interpreter" ] && [ -z "$(PYTHON)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq >/dev/null 2>&1 || true; \
	  if apt-cache show python$(PYTHON_VERSION)-venv >/dev/null 2>&1; then \
	    apt-get install -y -qq python$(PYTHON_VERSION)-venv >/dev/null && interpreter=python$(PYTHON_VERSION); fi; \
	fi; \
	if [ -z "$$interpreter" ]; then \
	  found="$(call PYTHON_OF,$(or $(PYTHON),python$(PYTHON_VERSION)))"; \
	  echo "orderflow needs Python $(PYTHON_VERSION) (.python-version: the functions' Lambda runtime, which the tests" \
	    "run on too); PYTHON=$(or $(PYTHON),python$(PYTHON_VERSION)) is $${found:-not found}. Install it (pyenv" \
	    "install $(PYTHON_VERSION), or apt-get install python$(PYTHON_VERSION)-venv on Debian 13) or name one:" \
	    "make PYTHON=/path/to/python$(PYTHON_VERSION) ..." >&2; \
	  exit 1; \
	fi
# Installs requirements $(2) into the venv $(1), made anew when it is on another Python; a failed or interrupted
# install removes $(1), so no half-built venv is kept. With $(3) set, through uv (pip installs it first): the
# same versions as pip (compared with pip freeze) in seconds instead of minutes, from uv's own cache after the
# first time; compiled to bytecode as pip does (uv does not by default), so no process pays for it later.
define INSTALL_VENV
	@trap 'rm -rf $(1); echo "make: installing into $(1)/ failed or was interrupted: removed it; run make again" >&2' EXIT; \
	trap 'exit 130' INT TERM; \
	set -e; \
	if [ "$(call PYTHON_OF,$(1)/bin/python)" != "$(PYTHON_VERSION)" ]; then \
	  $(FIND_PYTHON); \
	  echo "creating $(1)/ with $$interpreter ($$($$interpreter --version))"; \
	  rm -rf $(1); $$interpreter -m venv $(1); \
	fi; \
	$(if $(3),$(1)/bin/python -m pip install --quiet --disable-pip-version-check $(UV); \
	  $(1)/bin/uv pip install --quiet --compile-bytecode --python $(1)/bin/python --requirement $(2), \
	  $(1)/bin/python -m pip install --quiet --disable-pip-version-check --requirement $(2)); \
	touch $(1)/.installed; \
	trap - EXIT
endef

# The venv is updated when a requirements file changes, and made anew when it is on another Python. Without
# Python $(PYTHON_VERSION) on PATH or in pyenv, Debian's package is installed where the release has one.
$(VENV)/.installed: $(REQUIREMENTS)
	@echo "Installing orderflow's Python packages into $(VENV)/ (a few minutes the first time)..."
	$(call INSTALL_VENV,$(VENV),requirements-test.txt,uv)

install: $(VENV)/.installed

## web: the page's npm packages (npm ci from the lock file) and its copy of the MQTT browser bundle.
web: $(WEB_VENDOR)

$(WEB_VENDOR): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@) && cp web/node_modules/mqtt/dist/mqtt.esm.js $@

## browser: Debian's Chromium for the browser tests (installed if missing; Playwright drives this one).
browser:
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

## policy-venv: the policy pack's own virtualenv (PulumiPolicy.yaml names policy/venv), for the pulumi CLI.
policy-venv: policy/venv/.installed

policy/venv/.installed: policy/requirements.txt
	@echo "Installing the policy pack's packages into policy/venv/ (the pulumi CLI runs the pack from there)..."
	$(call INSTALL_VENV,policy/venv,policy/requirements.txt)

## preview: the plan for STACK (default dev): `pulumi preview` with policies when the CLI and AWS
## credentials are present (policy/venv is built first), otherwise the offline plan through the recording
## harness. Exit status of the plan: 0 clean, 1 mandatory violation, 2 stack/config error, 3 program error;
## make itself exits 2 on any of 1-3 and names the plan's status in its last line ("Error 3").
# Without a pulumi CLI on PATH the plan is offline: no interpreter is started only to say so.
preview: $(VENV)/.installed $(WEB_VENDOR)
	@if command -v pulumi >/dev/null && $(PY) -m offline.preview --uses-real-cli; then \
	  $(MAKE) --no-print-directory policy-venv; fi
	$(PY) -m offline.preview --stack $(STACK)

## ops: operate a deployed stack (python -m orderflow.ops): make ops ARGS="status --stack prod".
ops: $(VENV)/.installed
	$(PY) -m orderflow.ops $(ARGS)

## local: the whole system on this machine (page, API, emulated AWS, MQTT broker); Ctrl-C stops it.
local: $(VENV)/.installed $(WEB_VENDOR)
	$(PY) -m local $(ARGS)

## test: every suite (unit, program, policy, handlers, workflows, end to end), and lint and types.
# The installs are independent and mostly wait on the network, so they run side by side. The suites run on
# every core (pytest-xdist), a test file per worker so its module fixtures (programs, pack processes) are
# shared, with lint beside them in the gaps; each one's output is printed whole when it ends. The browser tests
# run beside them in a process of their own: Playwright's event loop must not be the one the other suites'
# in-process Pulumi programs run on (one full run hung recording a program in the worker that had driven the
# browser), and they mostly wait on the page.
test:
	@$(MAKE) --no-print-directory -j3 $(VENV)/.installed $(WEB_VENDOR) browser
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-suites test-browser lint

test-browser: $(VENV)/.installed $(WEB_VENDOR) browser
	$(PY) -m pytest -q tests/browser

XDIST := -n auto --dist loadfile --no-loadscope-reorder
test-suites: $(VENV)/.installed
	$(PY) -m pytest -q $(XDIST) $(or $(TESTS),--ignore=tests/browser)

## check: the edit loop (under a minute): lint, types, and the unit tests of the builders, rules and handlers.
# These tests take ~20 s in one process; two workers would each pay the imports and finish later.
check: $(VENV)/.installed
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint test-suites XDIST= TESTS="tests/unit tests/handlers \
	  tests/policy/test_policy_resource_rules.py tests/policy/test_policy_stack_rules.py tests/policy/test_policy_core.py"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy __main__.py components offline orderflow benchmarks handlers local
	$(VENV)/bin/mypy policy

## diagram: regenerate docs/architecture.dot from the program and render it (installs Graphviz if missing).
diagram: $(VENV)/.installed $(WEB_VENDOR)
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
