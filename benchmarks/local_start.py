"""How long ``make local`` takes to serve, and to stop on Ctrl-C.

Starts ``python -m local --port 0`` as a user would (after installs), times until its ready file appears
(everything recorded, created in moto and listening), then sends SIGINT and times until the process has
exited. Median of :data:`RUNS` runs. Target: ready in under :data:`MAX_READY_SECONDS`. Reported, never
asserted.

Run: ``venv/bin/python benchmarks/local_start.py``.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
RUNS: Final = 3
MAX_READY_SECONDS: Final = 20.0


def one_run(workdir: Path) -> tuple[float, float]:
    """Seconds to ready and seconds to stop, for one start."""
    ready_file = workdir / f"ready-{time.monotonic_ns()}.json"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", "0", "--ready-file", str(ready_file)],
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        while not ready_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"make local exited with {process.returncode} before serving")
            time.sleep(0.05)
        ready = time.monotonic() - started
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        return ready, time.monotonic() - stopping
    finally:
        if process.poll() is None:
            process.kill()


def main() -> int:
    """Measure and print; 0 unless a run crashed."""
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}; {RUNS} runs, median; load average {load:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="orderflow-local-") as temp:
        runs = [one_run(Path(temp)) for _ in range(RUNS)]
    ready = statistics.median(r for r, _ in runs)
    stop = statistics.median(s for _, s in runs)
    verdict = "PASS" if ready < MAX_READY_SECONDS else "MISS"
    print(f"ready in {ready:.1f} s (target < {MAX_READY_SECONDS:.0f} s: {verdict}); stopped {stop:.1f} s after Ctrl-C")
    print("runs: " + ", ".join(f"{r:.1f}/{s:.1f}" for r, s in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
