"""Wall and CPU time of ``make capacity`` and ``make burst`` for prod: median of 5 fresh processes.

Each run is a new interpreter, as the make targets are, so imports and the program recording count.
Targets: ``make capacity STACK=prod`` at most 5 s; the burst simulation (10 x 100 orders/s for 60 s) "in
seconds" (at most 20 s here). CPU time is printed beside wall time because the wall time of a shared
machine depends on its load. Prints PASS/MISS; exits non-zero only on a crash.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNS = 5
COMMANDS = {
    "capacity prod @100/s": (["-m", "offline.capacity", "--stack", "prod", "--rate", "100"], 5.0),
    "burst prod 10x100/s 60 s": (["-m", "offline.burst", "--stack", "prod", "--rate", "100"], 20.0),
}


def measure(arguments: list[str]) -> tuple[float, float]:
    """One fresh run: (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=PROJECT_DIR, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    print(f"make capacity / make burst, median of {RUNS} fresh processes")
    print(f"{'command':<26} {'wall s':>7} {'cpu s':>7} {'target s':>9}  verdict")
    for label, (arguments, target) in COMMANDS.items():
        samples = [measure(arguments) for _ in range(RUNS)]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"{label:<26} {wall:>7.2f} {cpu:>7.2f} {target:>9.0f}  {'PASS' if wall <= target else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
