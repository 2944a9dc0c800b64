"""Wall time and peak memory of the offline plan, per stack: median of 5 fresh processes.

Each run is a new interpreter, as ``make preview`` is, so imports (pulumi_aws is large) count. Two figures
per stack: the plan alone (recording the program), and ``make preview``'s whole offline run (plan + policy
gate: ``python -m offline.preview --offline``, the pack process included).
Targets: at most 2 s and 400 MB per stack. Prints PASS/MISS and the load average (the machine may be
shared); exits non-zero only on a crash.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET_SECONDS = 2.0
TARGET_MB = 400.0

CHILD = """
import json, resource, sys
from offline.harness import run_program
run = run_program(sys.argv[1])
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"resources": len(run.resources), "peak_mb": peak_kb / 1024}))
"""


def measure(stack: str) -> tuple[float, float, int]:
    """Run the offline plan once in a fresh interpreter: (seconds, peak MB, resources recorded)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, stack], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return elapsed, figures["peak_mb"], figures["resources"]


def measure_gate(stack: str) -> float:
    """Seconds of one whole offline ``make preview`` (plan + gate) in a fresh interpreter."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "offline.preview", "--offline", "--stack", stack],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def main() -> int:
    print(f"Offline plan, median of {RUNS} fresh processes (targets: <= {TARGET_SECONDS} s, <= {TARGET_MB:.0f} MB)")
    print(f"{'stack':<6} {'resources':>9} {'wall s':>8} {'peak MB':>8}  verdict")
    for stack in ("dev", "prod"):
        samples = [measure(stack) for _ in range(RUNS)]
        seconds = statistics.median(s[0] for s in samples)
        peak = statistics.median(s[1] for s in samples)
        verdict = "PASS" if seconds <= TARGET_SECONDS and peak <= TARGET_MB else "MISS"
        print(f"{stack:<6} {samples[0][2]:>9} {seconds:>8.2f} {peak:>8.0f}  {verdict}")
    for stack in ("dev", "prod"):
        gate = statistics.median(measure_gate(stack) for _ in range(RUNS))
        print(f"{stack:<6} plan + gate {gate:>8.2f} s  {'PASS' if gate <= TARGET_SECONDS else 'MISS'}")
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
