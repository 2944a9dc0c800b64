"""The longer fault run: 500 seeded orders per seed, for several seeds, with every fault of the fast run.

``make test`` runs one fast seed (``tests/e2e/test_e2e_fault_run.py``); this script runs the longer
configuration (:meth:`FaultRunConfig.long`) for each seed given, two at a time (one per core), each in its
own process, and prints every run's figures: orders by outcome, parked orders, faults injected by service
and kind, suppressed duplicates, and the invariant violations (expected: none). The exit status is
non-zero when a run broke an invariant or crashed.

Run: ``venv/bin/python benchmarks/fault_run.py [SEED ...]`` (default: three seeds).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.e2e.faultkit import BackgroundFaultRun, FaultRunConfig, FaultRunReport  # noqa: E402 - needs the root

DEFAULT_SEEDS: Final = (7, 1_234, 20_260_202)
PARALLEL_RUNS: Final = 2
TIMEOUT_SECONDS: Final = 3 * 60 * 60


def run(seed: int) -> FaultRunReport:
    """One long run in its own process."""
    background = BackgroundFaultRun(FaultRunConfig.long(seed))
    try:
        return background.report(TIMEOUT_SECONDS)
    finally:
        background.stop()


def main(arguments: list[str]) -> int:
    """Run the seeds, print their figures; non-zero when an invariant broke."""
    seeds = [int(argument) for argument in arguments] or list(DEFAULT_SEEDS)
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        reports = list(pool.map(run, seeds))
    broken = 0
    for report in reports:
        print("\n".join(report.lines), flush=True)
        print()
        broken += bool(report.violations)
    print(f"{len(reports)} long fault runs, {broken} with invariant violations")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
