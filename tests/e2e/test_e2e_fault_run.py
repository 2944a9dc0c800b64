"""The measured fault run of ``make test``: seeded orders, every event delivered twice, faults everywhere.

The run itself happens in a background process (see ``conftest.py``); this test waits for its report,
publishes the figures to the terminal summary and asserts the invariants the run checked (see
``faultkit.invariant_violations``):

* every accepted order is terminal, or parked on an alarmed queue with its cause; and every order parked (or
  left unparked) when the run settled is finished by the runbook's recovery (``dlq redrive
  fulfillment-attention``, ``redrive-execution`` for ``NotParked``), which the kit runs as an operator would;
* nobody is charged without an order, charged twice, refunded while shipped, or shipped without payment;
* stock is never negative and always equals initial − what booked shipments (and orders still parked) hold;
* every terminal status has exactly one timeline entry and one notification of its event (a second live
  update only where a fault left the first one published but unrecorded, counted in the report);
* no event is lost and a duplicated ``OrderPlaced`` never fulfils twice;
* no customer sees another customer's data or an internal error text.

A longer run over other seeds is ``benchmarks/fault_run.py`` (``make bench``).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from offline.emulator.lambdas import CallFaultKind
from offline.recording import ProgramRun
from orderflow.ops.outputs import StackOutputs
from tests.e2e.faultkit import (
    DUPLICATE_KILLED,
    NOTIFY_FAILURES,
    REPORTED_LINES,
    SERVICES,
    BackgroundFaultRun,
    FaultRunConfig,
    FaultRunResult,
    dead_letters_after_redrive,
    notify_failure_kinds,
    redrive_failure_queue,
    run_fault_run,
)
from tests.workflows.flowkit import FaultInjector, FaultKind, OrderFlow, RecordedSystem
from tests.workflows.flowkit_orders import new_customer, place_order

# Far above the run's ~1 minute on 2 cores: a hung run fails here instead of hanging CI.
REPORT_TIMEOUT_SECONDS = 900
CALL_SITE = re.compile(r"[a-z_]+:[a-z0-9-]+\.[A-Za-z]+#(\d+|refused|lost-response)")
"""``<function>:<service>.<Operation>#<n>``, or ``<function>:lambda.Invoke#<kind>`` for a whole invocation."""
EXPRESS_LIMIT = re.compile(r"stepfunctions:[A-Za-z0-9_-]+\.ExpressTimeLimit")
HOP_KINDS = frozenset({"eventbridge", "sqs-poller", "sns", "s3-eventbridge", "destination"})


def test_a_seeded_fault_run_keeps_every_invariant(background_fault_run: BackgroundFaultRun) -> None:
    config = FaultRunConfig()

    report = background_fault_run.report(REPORT_TIMEOUT_SECONDS)
    REPORTED_LINES.extend(report.lines)

    assert report.config == background_fault_run.config.__dict__
    assert report.config["deliveries_per_event"] == 2
    assert report.placed + report.not_placed == config.orders
    assert report.violations == []
    # The run exercised what it claims: every terminal state, both business failures, parked orders, faults
    # of every kind in the Lambda steps, the deliveries and each service the workflows call themselves,
    # suppressed duplicates everywhere, and the poison events dead-lettered.
    assert all(report.terminal[status] > 0 for status in ("FULFILLED", "FAILED", "REJECTED"))
    assert {"OUT_OF_STOCK", "PAYMENT_DECLINED"} <= set(report.failure_reasons)
    assert sum(report.parked.values()) > 0
    assert report.recovery["recovered"] == sum(report.recovery["parked_by_stage"].values()) > 0
    assert report.recovery["still_parked"] == []
    assert min(report.faults[f"lambda {kind}"] for kind in ("throttle", "lost-response")) > 0
    assert report.faults["eventbridge delivery"] > 0
    for service in SERVICES:
        assert sum(count for name, count in report.faults.items() if name.startswith(f"{service} ")) > 0, service
    assert {name.split(" ")[1] for name in report.faults if name.split(" ")[0] in SERVICES} >= {
        "error",
        "throttle",
        "lost-response",
    }
    assert min(report.duplicates_suppressed.values()) > 0
    assert sum(report.dead_letters.values()) >= config.deliveries_per_event * config.poison_events


