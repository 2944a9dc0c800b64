"""Wall time and peak memory of the offline plan, per stack, and where ``make preview``'s time goes.

Each run is a new interpreter, as ``make preview`` is, so imports (pulumi_aws is large) count. Figures:

- per stack, the plan alone (recording the program, without the cyclic GC and ending with ``os._exit`` as
  ``python -m offline.preview`` runs it), median of 5 fresh processes;
- per stack, ``make preview``'s whole offline run warm: the processes make starts
  (``python -m offline.preview --uses-real-cli`` only when a ``pulumi`` CLI is on PATH, then
  ``--offline --stack S``: plan + policy gate, the pack process included), median of 5;
- for dev, the same run split into its phases (wall and CPU seconds of the main process, and the CPU of
  the pack process and of the Analyze worker process, which run beside the program: the worker sends each
  resource's ``Remediate`` and ``Analyze`` as the program registers it), and the floors no change here can
  remove: the interpreter,
  ``import pulumi``, and ``import pulumi`` plus the pulumi_aws service modules the program uses.

"Warm" means what a second run on a developer's machine sees: compiled bytecode cached. The children run
without ``PYTHONDONTWRITEBYTECODE`` (this repository's ``__pycache__`` folders are git-ignored) after one
warm-up run. Targets: at most 2 s and 400 MB per stack. Prints PASS/MISS and the load average (the machine
may be shared, which inflates wall time far more than CPU time); exits non-zero only on a crash.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET_SECONDS = 2.0
TARGET_MB = 400.0
WARM_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

# The recording alone, run as python -m offline.preview runs it: without the cyclic GC, ending with os._exit.
CHILD = """
import gc, json, os, resource, sys
gc.disable()
from offline.harness import run_program
run = run_program(sys.argv[1])
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"resources": len(run.resources), "peak_mb": peak_kb / 1024}), flush=True)
os._exit(0)
"""

# offline.preview.offline_plan step by step, with the wall and CPU time of each step.
PHASES = """
import contextlib, gc, io, json, resource, sys, time, types

gc.disable()  # as python -m offline.preview does
marks = [("start", time.perf_counter(), time.process_time())]
def mark(name):
    marks.append((name, time.perf_counter(), time.process_time()))

from offline import preview
mark("import offline.preview")
with contextlib.ExitStack() as cleanup:
    stream = cleanup.enter_context(preview._pack_ahead(sys.argv[1]))
    mark("start the pack; import its client (SDK, gRPC)")
    from offline.harness import run_program
    mark("import the harness")
    run = run_program(sys.argv[1], on_record=stream.submit)
    mark("program: imports, registrations (Analyze streamed)")
    with contextlib.redirect_stdout(io.StringIO()):
        preview.print_plan(run, "plan")
        preview.print_versions(run)
    mark("print the plan")
    stream.finish()
    mark("wait for the pack's outstanding Analyze calls")
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)  # the Analyze worker has ended; the pack still runs
    with contextlib.redirect_stdout(io.StringIO()):
        preview.policy_gate(run, stream=stream)
    mark("policy gate: AnalyzeStack, idle cost, report")
mark("stop the pack")
children = resource.getrusage(resource.RUSAGE_CHILDREN)
# The service packages the program really loaded: pulumi_aws registers every other one as a lazy module,
# whose type stays importlib's lazy subclass until first used (type() does not trigger the load).
aws = sorted(
    name for name, module in list(sys.modules.items())
    if name.startswith("pulumi_aws.") and name.count(".") == 1 and type(module) is types.ModuleType
    and hasattr(module, "__path__")
)
print(json.dumps({
    "phases": [(name, wall - marks[i][1], cpu - marks[i][2]) for i, (name, wall, cpu) in enumerate(marks[1:])],
    "worker_cpu": worker.ru_utime + worker.ru_stime,
    "pack_cpu": children.ru_utime + children.ru_stime - worker.ru_utime - worker.ru_stime,
    "resources": len(run.resources),
    "aws_modules": aws,
}))
"""

# The floors run as offline.preview does: without the cyclic garbage collector, ended without the shutdown.
IMPORT_PULUMI_FLOOR = "import gc, os; gc.disable(); import pulumi; os._exit(0)"
AWS_FLOOR = """
import gc, os, sys
gc.disable()
import pulumi_aws
for name in sys.argv[1:]:
    getattr(getattr(pulumi_aws, name.split(".", 1)[1]), "__all__", None)  # a lazy module loads on first use
