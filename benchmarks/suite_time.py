"""Wall and CPU time of ``make check`` and ``make test``, after installs or from a fresh clone.

Targets (issue 21, 2 cores): ``make check`` at most 60 s; ``make test`` at most 4 min with installs done and
at most 6 min from a fresh clone, installs included. ``--fresh-clone`` clones the committed HEAD into a
temporary folder and times ``make test`` there from nothing (venv, pip, npm, the layer builds; Chromium is
installed only if missing, as on CI's machine). CPU time (user + system of every child) is printed beside
wall time because the wall time of a shared machine depends on its load. Prints PASS/MISS; exits non-zero
only when a command fails.

Usage: ``python benchmarks/suite_time.py [--fresh-clone] [--only check|test]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGETS = {"check": 60.0, "test": 240.0, "test from a fresh clone": 360.0}


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command`` to completion: (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise SystemExit(f"{' '.join(command)} failed in {cwd} (exit {result.returncode}):\n{tail}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fresh_clone(into: Path) -> Path:
    """A clone of the committed HEAD, as CI gets it (uncommitted changes are not in it)."""
    clone = into / "orderflow"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(clone)], check=True)
    return clone


def report(label: str, wall: float, cpu: float) -> None:
    target = TARGETS[label]
    verdict = "PASS" if wall <= target else "MISS"
    print(f"{label:<26} {wall:>8.1f} {cpu:>8.1f} {target:>9.0f}  {verdict}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--fresh-clone", action="store_true", help="also time make test in a new clone, installs included"
    )
    parser.add_argument("--only", choices=["check", "test"], help="time only this target (after installs)")
    args = parser.parse_args(argv)
    print(f"make check / make test on {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start")
    print(f"{'target':<26} {'wall s':>8} {'cpu s':>8} {'target s':>9}  verdict")
    for target in ("check", "test"):
        if args.only in (None, target):
            report(target, *measure(["make", "--no-print-directory", target], PROJECT_DIR))
    if args.fresh_clone:
        with tempfile.TemporaryDirectory(prefix="orderflow-clone-") as folder:
            clone = fresh_clone(Path(folder))
            report("test from a fresh clone", *measure(["make", "--no-print-directory", "test"], clone))
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
