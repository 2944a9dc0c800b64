"""The order in which ``make test``'s xdist workers are given the test files (``--dist loadfile``).

The Makefile passes ``--no-loadscope-reorder``, so xdist hands out files in collection order, and this hook sets
that order: the fault run's file first (its worker starts the run's process with the file, and the run then
uses a core while both workers go on), then the files that take the most CPU, so that no long file is handed out
last and leaves one worker running alone, then the others as xdist itself orders them (most tests first). Only
the order changes; in one process it is the same set of tests.
"""

from __future__ import annotations

from collections import Counter

import pytest

SCHEDULED_FIRST = (
    "tests/e2e/test_e2e_fault_run.py",
    "tests/policy/test_policy_program.py",
    "tests/offline/test_offline_newcomer.py",
    "tests/policy/test_policy_foreign.py",
    "tests/offline/test_offline_preview.py",
    "tests/offline/test_offline_capacity.py",
    "tests/workflows/test_workflows_fulfillment.py",
    "tests/workflows/test_workflows_mocked_responses.py",
)
"""The heaviest files by measured CPU (``--durations`` and ``benchmarks/suite_time.py``), heaviest first."""


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)  # before tests/e2e/conftest.py's, which then moves the fault run's test last
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files as the module docstring says; the tests within a file keep their order."""
    tests_per_file = Counter(_file_of(item) for item in items)

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = _file_of(item)
        first = SCHEDULED_FIRST.index(path) if path in SCHEDULED_FIRST else len(SCHEDULED_FIRST)
        return first, -tests_per_file[path]

    items.sort(key=rank)