os._exit(0)
"""


def measure(stack: str) -> tuple[float, float, int]:
    """Run the offline plan once in a fresh interpreter: (seconds, peak MB, resources recorded)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, stack], cwd=PROJECT_DIR, capture_output=True, text=True, check=True, env=WARM_ENV
    )
    elapsed = time.perf_counter() - started
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return elapsed, figures["peak_mb"], figures["resources"]


def measure_gate(stack: str) -> float:
    """Seconds of one whole offline ``make preview`` (plan + gate): the processes make runs, in turn."""
    started = time.perf_counter()
    if shutil.which("pulumi"):  # make asks only when there is a CLI to use
        subprocess.run(
            [sys.executable, "-m", "offline.preview", "--uses-real-cli"], cwd=PROJECT_DIR, check=False, env=WARM_ENV
        )
    subprocess.run(
        [sys.executable, "-m", "offline.preview", "--offline", "--stack", stack],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=False,
        env=WARM_ENV,
    )
    return time.perf_counter() - started


def timed(args: list[str], *, check: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process (``check=False``: its status is an answer)."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, check=check, env=WARM_ENV)
    wall = time.perf_counter() - started
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def breakdown(stack: str) -> None:
    """Print the medians of each phase of ``make preview`` for ``stack``, then the floors under them."""
    runs = []
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", PHASES, stack], cwd=PROJECT_DIR, capture_output=True, text=True, env=WARM_ENV
        )
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"\nWhere {stack}'s plan + gate goes (median of {RUNS}; seconds; {runs[0]['resources']} resources):")
    print(f"  {'phase':<48} {'wall':>6} {'CPU':>6}")
    for index, (name, _, _) in enumerate(runs[0]["phases"]):
        wall = statistics.median(run["phases"][index][1] for run in runs)
        cpu = statistics.median(run["phases"][index][2] for run in runs)
        print(f"  {name:<48} {wall:>6.2f} {cpu:>6.2f}")
    pack_cpu = statistics.median(run["pack_cpu"] for run in runs)
    worker_cpu = statistics.median(run["worker_cpu"] for run in runs)
    print(f"  {'the pack process (beside the program), CPU':<48} {'':>6} {pack_cpu:>6.2f}")
    print(f"  {'the Analyze worker process (beside it), CPU':<48} {'':>6} {worker_cpu:>6.2f}")
    checks = [
        ("uses-real-cli check (only with a pulumi CLI)", [sys.executable, "-m", "offline.preview", "--uses-real-cli"]),
        ("floor: the interpreter", [sys.executable, "-c", "pass"]),
        ("floor: import pulumi", [sys.executable, "-c", IMPORT_PULUMI_FLOOR]),
        (
            f"floor: import pulumi + the program's {len(runs[0]['aws_modules'])} pulumi_aws modules",
            [sys.executable, "-c", AWS_FLOOR, *runs[0]["aws_modules"]],
        ),
    ]
    for label, args in checks:
        samples = [timed(args, check="uses-real-cli" not in label) for _ in range(RUNS)]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"  {label:<48} {wall:>6.2f} {cpu:>6.2f}")
    print(f"  (pulumi_aws modules: {', '.join(name.split('.', 1)[1] for name in runs[0]['aws_modules'])})")


def main() -> int:
    measure_gate("dev")  # warm-up: compiles and caches the project's bytecode
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
        print(
            f"{stack:<6} make preview warm (plan + gate) {gate:>6.2f} s  {'PASS' if gate <= TARGET_SECONDS else 'MISS'}"
        )
    breakdown("dev")
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
