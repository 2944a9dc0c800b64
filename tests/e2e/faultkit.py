"""A seeded fault run of the whole order flow: the order mix, the fault plan, the figures, the invariants.

Every decision is drawn from the seed and a stable identity (the order's sequence number, the step, the
attempt), never from ids AWS generates, so a run's faults do not depend on thread timing or uuids.

Faults injected, each at ``transient_rate`` per attempt:

* every Lambda step (both workflows' functions, ``notify``, ``create_order``): either its first AWS call is
  throttled (the handler maps it to ``TransientDependencyError``), or it completes and the Lambda service
  then fails the response (``Lambda.ServiceException``), so the retry re-runs a step that already acted;
* ``audit``: each timeline write is throttled (that record fails alone, partial batch response);
* every EventBridge target delivery (EventBridge retries per the rule target's retry policy).

Plus, by construction of the order mix: permanent declines (large orders of customers without history),
stock-outs (scarce SKUs run out), customers blocked after repeated failures, and poison events without
an ``orderId`` that the audit consumer can never record.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from tests.workflows.flowkit import PROJECT_DIR, FaultInjector, FaultKind, OrderFlow, RecordedSystem, running_flow
from tests.workflows.flowkit_orders import CATALOGUE, TERMINAL_ORDER_STATUSES, claims_for, order_body

REPORTED_LINES: list[str] = []
"""Lines the e2e conftest prints in the terminal summary (filled by the fault run test)."""

LAMBDA_STEPS: Final = frozenset(
    {
        "create_order",
        "customer_status",
        "reserve_inventory",
        "process_payment",
        "create_shipment",
        "refund_payment",
        "release_inventory",
        "notify",
    }
)
TERMINAL_EVENTS: Final = {"FULFILLED": "OrderFulfilled", "FAILED": "OrderFailed", "REJECTED": "OrderRejected"}
POISON_DETAIL_TYPE: Final = "InventoryAdjusted"
COMMON_SKUS: Final = ("MUG-BLK", "MUG-WHT", "TEE-M", "TEE-L", "CAP-01", "BAG-TOTE")
SCARCE_SKU: Final = "LAMP-DESK"
LARGE_ORDER: Final = {"MUG-WHT": 45}
"""Over the NEW customer's charge limit, within the RETURNING one: declined for a customer with no history."""


@dataclass(frozen=True)
class FaultRunConfig:
    """Shape of one fault run."""

    seed: int = 20_260_101
    orders: int = 500
    customers: int = 150
    big_spenders: int = 8
    """Customers who only place large orders: declined while NEW, BLOCKED after three failures."""
    deliveries_per_event: int = 2
    transient_rate: float = 0.2
    large_order_share: float = 0.08
    scarce_sku_share: float = 0.04
    poison_events: int = 12
    client_attempts: int = 6


@dataclass(frozen=True)
class PlannedOrder:
    """One order the run places."""

    sequence: int
    customer: str
    lines: Mapping[str, int]

    @property
    def idempotency_key(self) -> str:
        return f"fault-run-order-{self.sequence}"


def plan_orders(config: FaultRunConfig) -> list[PlannedOrder]:
    """The seeded order mix: mostly small orders, large ones from a few big spenders, some scarce SKUs."""
    rng = random.Random(config.seed)

    def customer_ids(count: int) -> list[str]:
        return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]

    customers, big_spenders = customer_ids(config.customers), customer_ids(config.big_spenders)
    orders = []
    for sequence in range(config.orders):
        draw = rng.random()
        if draw < config.large_order_share:
            orders.append(PlannedOrder(sequence, rng.choice(big_spenders), dict(LARGE_ORDER)))
            continue
        if draw < config.large_order_share + config.scarce_sku_share:
            lines = {SCARCE_SKU: rng.randint(1, 2)}
        else:
            lines = {sku: 1 for sku in rng.sample(COMMON_SKUS, rng.randint(1, 2))}
        orders.append(PlannedOrder(sequence, rng.choice(customers), lines))
    return orders