def test_the_every_call_mode_faults_any_call_of_any_handler_and_every_hop(
    system: RecordedSystem, recorded_program: ProgramRun
) -> None:
    # Issue 20: the kit used to fault only the first AWS call of each invocation. A short run at high rates
    # shows each kind of call fault and the hops, named by call site; the invariants are the long run's.
    config = FaultRunConfig(
        orders=5,
        customers=3,
        deliveries_per_event=1,
        poison_events=1,
        every_call=True,
        call_fault_rate=0.4,
        transient_rate=0.3,
    )

    outputs = StackOutputs.parse(recorded_program.outputs, source="the recorded dev stack")
    report = run_fault_run(system, config, outputs)

    calls = [site for site in report.call_sites if CALL_SITE.fullmatch(site)]
    hops = [site for site in report.call_sites if site.split(":", 1)[0] in HOP_KINDS]
    limits = [site for site in report.call_sites if EXPRESS_LIMIT.fullmatch(site)]
    assert calls and hops and limits, report.call_sites
    assert len(calls) + len(hops) + len(limits) == len(report.call_sites), report.call_sites
    operations: dict[str, set[str]] = {}
    for site in calls:
        function, call = site.split(":", 1)
        operations.setdefault(function, set()).add(call.split("#", 1)[0])
    # Faults beyond each invocation's first call: some handler failed at two different operations.
    assert max(len(ops) for ops in operations.values()) >= 2, operations
    assert {name.removeprefix("lambda call ") for name in report.faults if name.startswith("lambda call ")} == {
        "error",
        "throttle",
        "lost-response",
        "timeout",
        "out-of-memory",
    }
    assert {hop.split(":", 1)[0] for hop in hops} >= {"eventbridge", "sqs-poller"}
    assert any(site.endswith(":lambda.Invoke#refused") for site in report.call_sites)
    # The first fulfillment-steps run was held past its 5-minute limit; its parent waited it out and restarted it.
    assert all("fulfillment-steps" in site for site in limits) and report.faults["stepfunctions express-timeout"] >= 1


class KillEveryLaterCopy(FaultInjector):
    """notify's first run on each event goes through; every later run of it is killed by its timeout at its
    first AWS call (a function error, so each uses up one of Lambda's three attempts)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.healed = False
        self._current = threading.local()

    def decide(self, package: str, event: Any) -> FaultKind | None:
        event_id = str(event.get("id")) if package == "notify" and isinstance(event, dict) else ""
        self._current.kill = bool(event_id) and event_id in self.seen and not self.healed
        self.seen.add(event_id)
        return None

    def call_fault(self, package: str, call_site: str, request: Mapping[str, Any]) -> CallFaultKind | None:
        return "timeout" if getattr(self._current, "kill", False) else None


def test_a_copy_of_delivered_work_killed_on_every_attempt_is_named_so_and_done_by_the_operators_redrive(
    flow: OrderFlow, recorded_program: ProgramRun
) -> None:
    # Issue 20, item 7: such a copy used to be counted as a "duplicate of delivered work" left on notify-failures.
    # Its three attempts really failed (as on AWS), so it is dead-lettered; it is named for what it is, and the
    # runbook's redrive finds the notification delivered and publishes nothing twice.
    outputs = StackOutputs.parse(recorded_program.outputs, source="the recorded dev stack")
    faults = KillEveryLaterCopy()
    flow.runtime.faults = faults
    flow.router.deliveries_per_event = 2
    result = FaultRunResult(FaultRunConfig())

    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]
    kinds = notify_failure_kinds(flow, result)

    # Every later copy of OrderAccepted, OrderFulfilled and the receipt's Object Created, each after 3 attempts.
    assert len(kinds) >= 3 and set(kinds) == {DUPLICATE_KILLED}, kinds
    faults.healed = True
    assert redrive_failure_queue(flow, outputs, NOTIFY_FAILURES) == len(kinds)
    assert dead_letters_after_redrive(flow, result)[outputs.queue(NOTIFY_FAILURES).name] == {}
    told = Counter(payload["type"] for _, payload in flow.iot_publishes() if payload["orderId"] == order_id)
    assert told == {"OrderAccepted": 1, "OrderFulfilled": 1, "ReceiptReady": 1}
