"""A seeded fault run of the whole order flow: the order mix, the fault plan, the figures, the invariants.

Every decision is drawn from the seed and a stable identity (the order's sequence number, the step or
call, the attempt), never from ids AWS generates, so a run's faults do not depend on uuids.

Faults injected:

* every Lambda step (both workflows' functions, ``notify``, ``create_order``), at ``transient_rate`` per
  attempt: either its first AWS call is throttled (the handler maps it to ``TransientDependencyError``),
  or it completes and the Lambda service then fails the response (``Lambda.ServiceException``), so the
  retry re-runs a step that already acted;
* ``audit``: each timeline write is throttled at ``transient_rate`` (that record fails alone);
* every EventBridge target delivery at ``transient_rate`` (EventBridge retries per the target's policy);
* the state machines' own service calls (DynamoDB, EventBridge, S3, SQS, Step Functions) at
  ``service_fault_rate`` per call: an error, a throttle, or a lost response (the call applied, the
  response lost), a third each;
* outages: for ``outage_share`` of the orders one service call of their workflow fails every time until
  the order is parked (the receipt bucket, the bus, the orders table down for longer than any retry
  budget), so the parking paths, and the rule that a shipped order is never refunded, are exercised.

With ``every_call`` (``--config '{"every_call": true}'``), faults reach every AWS call instead of the first
of each step: any handler's n-th call of an operation (``<function>:<service>.<Operation>#<n>``) fails at
``call_fault_rate`` per attempt with an error, a throttle, a lost response (applied, answer lost), a
timeout or an out-of-memory kill mid-run (the calls before it applied); invocations are throttled before
they run; every delivery hop (S3 → EventBridge, the SQS poller, SNS deliveries, writes to on-failure
destinations) fails at ``transient_rate``; and at ``express_timeout_rate`` of the Task attempts of a
``fulfillment-steps`` run (EXPRESS) the run is held until it passes its 5-minute limit
(``ExpressTimeLimit.stall``; no hung attempt alone can, as every Task has ``TimeoutSeconds`` and the run's worst
case fits). The first call at every call site, the first delivery on every hop the run reaches and the first
``fulfillment-steps`` attempt are always faulted, so each is covered whatever the seed (a rarely run
compensation, the on-failure destination). The report's ``call_sites`` counts each faulted call site and hop,
``hop_deliveries`` every delivery on each hop.

Once the run settled, the kit does the runbook's operator steps through ``orderflow.ops``' own code: start
parked customer-status inputs again, ``dlq redrive fulfillment-attention`` (each parked order resumes at its
stage), ``redrive-execution`` for an order whose execution ended ``NotParked`` (resumed from its history),
``dlq redrive notify-failures`` and ``dlq redrive order-audit``; it settles again, then checks the invariants
(every parked order recovered, or still parked and named with the stock it holds) and lists what each DLQ
still holds. Emulated time: the emulator's clock is virtual but Powertools reads the wall clock, so the
kit expires the in-progress idempotency records of an invocation Lambda would retry only after they expired
(:meth:`FaultPlan.after_invocation`). The one duplicate allowed is a live update IoT accepted that nothing
could record (:func:`unrecorded_live_update`), once per such fault, counted in the report.

Every event is delivered ``deliveries_per_event`` times, the copies processed at the same time. Plus, by
construction of the order mix: permanent declines (large orders of customers without history),
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
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, Final

from botocore.exceptions import ClientError

from offline.emulator.lambdas import CallFaultKind, Invocation
from orderflow.ops import executions, queues
from orderflow.ops.aws import Aws, OpsError
from orderflow.ops.outputs import StackOutputs
from tests.workflows.flowkit import (
    PROJECT_DIR,
    FaultInjector,
    FaultKind,
    OrderFlow,
    RecordedSystem,
    ServiceFaultInjector,
    ServiceFaultKind,
    running_flow,
)
from tests.workflows.flowkit_faults import call_name, order_of_call
from tests.workflows.flowkit_orders import CATALOGUE, TERMINAL_ORDER_STATUSES, api_request, claims_for, order_body

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
ONCE_PER_ORDER: Final = frozenset({"OrderPlaced", "OrderAccepted", *TERMINAL_EVENTS.values()})
SERVICES: Final = ("dynamodb", "events", "s3", "sqs", "stepfunctions")
"""Services the state machines call directly (Lambda faults are injected in the handlers' runtime)."""
SERVICE_FAULT_KINDS: Final[tuple[ServiceFaultKind, ...]] = ("error", "throttle", "lost-response")
CALL_FAULT_KINDS: Final[tuple[CallFaultKind, ...]] = ("error", "throttle", "lost-response", "timeout", "out-of-memory")
EVERY_CALL_EXEMPT: Final = frozenset({"get_order", "realtime_authorizer"})
"""Read-only handlers the invariants read the outcome through; their faults would test the checker, not the flow."""
OUTAGE_CALLS: Final = (
    "dynamodb:UpdateItem:ACCEPTED",
    "s3:PutObject",
    "dynamodb:UpdateItem:FULFILLED",
    "events:PutEvents:OrderFulfilled",
)
"""What an outage takes down for an order: the orders table before acceptance (customer-status parks the
event for redrive), or, after the shipment is booked, the receipts bucket, the orders table or the bus."""
INTERNAL_TEXT: Final = ("Traceback", "stackTrace", "errorMessage", "errorType", "/var/task", ".py", "Exception")
"""Markers of an internal error text (a Lambda error payload, a stack trace, a service exception)."""
POISON_DETAIL_TYPE: Final = "InventoryAdjusted"
RECEIPT_READY: Final = "ReceiptReady"
"""The notification ``notify`` makes of a receipt's ``Object Created`` event."""
AUDIT_FAILURE_QUEUE: Final = "order-audit"
"""The audit DLQ's role in the stack outputs (``failureQueues``), as ``orderflow.ops`` names it."""
ATTENTION_QUEUE: Final = "fulfillment-attention"
NOTIFY_FAILURES: Final = "notify-failures"
"""The roles of fulfillment's attention queue and notify's on-failure destination (``failureQueues``)."""
COMMON_SKUS: Final = ("MUG-BLK", "MUG-WHT", "TEE-M", "TEE-L", "CAP-01", "BAG-TOTE")
SCARCE_SKU: Final = "LAMP-DESK"
LARGE_ORDER: Final = {"MUG-WHT": 45}
"""Over the NEW customer's charge limit, within the RETURNING one: declined for a customer with no history."""


@dataclass(frozen=True)
class FaultRunConfig:
    """Shape of one fault run; the defaults are the fast run of ``make test``, :meth:`long` the bench's."""

    seed: int = 20_260_101
    orders: int = 100
    customers: int = 35
    big_spenders: int = 3
    """Customers who only place large orders: declined while NEW, BLOCKED after three failures."""
    deliveries_per_event: int = 2
    transient_rate: float = 0.2
    service_fault_rate: float = 0.2
    outage_share: float = 0.04
    large_order_share: float = 0.1
    scarce_sku_share: float = 0.06
    poison_events: int = 6
    client_attempts: int = 6
    every_call: bool = False
    """Fault every AWS call of every handler, invocations before they run, and every delivery hop."""
    call_fault_rate: float = 0.05
    """With ``every_call``: the share of handler AWS call attempts that fail."""
    express_timeout_rate: float = 0.005
    """With ``every_call``: the share of ``fulfillment-steps`` Task attempts at which the run is held past its
    5-minute EXPRESS limit (it times out; the parent waits it out and restarts it)."""

    @classmethod
    def long(cls, seed: int) -> FaultRunConfig:
        """The longer run of ``make bench``: 500 orders from 150 customers."""
        return cls(
            seed=seed,
            orders=500,
            customers=150,
            big_spenders=8,
            large_order_share=0.08,
            scarce_sku_share=0.04,
            poison_events=12,
        )


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


RETRIED_AFTER_A_MINUTE: Final = frozenset({"notify"})
"""Functions invoked asynchronously: Lambda retries a failed event after one minute, then two (Lambda developer
guide, "Error handling and automatic retries"), longer than their timeout."""


@dataclass(frozen=True)
class IdempotencyClaim:
    """A Powertools in-progress record an invocation wrote: its table, key and in-progress expiry (ms)."""

    table: str
    key: str
    in_progress_expiry: str


def idempotency_claim(call_site: str, request: Mapping[str, Any]) -> IdempotencyClaim | None:
    """The in-progress record a handler's call writes, when it is Powertools' conditional PutItem."""
    item = request.get("Item") or {}
    if not call_site.startswith("dynamodb.PutItem#") or (item.get("status") or {}).get("S") != "INPROGRESS":
        return None
    expiry = (item.get("in_progress_expiration") or {}).get("N")
    key = (item.get("id") or {}).get("S")
    return IdempotencyClaim(str(request.get("TableName")), str(key), str(expiry)) if expiry and key else None


def expire_claims(dynamodb: Any, claims: list[IdempotencyClaim]) -> None:
    """Expire in-progress records an invocation left, as they have expired when Lambda retries it on AWS.

    On AWS, Powertools' in-progress record expires with the invocation's remaining time, so a timed-out
    invocation's record has expired when it dies, and an asynchronous function's retry comes a minute later.
    The emulator's clock is virtual but Powertools reads the wall clock, so the kit lets that time pass for
    exactly these records (the condition leaves any record another invocation wrote since untouched).
    """
    past = str(int(time.time() * 1000) - 1)
    for claim in claims:
        try:
            dynamodb.update_item(
                TableName=claim.table,
                Key={"id": {"S": claim.key}},
                UpdateExpression="SET #in_progress_expiry = :past",
                ConditionExpression="#status = :in_progress AND #in_progress_expiry = :claimed",
                ExpressionAttributeNames={"#in_progress_expiry": "in_progress_expiration", "#status": "status"},
                ExpressionAttributeValues={
                    ":past": {"N": past},
                    ":in_progress": {"S": "INPROGRESS"},
                    ":claimed": {"N": claim.in_progress_expiry},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue


LIVE_UPDATE_STEP: Final = ".publish_live_update#"
"""What the idempotency keys of ``notify``'s IoT step contain (``<function>.app.publish_live_update#<hash>``)."""
COMPLETION_WRITE_FAILED: Final = "completion write failed"
PUBLISH_RESPONSE_LOST: Final = "publish response lost"


def unrecorded_live_update(package: str, call_site: str, request: Mapping[str, Any], kind: CallFaultKind) -> str | None:
    """Why a call fault leaves a live update published but unrecorded, so Lambda's retry publishes it again.

    No idempotency record can close this window (``handlers/notify/app.py``): IoT accepted the publish, and
    either the step's completion record was never written (the UpdateItem failed unapplied, or the function
    was killed at it), or the publish's own response was lost and the step failed. Any other fault of
    ``notify`` must not publish twice, so only these are allowed a duplicate, and each is counted.

    Returns
    -------
    str | None
        :data:`COMPLETION_WRITE_FAILED`, :data:`PUBLISH_RESPONSE_LOST`, or None for any other fault.
    """
    if package != "notify":
        return None
    if call_site.startswith("iot-data-plane.Publish#"):
        return PUBLISH_RESPONSE_LOST if kind == "lost-response" else None
    if not call_site.startswith("dynamodb.UpdateItem#") or kind == "lost-response":
        return None
    key = str(((request.get("Key") or {}).get("id") or {}).get("S", ""))
    status = ((request.get("ExpressionAttributeValues") or {}).get(":status") or {}).get("S")
    return COMPLETION_WRITE_FAILED if LIVE_UPDATE_STEP in key and status == "COMPLETED" else None


FULFILLMENT_RUN_NAME: Final = re.compile(r"order-(?P<order>[0-9a-f-]{36})(?P<run>-.+)")
"""A fulfillment-steps run's name: its parent's (``order-<orderId>``, or an operator's resume of it) and the run."""


class FaultPlan(FaultInjector):
    """Seeded transient faults, decided per (step or call, order, attempt), and the outages.

    Parameters
    ----------
    config:
        The run's seed and rates.
    """

    def __init__(self, config: FaultRunConfig) -> None:
        self.config = config
        self.sequence_of: dict[str, int] = {}
        self.attempts: Counter[tuple[str, ...]] = Counter()
        self.injected: Counter[str] = Counter()
        """Faults by ``"<service> <kind>"``: ``lambda throttle``, ``s3 lost-response``, ``eventbridge delivery``..."""
        self.service_calls: Counter[str] = Counter()
        self.outages: dict[int, str] = {}
        """Order sequence number → the call name that is down for it until the order is parked."""
        self.services = ServiceFaultPlan(self)
        self.settled = False
        """Set once the orders are placed and settled: the invariants' reads are not faulted."""
        self.lambda_call_sites: Counter[str] = Counter()
        """Whole-invocation faults of the every-call mode: ``<function>:lambda.Invoke#<kind>``."""
        self.express_call_sites: Counter[str] = Counter()
        """EXPRESS runs held past their limit: ``stepfunctions:<state machine>.ExpressTimeLimit``."""
        self.failed_unfaulted: Counter[str] = Counter()
        """Event id → ``notify`` invocations on it that failed though no fault was injected into them (a bug)."""
        self.unrecorded_live_updates: Counter[tuple[str, str, str]] = Counter()
        """(orderId, notification type, cause) of every fault that left a live update applied but unrecorded."""
        self.expire_claims: Callable[[list[IdempotencyClaim]], None] = lambda claims: None
        """Expires the given in-progress records (set by :func:`run_faults` to a write with the flow's client)."""
        self._lock = threading.Lock()
        self._current = threading.local()

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

    def _attempt(self, *identity: str) -> int:
        with self._lock:
            self.attempts[identity] += 1
            return self.attempts[identity]

    def _faulty(self, *identity: str, rate: float | None = None) -> bool:
        attempt = self._attempt(*identity)
        return self._draw(*identity, str(attempt)) < (self.config.transient_rate if rate is None else rate)

    def count(self, service: str, kind: str) -> None:
        """Record one injected fault."""
        with self._lock:
            self.injected[f"{service} {kind}"] += 1

    def plan_outages(self, sequences: list[int]) -> None:
        """Choose the orders that meet an outage, and what is down for each."""
        for sequence in sequences:
            if self._draw("outage", str(sequence)) < self.config.outage_share:
                pick = self._draw("outage-call", str(sequence))
                self.outages[sequence] = OUTAGE_CALLS[int(pick * len(OUTAGE_CALLS))]

    def decide(self, package: str, event: Any) -> FaultKind | None:
        """Throttle or lose the response of ``transient_rate`` of the Lambda steps' attempts.

        In the every-call mode: refuse the invocation (throttled before it runs) or lose its response,
        at ``transient_rate`` for any handler; the calls it makes are decided by :meth:`call_fault`.
        """
        if self.config.every_call:
            return self._decide_every_call(package, event)
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
        self.count("lambda", kind)
        return kind

    def _decide_every_call(self, package: str, event: Any) -> FaultKind | None:
        self._current.subject = None
        self._current.claims = []
        self._current.live_update = None
        self._current.call_faulted = False
        if self.settled or package in EVERY_CALL_EXEMPT:
            return None
        subject = self._subject_of_any(package, event)
        self._current.subject = subject
        if not self._faulty("invoke", package, subject, rate=self.config.transient_rate / 2):
            return None
        kind: FaultKind = (
            "refused"
            if self._draw("invoke-kind", package, subject, str(self.attempts[("invoke", package, subject)])) < 0.5
            else "lost-response"
        )
        self.count("lambda", kind)
        with self._lock:
            self.lambda_call_sites[f"{package}:lambda.Invoke#{kind}"] += 1
        return kind

    def _subject_of_any(self, package: str, event: Any) -> str:
        """:meth:`_subject`, for any handler's event (SQS batches are named by their first record's order)."""
        if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
            records = event["Records"]
            first = records[0] if records else {}
            try:
                body = json.loads(first.get("body") or "{}")
            except ValueError:
                body = {}
            inner = body.get("detail") if isinstance(body, Mapping) else None
            order_id = (inner or {}).get("orderId") if isinstance(inner, Mapping) else None
            return f"batch-{self.sequence_of.get(str(order_id), -1)}-{len(records)}"
        return self._subject(package, event) if isinstance(event, Mapping) else "?"

    def call_fault(self, package: str, call_site: str, request: Mapping[str, Any]) -> CallFaultKind | None:
        """In the every-call mode, fail each call site's first call and ``call_fault_rate`` of the later ones."""
        subject = getattr(self._current, "subject", None)
        if not self.config.every_call or subject is None:
            return None
        if package == "notify" and call_site.startswith("iot-data-plane.Publish#"):
            # The live update this invocation publishes (its payload), named by the notification it carries.
            self._current.live_update = (str(request.get("orderId")), str(request.get("type")))
        # The first call the run makes at each call site is faulted, so every site it reaches is covered.
        first = self._attempt("call-site", package, call_site) == 1
        if not first and not self._faulty("call", package, call_site, subject, rate=self.config.call_fault_rate):
            claim = idempotency_claim(call_site, request)
            if claim is not None:
                self._current.claims.append(claim)
            return None
        attempt = str(self.attempts[("call", package, call_site, subject)])
        kind = CALL_FAULT_KINDS[
            int(self._draw("call-kind", package, call_site, subject, attempt) * len(CALL_FAULT_KINDS))
        ]
        self.count("lambda", f"call {kind}")
        self._current.call_faulted = True
        claim = idempotency_claim(call_site, request) if kind == "lost-response" else None
        if claim is not None:
            # Applied, its answer lost: Powertools raises, and the record stays in progress like any other.
            self._current.claims.append(claim)
        cause = unrecorded_live_update(package, call_site, request, kind)
        live_update = getattr(self._current, "live_update", None)
        if cause is not None and live_update is not None:
            with self._lock:
                self.unrecorded_live_updates[(*live_update, cause)] += 1
        return kind

    def after_invocation(self, invocation: Invocation) -> None:
        """Expire the in-progress records a finished invocation left, where AWS would have by its retry.

        A timed-out invocation's records expire when it dies; an asynchronous function's failed invocation is
        retried a minute later, past its timeout, when its records have expired too (:func:`expire_claims`).
        Called in the invocation's thread right after it returns, so the claims are exactly its own.
        """
        claims = getattr(self._current, "claims", [])
        self._current.claims = []
        faulted = invocation.fault is not None or getattr(self._current, "call_faulted", False)
        if invocation.package == "notify" and not invocation.succeeded and not faulted:
            with self._lock:
                self.failed_unfaulted[str((invocation.event or {}).get("id"))] += 1
        retried_later = not invocation.succeeded and invocation.package in RETRIED_AFTER_A_MINUTE
        if claims and (invocation.fault == "timeout" or retried_later):
            self.expire_claims(claims)

    def express_stall(self, machine: str, execution: str, state: str) -> bool:
        """In the every-call mode, hold the first ``fulfillment-steps`` Task attempt of the run past the EXPRESS
        limit, and ``express_timeout_rate`` of the later ones (per order, run and state)."""
        named = FULFILLMENT_RUN_NAME.fullmatch(execution)
        if not self.config.every_call or self.settled or named is None:
            return False
        subject = f"order-{self.sequence_of.get(named.group('order'), -1)}{named.group('run')}"
        with self._lock:
            self.attempts[("express", machine)] += 1
            first = self.attempts[("express", machine)] == 1
        if not first and not self._faulty("express", state, subject, rate=self.config.express_timeout_rate):
            return False
        self.count("stepfunctions", "express-timeout")
        with self._lock:
            self.express_call_sites[f"stepfunctions:{machine}.ExpressTimeLimit"] += 1
        return True

    def hop_fault(self, hop: str, delivered: Any, attempt: int) -> bool:
        """In the every-call mode, fail the first delivery on every hop and ``transient_rate`` of the later ones."""
        if not self.config.every_call or self.settled:
            return False
        with self._lock:
            self.attempts[("hop", hop)] += 1
            occurrence = self.attempts[("hop", hop)]
        if occurrence > 1 and self._draw("hop", hop, str(occurrence)) >= self.config.transient_rate:
            return False
        self.count(hop.split(":", 1)[0], "delivery")
        return True

    def throttle_call(self, package: str, service: str, operation: str, request: Mapping[str, Any]) -> bool:
        """Throttle ``transient_rate`` of the timeline writes, record by record."""
        if package != "audit" or operation != "PutItem":
            return False
        item = request.get("Item") or {}
        order_id = (item.get("orderId") or {}).get("S", "")
        detail_type = (item.get("detailType") or {}).get("S", "")
        if self._faulty("audit", f"order-{self.sequence_of.get(order_id, -1)}|{detail_type}"):
            self.count("lambda", "throttle")
            return True
        return False

    def delivery_fault(self, rule: Any, target: Any, event: dict[str, Any], attempt: int) -> bool:
        """Fail ``transient_rate`` of the EventBridge target deliveries (in the every-call mode, :meth:`hop_fault`)."""
        if self.config.every_call:
            return False
        if self._faulty("delivery", rule.name, target.target_id, self._subject("", event)):
            self.count("eventbridge", "delivery")
            return True
        return False


class ServiceFaultPlan(ServiceFaultInjector):
    """The plan's faults in the state machines' own service calls (see :class:`FaultPlan`)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan

    def decide(self, service: str, operation: str, parameters: Mapping[str, Any]) -> ServiceFaultKind | None:
        """An outage's error, or at ``service_fault_rate`` an error, a throttle or a lost response."""
        if service not in SERVICES:
            return None
        plan = self.plan
        name = call_name(service, operation, parameters)
        sequence = plan.sequence_of.get(order_of_call(service, parameters), -1)
        with plan._lock:
            plan.service_calls[service] += 1
            if service == "sqs" and sequence in plan.outages:
                # Parked: the outage is over for this order (an operator's redrive finds the service back).
                plan.outages.pop(sequence)
            elif plan.outages.get(sequence) == name:
                plan.injected[f"{service} outage"] += 1
                return "error"
        subject = f"order-{sequence}"
        if not plan._faulty("service", name, subject, rate=plan.config.service_fault_rate):
            return None
        attempt = str(plan.attempts[("service", name, subject)])
        kind = SERVICE_FAULT_KINDS[int(plan._draw(name, subject, "kind", attempt) * len(SERVICE_FAULT_KINDS))]
        plan.count(service, kind)
        return kind


@dataclass
class FaultRunResult:
    """What a fault run produced, for the figures and the invariants."""

    config: FaultRunConfig
    placed: dict[int, str] = field(default_factory=dict)
    """Order sequence number → order id, for the orders the API accepted."""
    customers: dict[int, str] = field(default_factory=dict)
    """Order sequence number → the customer who placed it."""
    not_placed: list[int] = field(default_factory=list)
    poison_event_ids: list[str] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)
    """Depth of every dead-letter queue when the run settled, before the operator's redrive."""
    redriven: int = 0
    audit_redriven: int = 0
    """Messages the operator's ``dlq redrive order-audit`` moved back to the audit queue after the run settled."""
    parked_when_settled: dict[str, int] = field(default_factory=dict)
    """Orders parked for an operator when the run settled (after the customer-status redrive), by queue."""
    parked_before_recovery: dict[str, str] = field(default_factory=dict)
    """Order id → the stage its parked fulfillment resumes at, for every order parked when the run settled."""
    resumed: int = 0
    """Parked messages ``dlq redrive fulfillment-attention`` delivered, over all its rounds (a parking sent twice
    starts one execution)."""
    not_parked: dict[str, str] = field(default_factory=dict)
    """Order id → what ``redrive-execution`` did for an order whose execution ended ``NotParked``."""
    notify_redriven: dict[str, int] = field(default_factory=dict)
    """What ``dlq redrive notify-failures`` delivered again, by what it was when the run settled."""
    unrecorded_live_updates: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(orderId, notification type) → live updates published but unrecorded (:func:`unrecorded_live_update`)."""
    unrecorded_causes: dict[str, int] = field(default_factory=dict)
    """The same faults by cause: ``completion write failed``, ``publish response lost``."""
    outages: dict[int, str] = field(default_factory=dict)
    """Order sequence number → the call an outage took down for it."""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the run (all threads): its duration on an otherwise idle machine, whatever the load."""


def run_faults(flow: OrderFlow, config: FaultRunConfig, outputs: StackOutputs) -> tuple[FaultRunResult, FaultPlan]:
    """Place every planned order through the API (retrying like a client), inject the faults, settle, then do
    what the runbook asks of an operator (redrive parked inputs and the audit DLQ) and settle again.

    Returns
    -------
    tuple
        The run's result and the fault plan (its counters).
    """
    plan = FaultPlan(config)
    flow.runtime.faults = plan
    flow.seams.service_faults = plan.services
    flow.seams.express_limit.stall = plan.express_stall
    flow.router.deliveries_per_event = config.deliveries_per_event
    flow.router.delivery_fault = plan.delivery_fault
    flow.router.hop_fault = plan.hop_fault
    plan.expire_claims = partial(expire_claims, flow.dynamodb)
    result = FaultRunResult(config)
    started, started_cpu = time.perf_counter(), time.process_time()
    poison_every = max(1, config.orders // max(1, config.poison_events))
    orders = plan_orders(config)
    plan.plan_outages([planned.sequence for planned in orders])
    result.outages = dict(plan.outages)
    for planned in orders:
        reply = _place_with_retries(flow, planned, config.client_attempts)
        if reply is None:
            result.not_placed.append(planned.sequence)
        else:
            plan.sequence_of[reply["orderId"]] = planned.sequence
            result.placed[planned.sequence] = reply["orderId"]
            result.customers[planned.sequence] = planned.customer
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
    plan.settled = True
    result.redriven = _redrive_parked(flow)
    result.parked_when_settled = {name: len(order_ids) for name, order_ids in parked_orders(flow).items()}
    result.parked_before_recovery = _parked_stages(flow, outputs)
    for _ in range(ATTENTION_REDRIVE_ROUNDS):
        moved = redrive_failure_queue(flow, outputs, ATTENTION_QUEUE)
        result.resumed += moved
        if moved == 0:
            break
    result.not_parked = _resume_not_parked(flow, outputs, result)
    kinds = notify_failure_kinds(flow, result, set(plan.failed_unfaulted))
    result.notify_redriven = dict(sorted(Counter(kinds).items()))
    redrive_failure_queue(flow, outputs, NOTIFY_FAILURES)
    result.audit_redriven = redrive_failure_queue(flow, outputs, AUDIT_FAILURE_QUEUE)
    for (order_id, notification, cause), count in plan.unrecorded_live_updates.items():
        result.unrecorded_live_updates[(order_id, notification)] += count
        result.unrecorded_causes[cause] = result.unrecorded_causes.get(cause, 0) + count
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - started_cpu
    return result, plan


ATTENTION_REDRIVE_ROUNDS: Final = 3
"""How often the operator redrives ``fulfillment-attention`` at most: the runbook's "done when the queue is at 0"
(service faults stay on during the recovery, so a resumed order may park again)."""


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


def redrive_failure_queue(flow: OrderFlow, outputs: StackOutputs, role: str) -> int:
    """The runbook's ``python -m orderflow.ops dlq redrive <role> --one-by-one``, then settle; how many it moved.

    The ops tool's own code path, on the emulator's moto (which has no StartMessageMoveTask, hence
    ``--one-by-one``: receive, deliver, delete). ``order-audit`` goes back to the audit queue (poison, with no
    ``orderId``, returns to the DLQ after ``maxReceiveCount`` receives, as on AWS); ``fulfillment-attention``
    starts one ``order-<id>-resume-<n>`` per parked order, at its stage; ``notify-failures`` invokes notify again.
    """
    report = queues.redrive(
        Aws.connect(outputs.region, None),
        outputs,
        outputs.queue(role),
        to=None,
        rate=None,
        limit=None,
        dry_run=False,
        one_by_one=True,
        progress=lambda line: None,
    )
    flow.router.pump()
    return report.moved


def _parked_stages(flow: OrderFlow, outputs: StackOutputs) -> dict[str, str]:
    """Order id → the stage each parked fulfillment resumes at (what ``dlq show fulfillment-attention`` says)."""
    shown = queues.show(Aws.connect(outputs.region, None), outputs.queue(ATTENTION_QUEUE), limit=1000)
    return {
        str(message["body"].get("orderId")): str(message["failure"].get("resumeAt", "not resumable"))
        for message in shown
        if isinstance(message["body"], dict)
    }


def _resume_not_parked(flow: OrderFlow, outputs: StackOutputs, result: FaultRunResult) -> dict[str, str]:
    """``redrive-execution`` for every accepted order still not terminal whose fulfillment failed unparked.

    What ``reconcile`` tells an operator to run for a failed execution that parked nothing: the ops tool resumes
    one that ended ``NotParked`` from its history. Returns order id → what it did (or why it could not).
    """
    aws = Aws.connect(outputs.region, None)
    orders = {row["orderId"]: row for row in flow.scan("orders")}
    done: dict[str, str] = {}
    for order_id in result.placed.values():
        order = orders.get(order_id, {})
        if order.get("status") != "ACCEPTED" or order.get("attention"):
            continue
        execution = executions.order_execution(aws, outputs.fulfillment_arn, order_id)
        if execution is None or execution["status"] != "FAILED":
            continue
        try:
            resumed = executions.redrive_execution(aws, outputs.fulfillment_arn, order_id, outputs.orders_table)
        except (OpsError, ClientError, NotImplementedError) as refused:
            done[order_id] = f"not recoverable: {refused}"
            continue
        done[order_id] = f"resumed as {resumed.get('resumedAs')} at {resumed.get('resumeAt')}"
    flow.router.pump()
    return done


DUPLICATE_KILLED: Final = "copy of delivered work, every attempt faulted"
"""A notify-failures record whose notification another copy delivered, after each of its own attempts failed on
an injected fault (a platform fault on every attempt: on AWS too it is a failure, the alarm is right)."""
DUPLICATE_DEAD_LETTERED: Final = "duplicate of delivered work"
"""A notify-failures record of a delivered notification with an attempt that failed though nothing was faulted:
a duplicate notify failed on (the bug of issue 20, item 7); the run reports it."""


def notify_failure_kinds(flow: OrderFlow, result: FaultRunResult, failed_unfaulted: Collection[str] = ()) -> list[str]:
    """Each notify-failures record before the operator's redrive: :data:`DUPLICATE_KILLED`,
    :data:`DUPLICATE_DEAD_LETTERED` (``failed_unfaulted`` holds its event id) or ``not delivered``."""
    delivered = delivered_notifications(flow)
    kinds = []
    for message in flow.peek_queue(flow.system.queue_by_arn(_notify_on_failure_arn(flow)).name):
        event = message["body"].get("requestPayload") or {}
        if _notification_key(event) not in delivered:
            kinds.append("not delivered")
        else:
            kinds.append(DUPLICATE_DEAD_LETTERED if str(event.get("id")) in failed_unfaulted else DUPLICATE_KILLED)
    return kinds


def _notify_on_failure_arn(flow: OrderFlow) -> str:
    notify = flow.system.function("notify")
    return str(flow.system.async_invokes[notify.name].on_failure_destination)


def _notification_key(event: Mapping[str, Any]) -> tuple[Any, Any]:
    """(orderId, notification type) of an event notify handles (a receipt's ``Object Created`` is ReceiptReady)."""
    detail = event.get("detail") or {}
    if event.get("detail-type") == "Object Created":
        # notify's receipt event: receipts/<customerId>/<orderId>.json becomes ReceiptReady.
        return (str((detail.get("object") or {}).get("key", "")).rsplit("/", 1)[-1][:-5], RECEIPT_READY)
    return (detail.get("orderId"), event.get("detail-type"))


def delivered_notifications(flow: OrderFlow) -> set[tuple[Any, Any]]:
    """(orderId, type) of every notification published on its channel (the customer's IoT topic): delivered."""
    return {(payload.get("orderId"), payload.get("type")) for _, payload in flow.iot_publishes()}


def _place_with_retries(flow: OrderFlow, planned: PlannedOrder, attempts: int) -> dict[str, Any] | None:
    """``POST /orders`` until 202, reusing the Idempotency-Key as the API asks clients to (503, 409, 500)."""
    for _ in range(attempts):
        response = api_request(
            flow,
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
    parked: dict[str, int]
    """Orders parked for an operator when the run settled, by queue (after the customer-status redrive)."""
    duplicates_suppressed: dict[str, int]
    compensations: dict[str, dict[str, int]]
    faults: dict[str, int]
    service_calls: dict[str, int]
    dead_letters: dict[str, int]
    invocations: int

    def lines(self, result: FaultRunResult) -> list[str]:
        """The figures as the terminal summary prints them."""
        config = result.config
        by_service: dict[str, list[str]] = defaultdict(list)
        for name, count in self.faults.items():
            service, kind = name.split(" ", 1)
            by_service[service].append(f"{kind} {count}")
        return [
            f"seed {config.seed}: {config.orders} orders from {config.customers} customers, every event delivered "
            f"{config.deliveries_per_event}x (copies processed concurrently), {config.transient_rate:.0%} faults per "
            f"Lambda step attempt and delivery, {config.service_fault_rate:.0%} per workflow service call, "
            f"{len(result.outages)} outages, {config.poison_events} poison events; {result.seconds:.1f} s "
            f"({result.cpu_seconds:.1f} s of CPU), "
            f"{self.invocations} Lambda invocations",
            "orders by terminal state: "
            + ", ".join(f"{status} {count}" for status, count in self.terminal.items())
            + (f", not placed {len(result.not_placed)}" if result.not_placed else "")
            + f" (FAILED reasons: {', '.join(f'{k} {v}' for k, v in self.failure_reasons.items()) or 'none'})"
            + f"; parked for an operator: {', '.join(f'{k} {v}' for k, v in self.parked.items()) or 'none'}",
            "duplicates suppressed: "
            + ", ".join(f"{name} {count}" for name, count in self.duplicates_suppressed.items()),
            "compensations run: "
            + "; ".join(
                f"{step} {sum(outcomes.values())} ({', '.join(f'{k} {v}' for k, v in outcomes.items())})"
                for step, outcomes in self.compensations.items()
            ),
            "faults injected by service and kind: "
            + "; ".join(f"{service}: {', '.join(kinds)}" for service, kinds in sorted(by_service.items())),
            "workflow service calls: "
            + ", ".join(f"{service} {count}" for service, count in self.service_calls.items()),
            "messages in each DLQ: "
            + ", ".join(f"{name} {count}" for name, count in self.dead_letters.items())
            + f" (parked customer-status inputs redriven afterwards: {result.redriven})",
        ]


def measure(flow: OrderFlow, result: FaultRunResult, plan: FaultPlan) -> FaultRunFigures:
    """Count terminal states, parked orders, suppressed duplicates, compensations, faults and dead letters."""
    orders = {row["orderId"]: row for row in flow.scan("orders")}
    statuses = Counter(orders[order_id]["status"] for order_id in result.placed.values() if order_id in orders)
    reasons = Counter(
        orders[order_id].get("reason", "?")
        for order_id in result.placed.values()
        if orders.get(order_id, {}).get("status") == "FAILED"
    )
    parked = dict(result.parked_when_settled)
    classifications = flow.list_executions("customer-status-workflow")
    decided = sum(count for status, count in statuses.items() if status != "PENDING")
    once_events = [event for event in flow.bus_events() if event["detail-type"] in ONCE_PER_ORDER]
    duplicates = {
        # Each order is decided once: every other successful classification was a duplicate OrderPlaced.
        "OrderPlaced (decided once)": sum(item["status"] == "SUCCEEDED" for item in classifications) - decided,
        "POST retries answered with the same order": _replayed_replies(flow),
        "events put twice, kept once": len(once_events)
        - len({(event["detail"].get("orderId"), event["detail-type"]) for event in once_events}),
        "notifications": _notify_duplicates(flow),
        "timeline writes": _audit_duplicates(flow),
        "step replays": _step_replays(flow),
    }
    compensations: dict[str, dict[str, int]] = {}
    for package in ("cancel_shipment", "refund_payment", "release_inventory"):
        outcomes = Counter(
            str(invocation.result["outcome"])
            for invocation in flow.runtime.of(package)
            if invocation.succeeded and isinstance(invocation.result, dict)
        )
        compensations[package] = dict(sorted(outcomes.items()))
    return FaultRunFigures(
        terminal={status: statuses.get(status, 0) for status in sorted(TERMINAL_ORDER_STATUSES)},
        failure_reasons=dict(sorted(reasons.items())),
        parked=parked,
        duplicates_suppressed=duplicates,
        compensations=compensations,
        faults=dict(sorted(plan.injected.items())),
        service_calls={service: plan.service_calls[service] for service in SERVICES},
        dead_letters=result.dead_letters,
        invocations=len(flow.runtime.invocations),
    )


def parked_orders(flow: OrderFlow) -> dict[str, dict[str, dict[str, Any]]]:
    """Orders waiting for an operator: queue name → order id → the error parked with it."""
    parked: dict[str, dict[str, dict[str, Any]]] = {}
    for machine in flow.system.machines.values():
        for url in sorted(machine.queue_urls):
            name = flow.system.queue_by_url(url).name
            parked[name] = {}
            for message in flow.peek_queue(name):
                body = message["body"]
                order_id = body.get("orderId") or (body.get("detail") or {}).get("orderId")
                parked[name][str(order_id)] = body.get("error") or {}
    return parked


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
    """Every broken invariant, in words (empty when the run is sound).

    1. Every accepted order is terminal, or parked on an alarmed queue with its cause.
    2. Nobody is charged without an order, charged twice, refunded while shipped, or shipped without payment.
    3. Stock is never negative and always equals initial − what booked shipments hold.
    4. Every terminal status has exactly one timeline entry and at most one notification of its event (exactly
       one unless the notification is dead-lettered, or the order is parked with the event unpublished).
    5. No event is lost; a duplicated OrderPlaced never fulfils twice; nothing is still running.
    6. No customer ever sees another customer's data or an internal error text (live updates and the API).
    """
    problems: list[str] = []
    orders = {row["orderId"]: row for row in flow.scan("orders")}
    payments = {row["orderId"]: row for row in flow.scan("payments")}
    parked = {order_id: error for queue in parked_orders(flow).values() for order_id, error in queue.items()}
    timeline: Counter[tuple[str, str]] = Counter((row["orderId"], row["detailType"]) for row in flow.scan("timeline"))
    publishes = flow.iot_publishes()
    notified = Counter((payload.get("orderId"), payload.get("type")) for _, payload in publishes)
    dead_notifications = _dead_notifications(flow)

    # 1. Terminal, or parked with its cause; and every order parked (or left unparked) when the run settled was
    # finished by the operator's recovery.
    for sequence, order_id in result.placed.items():
        status = orders.get(order_id, {}).get("status")
        if status in TERMINAL_ORDER_STATUSES:
            continue
        if order_id in result.parked_before_recovery or order_id in result.not_parked:
            how = result.not_parked.get(order_id) or f"resumed at {result.parked_before_recovery[order_id]}"
            problems.append(f"order #{sequence} {order_id} was parked ({how}) and is still {status} after recovery")
        elif order_id not in parked:
            problems.append(f"order #{sequence} {order_id} ended {status}: not terminal and not parked")
        elif not parked[order_id].get("Error"):
            problems.append(f"order #{sequence} {order_id} is parked without its cause")

    # 2. Money and shipments.
    charges: dict[str, set[str]] = defaultdict(set)
    for invocation in flow.runtime.of("process_payment"):
        if isinstance(invocation.result, dict) and invocation.result.get("paymentId"):
            charges[invocation.event["orderId"]].add(invocation.result["paymentId"])
    for order_id, payment_ids in charges.items():
        if len(payment_ids) > 1:
            problems.append(f"order {order_id} was charged {len(payment_ids)} times: {sorted(payment_ids)}")
    for order_id, payment in payments.items():
        order = orders.get(order_id)
        if order is None:
            problems.append(f"payment of {order_id} has no order")
            continue
        booked = (order.get("shipment") or {}).get("status") == "BOOKED"
        if payment.get("status") == "CHARGED" and not booked:
            problems.append(f"order {order_id} is charged but {order.get('status')} without a booked shipment")
        if payment.get("status") == "REFUNDED" and booked:
            problems.append(f"order {order_id} was refunded while shipped")
    for order_id, order in orders.items():
        booked = (order.get("shipment") or {}).get("status") == "BOOKED"
        if booked and payments.get(order_id, {}).get("status") != "CHARGED":
            problems.append(f"order {order_id} is shipped but its payment is {payments.get(order_id)}")
        if order.get("status") == "FULFILLED" and not booked:
            problems.append(f"order {order_id} is FULFILLED without a booked shipment")
        if booked and order.get("status") != "FULFILLED" and order_id not in parked:
            problems.append(f"order {order_id} is shipped but {order.get('status')} and not parked")

    # 3. Stock: what left the shelves is what booked shipments hold, plus what orders still parked (named) hold,
    # never below zero.
    shipped: Counter[str] = Counter()
    for order in orders.values():
        if (order.get("shipment") or {}).get("status") == "BOOKED":
            for line in order["items"]:
                shipped[line["sku"]] += int(line["quantity"])
    held: Counter[str] = Counter()
    held_by_parked: dict[str, Counter[str]] = defaultdict(Counter)
    for row in flow.scan("inventory"):
        if str(row["pk"]).startswith("RESERVATION#") and row.get("status") == "RESERVED":
            for item in row.get("items") or []:
                held[item["sku"]] += int(item["quantity"])
                if (
                    row.get("orderId") in parked
                    and (orders.get(row["orderId"], {}).get("shipment") or {}).get("status") != "BOOKED"
                ):
                    held_by_parked[item["sku"]][str(row["orderId"])] += int(item["quantity"])
    for sku, product in CATALOGUE.items():
        available = flow.item("inventory", {"pk": f"SKU#{sku}"})
        left = int(available["available"]) if available else -1
        if left < 0:
            problems.append(f"{sku}: stock is negative ({left})")
        if product["initialStock"] - left != held[sku]:
            problems.append(f"{sku}: {product['initialStock'] - left} units left the stock, {held[sku]} are reserved")
        parked_hold = held_by_parked[sku]
        if held[sku] != shipped[sku] + sum(parked_hold.values()):
            problems.append(
                f"{sku}: {held[sku]} units reserved, {shipped[sku]} in booked shipments"
                + (f" and {dict(parked_hold)} held by parked orders" if parked_hold else "")
            )

    # 4. Every terminal status: one timeline entry, one notification (or a dead letter), none twice. A parked
    # order may not have published its event yet: none then, never two. The one duplicate allowed: a live
    # update IoT accepted but that nothing could record (see unrecorded_live_update), once per such fault.
    unrecorded = result.unrecorded_live_updates
    for sequence, order_id in result.placed.items():
        status = str(orders.get(order_id, {}).get("status"))
        event = TERMINAL_EVENTS.get(status)
        if event is None:
            continue
        allowed = {0, 1} if order_id in parked else {1}
        entries, notifications = timeline[(order_id, event)], notified[(order_id, event)]
        if entries not in allowed:
            problems.append(f"order #{sequence} is {status} with {entries} {event} timeline entries")
        duplicates_allowed = 1 < notifications <= 1 + unrecorded[(order_id, event)]
        if notifications not in allowed and not duplicates_allowed and (order_id, event) not in dead_notifications:
            problems.append(f"order #{sequence} is {status}, {event} was notified {notifications} times")
        others = {kind for (oid, kind) in timeline if oid == order_id} & set(TERMINAL_EVENTS.values()) - {event}
        if others:
            problems.append(f"order #{sequence} is {status} but its timeline also says {sorted(others)}")
    problems.extend(
        f"{kind} of {order_id} was notified {count} times"
        for (order_id, kind), count in notified.items()
        if count > 1 + unrecorded[(str(order_id), str(kind))]
    )

    # 5. Nothing lost, nothing fulfilled twice, nothing still running; no duplicate dead-lettered for being one.
    problems.extend(_lost_events(flow, result))
    if result.notify_redriven.get(DUPLICATE_DEAD_LETTERED):
        problems.append(
            f"{result.notify_redriven[DUPLICATE_DEAD_LETTERED]} notify-failures records are duplicates of delivered "
            "notifications that failed without an injected fault"
        )
    fulfilments = Counter(item["name"] for item in flow.list_executions("fulfillment"))
    for sequence, order_id in result.placed.items():
        if fulfilments[f"order-{order_id}"] > 1:
            problems.append(f"order #{sequence} has {fulfilments[f'order-{order_id}']} fulfilment executions")
    running = [item["name"] for item in flow.list_executions("fulfillment") if item["status"] == "RUNNING"]
    problems.extend(f"fulfilment {name} is still running" for name in running)

    # 6. What customers see.
    problems.extend(_what_customers_see(flow, result, orders, publishes))
    return problems


def dead_letters_after_redrive(flow: OrderFlow, result: FaultRunResult) -> dict[str, dict[str, int]]:
    """What is left on each dead-letter queue once the operator's redrives settled, by kind.

    ``poison`` is an audit message without an ``orderId`` (a producer's bug nobody can record);
    ``duplicate of delivered work`` is an audit message whose event is on the timeline, or a notification
    published on its channel (IoT); ``other`` is anything
    else (an order parked for an operator, or work not done).
    """
    timeline = flow.scan("timeline")
    recorded_ids = {row["eventId"] for row in timeline}
    recorded = {(row["orderId"], row["detailType"]) for row in timeline}
    published = delivered_notifications(flow)
    audit_dlq = _audit_dead_letter_queue(flow)
    contents: dict[str, dict[str, int]] = {}
    for name in sorted(flow.system.dead_letter_queues):
        kinds: Counter[str] = Counter()
        for message in flow.peek_queue(name):
            body = message["body"]
            event = body.get("requestPayload", body) if isinstance(body, dict) else {}
            detail = (event.get("detail") or {}) if isinstance(event, dict) else {}
            key = _notification_key(event) if isinstance(event, dict) else (None, None)
            on_timeline = event.get("id") in recorded_ids or (key[1] in ONCE_PER_ORDER and key in recorded)
            if name == audit_dlq and not detail.get("orderId"):
                kinds["poison"] += 1
            elif (name == audit_dlq and on_timeline) or ("requestPayload" in body and key in published):
                kinds["duplicate of delivered work"] += 1
            else:
                kinds["other"] += 1
        contents[name] = dict(sorted(kinds.items()))
    return contents


def _audit_dead_letter_queue(flow: OrderFlow) -> str:
    """The name of the audit consumer's dead-letter queue."""
    system = flow.system
    audit_queue = next(queue for queue in system.queues.values() if queue.arn == system.queue_consumers[0].queue_arn)
    return next(queue.name for queue in system.queues.values() if queue.arn == audit_queue.dead_letter_arn)


def _dead_notifications(flow: OrderFlow) -> set[tuple[str, str]]:
    """(orderId, detail-type) of the status events whose notification ended in a dead-letter queue."""
    dead = set()
    for name in flow.system.dead_letter_queues:
        for message in flow.peek_queue(name):
            body = message["body"]
            event = body.get("requestPayload", body)
            if isinstance(event, dict) and "detail-type" in event:
                dead.add((str((event.get("detail") or {}).get("orderId")), str(event["detail-type"])))
    return dead


def _what_customers_see(
    flow: OrderFlow, result: FaultRunResult, orders: Mapping[str, Any], publishes: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    problems = []
    prefix = flow.system.function("notify").environment["REALTIME_TOPIC_PREFIX"]
    for topic, payload in publishes:
        owner = orders.get(str(payload.get("orderId")), {}).get("customerId")
        if topic != f"{prefix}/{owner}/{payload.get('orderId')}" or payload.get("customerId") != owner:
            problems.append(f"{payload.get('type')} of order {payload.get('orderId')} went to {topic}")
        if any(marker in json.dumps(payload) for marker in INTERNAL_TEXT):
            problems.append(f"{payload.get('type')} of order {payload.get('orderId')} carries internal text")
    customers = sorted({planned_customer for planned_customer in result.customers.values()})
    for sequence, order_id in result.placed.items():
        owner = result.customers[sequence]
        reply = api_request(
            flow, "GET", f"/orders/{order_id}", claims=claims_for(flow.system, owner, "GET /orders/{orderId}")
        )
        body = reply["body"]
        if reply["statusCode"] != 200 or json.loads(body)["order"]["customerId"] != owner:
            problems.append(f"order #{sequence}: its owner got {reply['statusCode']}")
        if any(marker in body for marker in INTERNAL_TEXT):
            problems.append(f"order #{sequence}: GET /orders shows internal text")
        if any(row["detail"].get("orderId") != order_id for row in json.loads(body).get("timeline", [])):
            problems.append(f"order #{sequence}: GET /orders shows another order's events")
        stranger = customers[(customers.index(owner) + 1) % len(customers)]
        if stranger != owner:
            other = api_request(
                flow, "GET", f"/orders/{order_id}", claims=claims_for(flow.system, stranger, "GET /orders/{orderId}")
            )
            if other["statusCode"] != 404:
                problems.append(f"order #{sequence}: another customer got {other['statusCode']}")
    return problems


def _lost_events(flow: OrderFlow, result: FaultRunResult) -> list[str]:
    problems = []
    system = flow.system
    dead: dict[str, list[dict[str, Any]]] = {name: flow.peek_queue(name) for name in system.dead_letter_queues}
    audit_dlq = _audit_dead_letter_queue(flow)
    dead_audit_ids = {message["body"].get("id") for message in dead[audit_dlq]}
    timeline = flow.scan("timeline")
    timeline_ids = {row["eventId"] for row in timeline}
    recorded_once = {(row["orderId"], row["detailType"]) for row in timeline}
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
        key = (event["detail"].get("orderId"), event["detail-type"])
        # A once-per-order event is recorded once: another copy of it is on the timeline under its key.
        recorded = event_id in timeline_ids or (event["detail-type"] in ONCE_PER_ORDER and key in recorded_once)
        if event["source"] == "orderflow.orders" and not recorded and event_id not in dead_audit_ids | rule_dead:
            problems.append(f"event {event_id} ({event['detail-type']}) is neither on the timeline nor dead-lettered")
        notified = key in published or event_id in notify_failures | rule_dead
        if event["detail-type"] in {*TERMINAL_EVENTS.values(), "OrderAccepted"} and not notified:
            problems.append(f"event {event_id} ({key[1]}) was neither notified nor dead-lettered")
    for event_id in result.poison_event_ids:
        if event_id not in dead_audit_ids:
            problems.append(f"poison event {event_id} is not in {audit_dlq}")
    failed_async = sum(1 for outcome in flow.router.async_outcomes if not outcome.succeeded)
    on_failure = len([m for ms in dead.values() for m in ms if "requestPayload" in m["body"]])
    redriven = sum(result.notify_redriven.values())
    if failed_async != on_failure + redriven:
        problems.append(
            f"{failed_async} notify events failed but {on_failure} are in the on-failure queue "
            f"and {redriven} were redriven from it"
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
    service_calls: dict[str, int]
    parked: dict[str, int]
    dead_letters: dict[str, int]
    placed: int
    not_placed: int
    violations: list[str]
    seconds: float
    cpu_seconds: float
    call_sites: dict[str, int] = field(default_factory=dict)
    """Faulted call sites (``<function>:<service>.<Operation>#<n>``) and delivery hops → times faulted."""
    audit_redriven: int = 0
    """Messages the operator's ``dlq redrive order-audit`` moved back once the run settled."""
    dead_letters_after_redrive: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each DLQ once the operator's redrives settled: ``poison``, ``duplicate of delivered work``, ``other``."""
    unrecorded_live_updates: dict[str, int] = field(default_factory=dict)
    """Faults that left a live update published but unrecorded (each allows one duplicate), by cause."""
    hop_deliveries: dict[str, int] = field(default_factory=dict)
    """Every delivery hop the run reached → deliveries attempted on it (``call_sites`` has those faulted)."""
    poison_events: int = 0
    """Distinct events among the audit DLQ's poison messages (each copy EventBridge delivered is its own message)."""
    recovery: dict[str, Any] = field(default_factory=dict)
    """The operator's recovery once the run settled: parked orders by resume stage, resumed, recovered,
    still parked, ``NotParked`` executions resumed, notify-failures redriven by kind."""


def run_fault_run(system: RecordedSystem, config: FaultRunConfig, outputs: StackOutputs) -> FaultRunReport:
    """Run the whole fault run in a fresh moto account and report figures and broken invariants.

    Parameters
    ----------
    system, outputs:
        The recorded stack, and its outputs (what the operator's ``orderflow.ops`` commands read).
    config:
        The run's seed, size and rates.
    """
    with running_flow(system) as flow:
        result, plan = run_faults(flow, config, outputs)
        figures = measure(flow, result, plan)
        violations = invariant_violations(flow, result, figures)
        left_over = dead_letters_after_redrive(flow, result)
        recovery = _recovery(flow, result)
        hop_deliveries = dict(sorted(flow.router.hop_deliveries.items()))
        poison_events = len({message["body"].get("id") for message in flow.peek_queue(_audit_dead_letter_queue(flow))})
        call_sites = dict(
            sorted(
                (
                    Counter(flow.runtime.faulted_calls)
                    + plan.lambda_call_sites
                    + plan.express_call_sites
                    + flow.router.faulted_hops
                ).items()
            )
        )
    lines = figures.lines(result)
    if config.every_call:
        lines.append(
            f"call sites faulted (every-call mode): {len(call_sites)} sites, {sum(call_sites.values())} faults; "
            + ", ".join(f"{site} {count}" for site, count in sorted(call_sites.items(), key=lambda kv: -kv[1])[:12])
        )
        lines.append(
            "delivery hops (faulted / delivered): "
            + ", ".join(f"{hop} {call_sites.get(hop, 0)}/{count}" for hop, count in hop_deliveries.items())
        )
    lines.append(
        f"after the operator's redrives (audit DLQ: {result.audit_redriven} messages): "
        + "; ".join(f"{name} {kinds}" for name, kinds in left_over.items() if kinds)
        + f" (poison: {poison_events} distinct events, each copy delivered is dead-lettered)"
        + f"; live updates published but unrecorded (one duplicate allowed each): {result.unrecorded_causes}"
    )
    lines.append(
        f"operator's recovery: {len(result.parked_before_recovery)} parked fulfillments "
        f"{recovery['parked_by_stage']} ({result.resumed} parked messages redriven), NotParked resumed "
        f"{len(result.not_parked)}; "
        f"recovered {recovery['recovered']} ({recovery['ended']}), still parked {len(recovery['still_parked'])}; "
        f"notify-failures redriven {result.notify_redriven}"
    )
    lines.append(f"invariants checked on {len(result.placed)} orders: {len(violations)} violations")
    lines.extend(f"  violation: {violation}" for violation in violations[:20])
    return FaultRunReport(
        config=dataclasses.asdict(config),
        lines=lines,
        terminal=figures.terminal,
        failure_reasons=figures.failure_reasons,
        duplicates_suppressed=figures.duplicates_suppressed,
        compensations=figures.compensations,
        faults=figures.faults,
        service_calls=figures.service_calls,
        parked=figures.parked,
        dead_letters=figures.dead_letters,
        placed=len(result.placed),
        not_placed=len(result.not_placed),
        violations=violations,
        seconds=result.seconds,
        cpu_seconds=result.cpu_seconds,
        call_sites=call_sites,
        audit_redriven=result.audit_redriven,
        dead_letters_after_redrive=left_over,
        unrecorded_live_updates=dict(sorted(result.unrecorded_causes.items())),
        hop_deliveries=hop_deliveries,
        poison_events=poison_events,
        recovery=recovery,
    )


def _recovery(flow: OrderFlow, result: FaultRunResult) -> dict[str, Any]:
    """What the operator's recovery did: the orders parked when the run settled and where they are now."""
    statuses = {row["orderId"]: row.get("status") for row in flow.scan("orders")}
    still = {order_id for queue in parked_orders(flow).values() for order_id in queue}
    parked = {**result.parked_before_recovery, **dict.fromkeys(result.not_parked, "not parked")}
    return {
        "parked_by_stage": dict(sorted(Counter(result.parked_before_recovery.values()).items())),
        "resumed": result.resumed,
        "not_parked": result.not_parked,
        "recovered": sum(statuses.get(order_id) in TERMINAL_ORDER_STATUSES for order_id in parked),
        "ended": dict(sorted(Counter(str(statuses.get(order_id)) for order_id in parked).items())),
        "still_parked": sorted(still),
        "notify_failures_redriven": result.notify_redriven,
    }


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

    program = run_program("dev")
    outputs = StackOutputs.parse(program.outputs, source="the recorded dev stack")
    report = run_fault_run(RecordedSystem.from_program(program), config, outputs)
    partial = arguments.output.with_suffix(".partial")
    partial.write_text(json.dumps(dataclasses.asdict(report)))
    os.replace(partial, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