class FaultPlan(FaultInjector):
    """Seeded transient faults, decided per (step, order, attempt).

    Parameters
    ----------
    config:
        The run's seed and rate.
    """

    def __init__(self, config: FaultRunConfig) -> None:
        self.config = config
        self.sequence_of: dict[str, int] = {}
        self.attempts: Counter[tuple[str, ...]] = Counter()
        self.injected: Counter[str] = Counter()

    def _draw(self, *identity: str) -> float:
        digest = hashlib.sha256("|".join((str(self.config.seed), *identity)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _subject(self, package: str, event: Any) -> str:
        """A stable name for what an invocation works on: order sequence number plus, for events, their type."""
        if package == "create_order":
            return str(((event.get("headers") or {}).get("idempotency-key")) or "?")
        detail = event.get("detail") if isinstance(event, Mapping) and "detail-type" in event else None
        if detail is None:
            return f"order-{self.sequence_of.get(str(event.get('orderId')), -1)}"
        if "poison" in detail:
            return f"poison-{detail['poison']}"
        # S3 events name the order only in the receipt key: receipts/<customerId>/<orderId>.json.
        order_id = detail.get("orderId") or str((detail.get("object") or {}).get("key", "")).rsplit("/", 1)[-1][:-5]
        return f"order-{self.sequence_of.get(str(order_id), -1)}|{event['detail-type']}"

    def _faulty(self, *identity: str) -> bool:
        self.attempts[identity] += 1
        return self._draw(*identity, str(self.attempts[identity])) < self.config.transient_rate

    def decide(self, package: str, event: Any) -> FaultKind | None:
        """Throttle or lose the response of ``transient_rate`` of the Lambda steps' attempts."""
        if package not in LAMBDA_STEPS:
            return None
        subject = self._subject(package, event)
        if not self._faulty(package, subject):
            return None
        kind: FaultKind = (
            "throttle"
            if self._draw(package, subject, "kind", str(self.attempts[(package, subject)])) < 0.5
            else "lost-response"
        )
        self.injected[kind] += 1
        return kind

    def throttle_call(self, package: str, service: str, operation: str, request: Mapping[str, Any]) -> bool:
        """Throttle ``transient_rate`` of the timeline writes, record by record."""
        if package != "audit" or operation != "PutItem":
            return False
        item = request.get("Item") or {}
        order_id = (item.get("orderId") or {}).get("S", "")
        detail_type = (item.get("detailType") or {}).get("S", "")
        if self._faulty("audit", f"order-{self.sequence_of.get(order_id, -1)}|{detail_type}"):
            self.injected["throttle"] += 1
            return True
        return False

    def delivery_fault(self, rule: Any, target: Any, event: dict[str, Any], attempt: int) -> bool:
        """Fail ``transient_rate`` of the EventBridge target deliveries."""
        if self._faulty("delivery", rule.name, target.target_id, self._subject("", event)):
            self.injected["delivery"] += 1
            return True
        return False


@dataclass
class FaultRunResult:
    """What a fault run produced, for the figures and the invariants."""

    config: FaultRunConfig
    placed: dict[int, str] = field(default_factory=dict)
    """Order sequence number → order id, for the orders the API accepted."""
    not_placed: list[int] = field(default_factory=list)
    poison_event_ids: list[str] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)
    """Depth of every dead-letter queue when the run settled, before the operator's redrive."""
    redriven: int = 0
    seconds: float = 0.0


def run_faults(flow: OrderFlow, config: FaultRunConfig) -> tuple[FaultRunResult, FaultPlan]:
    """Place every planned order through the API (retrying like a client), inject the faults, settle.

    Returns
    -------
    tuple
        The run's result and the fault plan (its counters).
    """
    plan = FaultPlan(config)
    flow.runtime.faults = plan
    flow.router.deliveries_per_event = config.deliveries_per_event
    flow.router.delivery_fault = plan.delivery_fault
    result = FaultRunResult(config)
    started = time.perf_counter()
    poison_every = max(1, config.orders // max(1, config.poison_events))
    for planned in plan_orders(config):
        reply = _place_with_retries(flow, planned, config.client_attempts)
        if reply is None:
            result.not_placed.append(planned.sequence)
        else:
            plan.sequence_of[reply["orderId"]] = planned.sequence
            result.placed[planned.sequence] = reply["orderId"]
        if planned.sequence % poison_every == 0 and len(result.poison_event_ids) < config.poison_events:
            # A producer's bug: an order event without orderId, which only the audit rule matches.
            response = flow.events.put_events(
                Entries=[
                    {
                        "EventBusName": flow.system.custom_bus,
                        "Source": "orderflow.orders",
                        "DetailType": POISON_DETAIL_TYPE,
                        "Detail": json.dumps({"sku": "MUG-BLK", "delta": -1, "poison": len(result.poison_event_ids)}),
                    }
                ]
            )
            result.poison_event_ids.append(response["Entries"][0]["EventId"])
        flow.router.pump()
    result.dead_letters = flow.queue_depths(sorted(flow.system.dead_letter_queues))
    result.redriven = _redrive_parked(flow)
    result.seconds = time.perf_counter() - started
    return result, plan


def _redrive_parked(flow: OrderFlow) -> int:
    """Do what the runbook says for parked customer-status inputs: start each again, then delete it."""
    machine = flow.system.machine("customer-status-workflow")
    redriven = 0
    for url in sorted(machine.queue_urls):
        for body in flow.drain_queue(url):
            flow.sfn.start_execution(stateMachineArn=machine.arn, name=f"redrive-{uuid.uuid4()}", input=body)
            redriven += 1
    flow.router.pump()
    return redriven


def _place_with_retries(flow: OrderFlow, planned: PlannedOrder, attempts: int) -> dict[str, Any] | None:
    """``POST /orders`` until 202, reusing the Idempotency-Key as the API asks clients to (503, 409, 500)."""
    for _ in range(attempts):
        response = flow.api.request(
            "POST",
            "/orders",
            claims=claims_for(flow.system, planned.customer),
            body=order_body(planned.lines),
            headers={"Idempotency-Key": planned.idempotency_key},
        )
        if response["statusCode"] == 202:
            return dict(json.loads(response["body"]))
    return None


# ---------------------------------------------------------------------------------------------------
# Figures and invariants
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultRunFigures:
    """What the run measured."""

    terminal: dict[str, int]
    failure_reasons: dict[str, int]
    not_terminal: dict[str, str]
    duplicates_suppressed: dict[str, int]
    compensations: dict[str, dict[str, int]]
    faults: dict[str, int]
    dead_letters: dict[str, int]
    invocations: int

    def lines(self, result: FaultRunResult) -> list[str]:
        """The figures as the terminal summary prints them."""
        config = result.config
        return [
            f"seed {config.seed}: {config.orders} orders from {config.customers} customers, every event delivered "
            f"{config.deliveries_per_event}x, {config.transient_rate:.0%} transient faults per step attempt, "
            f"{config.poison_events} poison events; {result.seconds:.1f} s, {self.invocations} Lambda invocations",
            "orders by terminal state: "
            + ", ".join(f"{status} {count}" for status, count in self.terminal.items())
            + (f", not placed {len(result.not_placed)}" if result.not_placed else "")
            + f" (FAILED reasons: {', '.join(f'{k} {v}' for k, v in self.failure_reasons.items()) or 'none'})",
            "duplicates suppressed: "
            + ", ".join(f"{name} {count}" for name, count in self.duplicates_suppressed.items()),
            "compensations run: "
            + "; ".join(
                f"{step} {sum(outcomes.values())} ({', '.join(f'{k} {v}' for k, v in outcomes.items())})"
                for step, outcomes in self.compensations.items()
            ),
            "faults injected: " + ", ".join(f"{kind} {count}" for kind, count in self.faults.items()),
            "messages in each DLQ: "
            + ", ".join(f"{name} {count}" for name, count in self.dead_letters.items())
            + f" (parked customer-status inputs redriven afterwards: {result.redriven})",
        ]


def measure(flow: OrderFlow, result: FaultRunResult, plan: FaultPlan) -> FaultRunFigures:
    """Count terminal states, suppressed duplicates, compensations, faults and dead letters."""
    orders = {row["orderId"]: row for row in flow.scan("orders")}
    statuses = Counter(orders[order_id]["status"] for order_id in result.placed.values() if order_id in orders)
    reasons = Counter(
        orders[order_id].get("reason", "?")
        for order_id in result.placed.values()
        if orders.get(order_id, {}).get("status") == "FAILED"
    )
    not_terminal = {
        order_id: str(orders.get(order_id, {}).get("status"))
        for order_id in result.placed.values()
        if orders.get(order_id, {}).get("status") not in TERMINAL_ORDER_STATUSES
    }
    classifications = flow.list_executions("customer-status-workflow")
    fulfilments = flow.list_executions("fulfillment")
    duplicates = {
        # Each order's fulfilment is started once: every other successful classification was a duplicate.
        "OrderPlaced (no second fulfilment)": sum(item["status"] == "SUCCEEDED" for item in classifications)
        - len(fulfilments)
        - statuses.get("REJECTED", 0),
        "POST retries answered with the same order": _replayed_replies(flow),
        "notifications": _notify_duplicates(flow),
        "timeline writes": _audit_duplicates(flow),
        "step replays": _step_replays(flow),
    }
    compensations: dict[str, dict[str, int]] = {}
    for package in ("refund_payment", "release_inventory"):
        outcomes = Counter(
            str(invocation.result["outcome"])
            for invocation in flow.runtime.of(package)
            if invocation.succeeded and isinstance(invocation.result, dict)
        )
        compensations[package] = dict(sorted(outcomes.items()))
    return FaultRunFigures(
        terminal={status: statuses.get(status, 0) for status in sorted(TERMINAL_ORDER_STATUSES)},
        failure_reasons=dict(sorted(reasons.items())),
        not_terminal=not_terminal,
        duplicates_suppressed=duplicates,
        compensations=compensations,
        faults=dict(sorted(plan.injected.items())),
        dead_letters=result.dead_letters,
        invocations=len(flow.runtime.invocations),
    )


def _replayed_replies(flow: OrderFlow) -> int:
    """``create_order`` runs that answered with an order an earlier run had placed (no second order)."""
    seen: set[str] = set()
    replays = 0
    for invocation in flow.runtime.of("create_order"):
        if isinstance(invocation.result, dict) and invocation.result.get("statusCode") == 202:
            order_id = json.loads(invocation.result["body"])["orderId"]
            replays += order_id in seen
            seen.add(order_id)
    return replays


def _step_replays(flow: OrderFlow) -> int:
    """Step runs that answered with what an earlier run for the same order produced (nothing done twice)."""
    seen: set[tuple[str, str, str]] = set()
    replays = 0
    for invocation in flow.runtime.invocations:
        if invocation.package not in ("reserve_inventory", "process_payment", "create_shipment"):
            continue
        if not isinstance(invocation.result, dict):
            continue
        key = (invocation.package, str(invocation.event.get("orderId")), json.dumps(invocation.result, sort_keys=True))
        replays += key in seen
        seen.add(key)
    return replays


def _notify_duplicates(flow: OrderFlow) -> int:
    succeeded = sum(1 for invocation in flow.runtime.of("notify") if invocation.succeeded)
    return succeeded - len(flow.iot_publishes())


def _audit_duplicates(flow: OrderFlow) -> int:
    recorded = sum(
        len(invocation.event["Records"]) - len((invocation.result or {}).get("batchItemFailures") or [])
        for invocation in flow.runtime.of("audit")
        if invocation.succeeded
    )
    return recorded - len(flow.scan("timeline"))


def invariant_violations(flow: OrderFlow, result: FaultRunResult, figures: FaultRunFigures) -> list[str]:
    """Every broken invariant, in words (empty when the run is sound)."""
    problems: list[str] = []
    orders = {row["orderId"]: row for row in flow.scan("orders")}
    payments = {row["orderId"]: row for row in flow.scan("payments")}
    events_by_order: dict[str, list[str]] = defaultdict(list)
    for event in flow.bus_events():
        order_id = event["detail"].get("orderId")
        if order_id:
            events_by_order[order_id].append(event["detail-type"])

    # 1. Every order ends in exactly one terminal state, announced by exactly its event.
    for sequence, order_id in result.placed.items():
        row = orders.get(order_id)
        status = row.get("status") if row else None
        if status not in TERMINAL_ORDER_STATUSES:
            problems.append(f"order #{sequence} {order_id} ended {status}, not in a terminal state")
            continue
        announced = {kind for kind in events_by_order[order_id] if kind in TERMINAL_EVENTS.values()}
        if announced != {TERMINAL_EVENTS[str(status)]}:
            problems.append(f"order #{sequence} is {status} but announced {sorted(announced)}")

    # 2. Nobody is charged twice, or charged without a shipment or a refund.
    charges: dict[str, set[str]] = defaultdict(set)
    for invocation in flow.runtime.of("process_payment"):
        if isinstance(invocation.result, dict) and invocation.result.get("paymentId"):
            charges[invocation.event["orderId"]].add(invocation.result["paymentId"])
    for order_id, payment_ids in charges.items():
        if len(payment_ids) > 1:
            problems.append(f"order {order_id} was charged {len(payment_ids)} times: {sorted(payment_ids)}")
    for order_id, payment in payments.items():
        order = orders.get(order_id, {})
        if payment.get("status") == "CHARGED" and not (order.get("status") == "FULFILLED" and order.get("shipment")):
            problems.append(f"order {order_id} is charged but {order.get('status')} without a shipment or refund")
    for order_id, order in orders.items():
        if order.get("status") == "FULFILLED" and payments.get(order_id, {}).get("status") != "CHARGED":
            problems.append(f"order {order_id} is FULFILLED but its payment is {payments.get(order_id)}")

    # Stock is conserved: what left the shelves is exactly what fulfilled orders hold.
    shipped: Counter[str] = Counter()
    for order in orders.values():
        if order.get("status") == "FULFILLED":
            for line in order["items"]:
                shipped[line["sku"]] += int(line["quantity"])
    for sku, product in CATALOGUE.items():
        available = flow.item("inventory", {"pk": f"SKU#{sku}"})
        left = int(available["available"]) if available else -1
        if product["initialStock"] - left != shipped[sku]:
            problems.append(f"{sku}: {product['initialStock'] - left} units left the stock, {shipped[sku]} shipped")

    # 3. No event is lost: each delivery was processed or sits in a dead-letter queue.
    problems.extend(_lost_events(flow, result))
    # A duplicated OrderPlaced never fulfils twice: one execution per accepted order, named after it.
    fulfilments = Counter(item["name"] for item in flow.list_executions("fulfillment"))
    for sequence, order_id in result.placed.items():
        expected = 0 if orders.get(order_id, {}).get("status") == "REJECTED" else 1
        if fulfilments[f"order-{order_id}"] != expected:
            problems.append(f"order #{sequence} has {fulfilments[f'order-{order_id}']} fulfilment executions")
    running = [item["name"] for item in flow.list_executions("fulfillment") if item["status"] == "RUNNING"]
    problems.extend(f"fulfilment {name} is still running" for name in running)
    return problems


def _lost_events(flow: OrderFlow, result: FaultRunResult) -> list[str]:
    problems = []
    system = flow.system
    dead: dict[str, list[dict[str, Any]]] = {name: flow.peek_queue(name) for name in system.dead_letter_queues}
    audit_queue = next(queue for queue in system.queues.values() if queue.arn == system.queue_consumers[0].queue_arn)
    audit_dlq = next(queue.name for queue in system.queues.values() if queue.arn == audit_queue.dead_letter_arn)
    dead_audit_ids = {message["body"].get("id") for message in dead[audit_dlq]}
    timeline_ids = {row["eventId"] for row in flow.scan("timeline")}
    notify_failures = {
        message["body"]["requestPayload"].get("id")
        for name, messages in dead.items()
        for message in messages
        if "requestPayload" in message["body"]
    }
    rule_dead = {
        message["body"].get("id")
        for messages in dead.values()
        for message in messages
        if "RULE_ARN" in message["attributes"]
    }
    published = {(payload["orderId"], payload["type"]) for _, payload in flow.iot_publishes()}
    for event in flow.bus_events():
        event_id = event["id"]
        if event["source"] == "orderflow.orders" and event_id not in timeline_ids | dead_audit_ids | rule_dead:
            problems.append(f"event {event_id} ({event['detail-type']}) is neither on the timeline nor dead-lettered")
        if event["detail-type"] in TERMINAL_EVENTS.values() or event["detail-type"] == "OrderAccepted":
            key = (event["detail"]["orderId"], event["detail-type"])
            if key not in published and event_id not in notify_failures | rule_dead:
                problems.append(f"event {event_id} ({key[1]}) was neither notified nor dead-lettered")
    for event_id in result.poison_event_ids:
        if event_id not in dead_audit_ids:
            problems.append(f"poison event {event_id} is not in {audit_dlq}")
    failed_async = sum(1 for outcome in flow.router.async_outcomes if not outcome.succeeded)
    if failed_async != len(
        notify_failures_list := [m for ms in dead.values() for m in ms if "requestPayload" in m["body"]]
    ):
        problems.append(
            f"{failed_async} notify events failed but {len(notify_failures_list)} are in the on-failure queue"
        )
    return problems


# ---------------------------------------------------------------------------------------------------
# One run, in this process or in a background process
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultRunReport:
    """Everything a fault run measured and found, as plain JSON-able values."""

    config: dict[str, Any]
    lines: list[str]
    terminal: dict[str, int]
    failure_reasons: dict[str, int]
    duplicates_suppressed: dict[str, int]
    compensations: dict[str, dict[str, int]]
    faults: dict[str, int]
    dead_letters: dict[str, int]
    placed: int
    not_placed: int
    violations: list[str]
    seconds: float


def run_fault_run(system: RecordedSystem, config: FaultRunConfig) -> FaultRunReport:
    """Run the whole fault run in a fresh moto account and report figures and broken invariants."""
    with running_flow(system) as flow:
        result, plan = run_faults(flow, config)
        figures = measure(flow, result, plan)
        violations = invariant_violations(flow, result, figures)
    return FaultRunReport(
        config=dataclasses.asdict(config),
        lines=figures.lines(result),
        terminal=figures.terminal,
        failure_reasons=figures.failure_reasons,
        duplicates_suppressed=figures.duplicates_suppressed,
        compensations=figures.compensations,
        faults=figures.faults,
        dead_letters=figures.dead_letters,
        placed=len(result.placed),
        not_placed=len(result.not_placed),
        violations=violations,
        seconds=result.seconds,
    )


class BackgroundFaultRun:
    """The fault run in its own process, started early so it uses the second core while other tests run.

    Parameters
    ----------
    config:
        The run to make.
    """

    def __init__(self, config: FaultRunConfig) -> None:
        self.config = config
        self._directory = tempfile.TemporaryDirectory(prefix="orderflow-fault-run-")
        self.output = Path(self._directory.name) / "report.json"
        self._stderr: IO[bytes] = (Path(self._directory.name) / "stderr.log").open("wb")
        arguments = [sys.executable, "-m", "tests.e2e.faultkit", "--output", str(self.output)]
        arguments += ["--config", json.dumps(dataclasses.asdict(config))]
        # The handlers log every invocation to stdout (thousands of lines): only errors are kept.
        self.process = subprocess.Popen(arguments, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=self._stderr)

    def report(self, timeout_seconds: float) -> FaultRunReport:
        """Wait for the run and read its report.

        Raises
        ------
        RuntimeError
            When the process failed or wrote no report (the message carries the end of its stderr).
        subprocess.TimeoutExpired
            When it runs longer than ``timeout_seconds``.
        """
        code = self.process.wait(timeout=timeout_seconds)
        self._stderr.close()
        if code != 0 or not self.output.is_file():
            tail = (Path(self._directory.name) / "stderr.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"the fault run exited with {code}:\n{tail}")
        return FaultRunReport(**json.loads(self.output.read_text()))

    def stop(self) -> None:
        """End the process if it still runs, and remove its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()
        self._directory.cleanup()


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.e2e.faultkit --output report.json [--config JSON]``: one fault run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--config", default="{}", help="FaultRunConfig fields as JSON")
    arguments = parser.parse_args(argv)
    config = FaultRunConfig(**json.loads(arguments.config))
    handlers = str(PROJECT_DIR / "handlers")
    if handlers not in sys.path:
        sys.path.insert(0, handlers)
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from offline.harness import run_program

    report = run_fault_run(RecordedSystem.from_program(run_program("dev")), config)
    partial = arguments.output.with_suffix(".partial")
    partial.write_text(json.dumps(dataclasses.asdict(report)))
    os.replace(partial, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
