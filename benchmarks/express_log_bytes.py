"""CloudWatch Logs bytes of one customer-status EXPRESS run: the figure behind the capacity profile's log volume.

The customer-status workflow logs at level ``ALL`` with execution data (the program records it so: an
EXPRESS execution has no history but its logs). Step Functions writes one CloudWatch Logs record per
history event. This script places orders of each outcome through the recorded prod stack on moto with the
real handlers (``tests/workflows/flowkit``), rebuilds the record of every history event of each
customer-status execution (``log_record`` in ``tests/handlers/test_handlers_capacity_profile.py``), and
prints the bytes per run and per state entered beside the profile's ``logs.stateMachineBytesPerState.ALL``.
Never asserts; the test of that module fails when the profile's figure drifts.

Run: ``venv/bin/python benchmarks/express_log_bytes.py [ORDERS_PER_OUTCOME]`` (default 5).
"""

from __future__ import annotations

import importlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
for path in (PROJECT_DIR, PROJECT_DIR / "handlers"):
    sys.path.insert(0, str(path))

# The test module holds the order outcomes and the record builder; imported by name so the type checker,
# which leaves tests/ out, does not follow it.
kit: Any = importlib.import_module("tests.handlers.test_handlers_capacity_profile")
flowkit: Any = importlib.import_module("tests.workflows.flowkit")
harness: Any = importlib.import_module("offline.harness")

DEFAULT_ORDERS: Final = 5


def main(arguments: list[str]) -> int:
    """Measure and print; 0 always (figures, not a verdict)."""
    orders = int(arguments[0]) if arguments else DEFAULT_ORDERS
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore", "No application metrics to publish")
    system = flowkit.RecordedSystem.from_program(harness.run_program("prod"))
    profiled = kit.profile_document()["logs"]["stateMachineBytesPerState"]["ALL"]
    print(f"customer-status EXPRESS run on moto, {orders} order(s) per outcome (recorded prod stack)")
    print(f"  {'outcome':<18} {'runs':>5} {'events/run':>11} {'states/run':>11} {'bytes/run':>10} {'bytes/state':>12}")
    total_bytes = total_states = 0
    for outcome in kit.OUTCOMES:
        with flowkit.running_flow(system) as flow:
            for _ in range(orders):
                kit.run_order(flow, outcome)
            volumes = kit.express_log_volume(flow)
        runs = len(volumes)
        log_bytes = sum(v.log_bytes for v in volumes)
        states = sum(v.states for v in volumes)
        events = sum(v.events for v in volumes)
        total_bytes, total_states = total_bytes + log_bytes, total_states + states
        print(
            f"  {outcome.name:<18} {runs:>5} {events / runs:>11.1f} {states / runs:>11.1f} "
            f"{log_bytes / runs:>10,.0f} {log_bytes / states:>12,.0f}"
        )
    print(f"  all outcomes: {total_bytes / total_states:,.0f} bytes per state; the profile says {profiled:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
