"""Fixtures of the end-to-end tests; the fault run's background process and its figures.

The fault run (100 orders, about a minute of CPU) runs in its own process, started early so it uses one core
while tests run on the other; its test runs last and then waits for the report. In one pytest process it
starts as soon as collection selects its test. Under pytest-xdist every worker collects every test but only
one runs this file, so a worker starts the run when it begins this file (``tests/conftest.py`` schedules the
file first), never at collection: each worker used to start its own run, and all but one were wasted. The
figures are printed in pytest's terminal summary, so ``make test`` shows them whatever the verbosity or
capture mode.
"""

from __future__ import annotations

import pytest

from tests.e2e.faultkit import REPORTED_LINES, BackgroundFaultRun, FaultRunConfig
from tests.workflows.flowkit_fixtures import flow, quiet_interpreter, recorded_program, system

__all__ = ["background_fault_run", "flow", "quiet_interpreter", "recorded_program", "system"]

FAULT_RUN_FILE = "test_e2e_fault_run.py"
FAULT_RUN_TEST = f"{FAULT_RUN_FILE}::test_a_seeded_fault_run_keeps_every_invariant"
_FAULT_RUN = pytest.StashKey[BackgroundFaultRun]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the fault run's test last, so the suite's other tests overlap with the background run."""
    items.sort(key=lambda item: item.nodeid.endswith(FAULT_RUN_TEST))


def pytest_collection_finish(session: pytest.Session) -> None:
    """In one pytest process, start the fault run early when its test is selected (not for ``--collect-only``)."""
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    if any(item.nodeid.endswith(FAULT_RUN_TEST) for item in session.items):
        session.config.stash[_FAULT_RUN] = BackgroundFaultRun(FaultRunConfig())


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist, start the fault run with the first test of its file, in the worker that was given the file."""
    if item.path.name != FAULT_RUN_FILE or _FAULT_RUN in item.config.stash:
        return
    if any(selected.nodeid.endswith(FAULT_RUN_TEST) for selected in item.session.items):
        item.config.stash[_FAULT_RUN] = BackgroundFaultRun(FaultRunConfig())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Never leave the fault run's process behind (e.g. after ``-x`` stopped the session early)."""
    run = session.config.stash.get(_FAULT_RUN, None)
    if run is not None:
        run.stop()


@pytest.fixture
def background_fault_run(request: pytest.FixtureRequest) -> BackgroundFaultRun:
    """The fault run started at collection or with its file (or now, when the test was selected some other way)."""
    run = request.config.stash.get(_FAULT_RUN, None)
    if run is None:
        run = request.config.stash[_FAULT_RUN] = BackgroundFaultRun(FaultRunConfig())
    return run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the measured fault run after the test summary."""
    if REPORTED_LINES:
        terminalreporter.write_sep("=", "measured fault run (tests/e2e/test_e2e_fault_run.py)")
        for line in REPORTED_LINES:
            terminalreporter.write_line(line)
