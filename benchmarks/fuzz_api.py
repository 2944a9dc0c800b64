"""Fuzz the HTTP API functions: 10,000 hostile inputs each to ``POST /orders`` and ``GET /orders``.

Runs ``create_order`` and ``get_order`` in-process on moto (the handler test kit's world) with the inputs of
``tests/handlers/api_fuzz.py`` (Hypothesis, derandomized, so a run is repeatable) and reports per function:
inputs, replies by status, 5xx count, inputs whose reply broke a rule (5xx, an error body over 64 KB, a
body that is not JSON), and the largest error body. Prints the figures; never asserts.

Run: ``venv/bin/python benchmarks/fuzz_api.py [--inputs N]``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
for path in (PROJECT_DIR, PROJECT_DIR / "handlers"):
    sys.path.insert(0, str(path))

# Imported by name so the type checker, which leaves tests/ out, does not follow them.
kit = importlib.import_module("tests.handlers.handlers_testkit")
fuzz = importlib.import_module("tests.handlers.api_fuzz")

INPUTS = 10_000


def run(package: str, strategy: Any, inputs: int) -> dict[str, Any]:
    """Send ``inputs`` examples of ``strategy`` to ``package``'s handler; the counts."""
    from hypothesis import HealthCheck, given, settings

    handler = kit.import_handler(package).lambda_handler
    statuses: Counter[int] = Counter()
    broken: list[str] = []
    largest_error = 0
    started = time.perf_counter()

    @settings(
        max_examples=inputs,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(event=strategy)
    def send(event: dict[str, Any]) -> None:
        nonlocal largest_error
        response = handler(event, kit.LambdaContext())
        status = int(response["statusCode"])
        statuses[status] += 1
        if status >= 400:
            largest_error = max(largest_error, len(str(response.get("body") or "").encode()))
        broken.extend(fuzz.problems_with(response))

    send()
    return {
        "function": package,
        "inputs": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "5xx": sum(count for status, count in statuses.items() if status >= 500),
        "broken": broken,
        "largest_error_bytes": largest_error,
        "seconds": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=INPUTS, help="inputs per function (default 10,000)")
    arguments = parser.parse_args(argv)
    from moto import mock_aws

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.update(kit.ENVIRONMENT | {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"})
    with mock_aws():
        kit.create_world()
        results = [
            run("create_order", fuzz.create_order_event(), arguments.inputs),
            run("get_order", fuzz.list_orders_event(), arguments.inputs),
        ]
    print(f"{'function':<14}{'inputs':>8}{'5xx':>6}{'broken':>8}{'max error body':>16}{'s':>8}  replies by status")
    for result in results:
        print(
            f"{result['function']:<14}{result['inputs']:>8}{result['5xx']:>6}{len(result['broken']):>8}"
            f"{result['largest_error_bytes']:>14} B{result['seconds']:>8.1f}  "
            + ", ".join(f"{status} {count}" for status, count in result["statuses"].items())
        )
        for problem in result["broken"][:5]:
            print(f"  broken: {problem}")
    print(f"error bodies must stay under {fuzz.MAX_ERROR_BODY_BYTES} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
