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

.PHONY: install policy-venv preview test lint bench diagram docs clean web browser local

# The venv is rebuilt only when a requirements file changes.
$(VENV)/.installed: $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --requirement requirements-test.txt
	touch $@

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
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --disable-pip-version-check --requirement policy/requirements.txt
	touch $@

## preview: the plan for STACK (default dev): `pulumi preview` with policies when the CLI and AWS
## credentials are present, otherwise the offline plan through the recording harness.
preview: $(VENV)/.installed $(WEB_VENDOR)
	$(PY) -m offline.preview --stack $(STACK)

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

## bench: speed, size and cost figures (never asserted in tests).
bench: $(VENV)/.installed
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
