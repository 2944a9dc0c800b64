"""Each handler's own time per warm invocation, and its AWS calls: the figures behind the capacity profile.

Runs the happy path of the handlers ``offline/capacity-profile.yaml`` lists, in-process on moto (the
handler test kit's world), and splits each warm invocation's wall time into the time spent inside AWS
calls (botocore's ``before-call``/``after-call`` events; on moto that is emulation, not network) and the
rest, the handler's own time: validation, Powertools, serialisation. The profile's ``cpuMs`` should not
be below the measured own time; its duration adds one in-region round trip per call (``latencyMs``).
Prints the measured figures beside the profile's; never asserts.

Run: ``venv/bin/python benchmarks/handler_duration.py``.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
for path in (PROJECT_DIR, PROJECT_DIR / "handlers"):
    sys.path.insert(0, str(path))

# The handler test kit builds the moto world (tables, bus, topic) the handlers expect; imported by name so
# the type checker, which leaves tests/ out, does not follow it.
kit = importlib.import_module("tests.handlers.handlers_testkit")

RUNS = 30


def measure(package: str, invoke: Callable[[Any], Any]) -> tuple[float, float, Counter[str]]:
    """Median own ms, median in-call ms and the calls of one warm invocation."""
    from botocore.client import BaseClient

    module = kit.import_handler(package)
    clients = {
        id(c): c
        for v in vars(module).values()
        for c in [v, *getattr(v, "__dict__", {}).values()]
        if isinstance(c, BaseClient)
    }
    started: list[float] = []
    inside: list[float] = []
    calls: Counter[str] = Counter()

    def before(model: Any, **_: Any) -> None:
        calls[model.service_model.service_name] += 1
        started.append(time.perf_counter())

    def after(**_: Any) -> None:
        inside.append(time.perf_counter() - started.pop())

    for client in clients.values():
        client.meta.events.register("before-call.*.*", before, unique_id="bench-before")
        client.meta.events.register("after-call.*.*", after, unique_id="bench-after")
    invoke(module)  # warm up: first-call caches
    own: list[float] = []
    in_calls: list[float] = []
    per_call: Counter[str] = Counter()
    for _ in range(RUNS):
        calls.clear()
        inside.clear()
        begin = time.perf_counter()
        invoke(module)
        total = time.perf_counter() - begin
        own.append((total - sum(inside)) * 1000)
        in_calls.append(sum(inside) * 1000)
        per_call = Counter(calls)
    return statistics.median(own), statistics.median(in_calls), per_call


def main() -> int:
    import yaml
    from moto import mock_aws

    os.environ.update(kit.ENVIRONMENT)
    profile = yaml.safe_load((PROJECT_DIR / "offline" / "capacity-profile.yaml").read_text())["functions"]
    context = kit.LambdaContext()
    with mock_aws():
        kit.create_world()
        created = kit.import_handler("create_order").lambda_handler(
            kit.order_request(kit.VALID_ORDER_BODY, key=kit.new_order_id()), context
        )
        order_id = json.loads(created["body"])["orderId"]
        cases: dict[str, Callable[[Any], Any]] = {
            "create_order": lambda m: m.lambda_handler(
                kit.order_request(kit.VALID_ORDER_BODY, key=kit.new_order_id()), context
            ),
            "get_order": lambda m: m.lambda_handler(
                kit.http_event("GET", f"/orders/{order_id}", path_parameters={"orderId": order_id}), context
            ),
            "customer_status": lambda m: m.lambda_handler(
                {"orderId": kit.new_order_id(), "customerId": kit.ALICE, "correlationId": "c"}, context
            ),
            "notify": lambda m: m.lambda_handler(
                kit.eventbridge_event("OrderAccepted", kit.correlated(kit.new_order_id()) | {"tier": "NEW"}), context
            ),
        }
        print(f"warm invocations on moto, median of {RUNS}; own = wall time outside AWS calls")
        print(f"{'handler':<18}{'own ms':>8}{'profile cpuMs':>15}{'in calls ms':>13}  calls per invocation")
        for package, invoke in cases.items():
            own, in_calls, calls = measure(package, invoke)
            print(
                f"{package:<18}{own:>8.1f}{profile[package]['cpuMs']:>15}{in_calls:>13.1f}  "
                + ", ".join(f"{service} {count}" for service, count in sorted(calls.items()))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
