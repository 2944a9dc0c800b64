"""Session-wide settings of the test processes: the garbage collector, and the order of the files under xdist.

A test process holds the objects of the SDK, ``pulumi_aws``, moto and the recorded stacks for its whole life,
and each full pass of the cyclic collector walked every one of them again: 9 of the 49 CPU-s of
``tests/workflows`` and ``tests/ops`` in one process. Once collection has imported everything, the objects that
exist are moved out of the collector's sight (``gc.freeze``) and it runs less often (young generation of
10,000 objects instead of 2,000, older ones after 20 passes instead of 10): the collections then took 4.4 s
there, and the whole run 41.7 CPU-s. Garbage is still collected, only in fewer, larger passes.

The order in which ``make test``'s xdist workers are given the test files (``--dist loadfile``): the Makefile
passes ``--no-loadscope-reorder``, so xdist hands them out in collection order, and the hook below sets that
order. The fault run's file comes first (its worker starts the run's process with the file, and the run then
uses a core while both workers go on); then the files that take the most CPU, so that no long file is handed
out last and leaves one worker running alone; then the others as xdist itself orders them (most tests first).
Only the order xdist hands the files out in changes; one pytest process (``make check``, the browser tests) keeps
the order of its command line.
"""

from __future__ import annotations

import gc
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
"""The heaviest files by CPU (measured per file in a whole run), heaviest first."""


GC_THRESHOLDS = (10_000, 20, 20)
"""``gc.set_threshold`` for the tests (Python's default is 2,000, 10, 10)."""


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what the imports and collection built, and collect less often from here on."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)  # before tests/e2e/conftest.py's, which then moves the fault run's test last
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, order the files as the module docstring says; the tests within a file keep their order."""
    if not hasattr(config, "workerinput"):
        return  # one process: the order of the command line, as before
    tests_per_file = Counter(_file_of(item) for item in items)

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = _file_of(item)
        first = SCHEDULED_FIRST.index(path) if path in SCHEDULED_FIRST else len(SCHEDULED_FIRST)
        return first, -tests_per_file[path]

    items.sort(key=rank)
