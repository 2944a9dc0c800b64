# orderflow — every entry point a newcomer needs. `make preview` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
# Debian packages (Chromium) are installed as root: through sudo when make runs as another user.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
REQUIREMENTS := requirements.txt requirements-test.txt policy/requirements.txt handlers/requirements.txt \
	handlers/layer-requirements.txt local/requirements.txt
# The order page imports the MQTT client from here (pinned by web/package-lock.json; never a CDN).
WEB_VENDOR := web/public/vendor/mqtt.esm.js

.PHONY: install policy-venv preview test lint bench diagram docs ops capacity burst clean web browser local

# Python 3.11+ is checked before anything is built, so an old or missing interpreter gets one clear line.
CHECK_PYTHON = version=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case "$$version" in 3.1[1-9]|3.[2-9][0-9]) ;; \
	*) echo "orderflow needs Python 3.11 or newer; PYTHON=$(PYTHON) is $${version:-not found}." \
		"Install python3.11 (or newer) and run make again, or name one: make PYTHON=python3.12 ..." >&2; exit 1;; esac
# Runs an install into DIR; a failed or interrupted install removes DIR, so no half-built venv is kept.
define INSTALL_VENV
	@$(CHECK_PYTHON)
	@trap 'rm -rf $(1); echo "make: installing into $(1)/ failed or was interrupted: removed it; run make again" >&2' EXIT; \
	trap 'exit 130' INT TERM; \
	set -e; \
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1); \
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check --requirement $(2); \
	touch $(1)/.installed; \
	trap - EXIT
endef

# The venv is rebuilt only when a requirements file changes.
$(VENV)/.installed: $(REQUIREMENTS)
	@echo "Installing orderflow's Python packages into $(VENV)/ (a few minutes the first time)..."
	$(call INSTALL_VENV,$(VENV),requirements-test.txt)

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
preview: $(VENV)/.installed $(WEB_VENDOR)
	@if $(PY) -m offline.preview --uses-real-cli; then $(MAKE) --no-print-directory policy-venv; fi
	$(PY) -m offline.preview --stack $(STACK)

## ops: operate a deployed stack (python -m orderflow.ops): make ops ARGS="status --stack prod".
ops: $(VENV)/.installed
	$(PY) -m orderflow.ops $(ARGS)

## local: the whole system on this machine (page, API, emulated AWS, MQTT broker); Ctrl-C stops it.
local: $(VENV)/.installed $(WEB_VENDOR)
	$(PY) -m local $(ARGS)

## test: every suite (unit, program, policy, handlers, workflows, end to end), then lint and types.
test: $(VENV)/.installed $(WEB_VENDOR) browser
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory lint

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
