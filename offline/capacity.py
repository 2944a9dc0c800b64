"""``make capacity``: how many orders per second a stack takes, what breaks first, and what an order costs.

Records the stack's program with the same harness as ``make preview``, follows one order through the
recorded resources (:mod:`offline.order_path`), and prints

* every hop's **ceiling** in orders per second: the ceiling the program configures (reserved
  concurrency ÷ duration, route throttling, SQS maximum concurrency) or the AWS default quota for the
  stack's region (``policy/policy_pack/data/quotas.csv``), divided by what one order asks of that hop
  (state transitions counted from the recorded definitions, invocations, events, writes…);
* its **utilisation** at the requested rate, and the **first bottleneck** with what to change;
* the **unit cost**: per 1,000 orders and per month, itemised by service, priced from
  ``policy/policy_pack/data/prices.csv`` (shared with the policy pack's idle-cost table), plus the
  stack's idle cost.

Durations and per-invocation AWS calls come from the workload profile (``offline/capacity-profile.yaml``).

Exit status: 0, or 2 when the stack, its config or the profile is wrong (the message says which).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import re
import sys
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from offline.harness import StackNotFoundError, run_program
from offline.order_path import (
    DEFAULT_PROFILE,
    SAMPLING_RULE,
    STAGE,
    Invocations,
    Profile,
    ProfileError,
    Usage,
    load_profile,
    walk_order,
)
from offline.paths import POLICY_DIR, import_package
from offline.recording import ProgramRun, RecordedResource

import_package("policy_pack", POLICY_DIR)  # the pack's own price and quota tables, from the pack's folder
from policy_pack.cost import CostedResource, estimate_idle_cost  # noqa: E402 - the pack is imported now
from policy_pack.figures import ANY_REGION, FigureTable, Lookup, prices, quotas  # noqa: E402

SECONDS_PER_MONTH: Final = 730 * 3600
EXPRESS_MEMORY_GB: Final = 0.0625  # EXPRESS executions are billed in 64 MB steps; small payloads use one
ACCOUNT_LAMBDA_POOL: Final = "Lambda concurrent executions (account)"
REQUESTED_INCREASE: Final = "requested increase (make capacity --quota)"
"""``source`` of a quota row that ``--quota`` put in place of AWS's default."""
DISTRIBUTION: Final = "aws:cloudfront/distribution:Distribution"


@dataclass
class Hop:
    """One place on the order's path with a ceiling."""

    name: str
    kind: str
    demand_per_order: float
    """Units of the ceiling one order uses (invocations, transitions, requests…)."""
    ceiling_units_per_second: float
    unit: str
    origin: str
    """``configured …`` or ``AWS default quota …``."""
    over: str
    """What happens above the ceiling."""
    change: str
    """What to change to raise it."""
    resource: RecordedResource | None = None
    """The recorded resource the ceiling belongs to (``None`` for account-wide quotas)."""

    @property
    def ceiling_orders(self) -> float:
        """Orders per second this hop admits."""
        return self.ceiling_units_per_second / self.demand_per_order if self.demand_per_order else math.inf

    def utilisation(self, rate: float) -> float:
        """Share of the ceiling used at ``rate`` orders per second."""
        return rate / self.ceiling_orders if self.ceiling_orders else math.inf


@dataclass
class CostItem:
    """One priced line: a quantity per order times a unit price."""

    service: str
    what: str
    quantity_per_order: float
    unit_price: float
    price_unit: str
    fallback: str | None = None

    @property
    def per_order(self) -> float:
        """USD per order."""
        return self.quantity_per_order * self.unit_price


@dataclass
class Report:
    """Everything ``make capacity`` prints (``--json`` writes it)."""

    stack: str
    region: str
    rate: float
    monthly_orders: float
    profile: str
    hops: list[Hop]
    costs: list[CostItem]
    idle_monthly: float
    path: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def bottleneck(self) -> Hop:
        """The hop with the lowest ceiling: the first to break as traffic grows."""
        return min(self.hops, key=lambda hop: hop.ceiling_orders)

    @property
    def per_thousand(self) -> float:
        """USD per 1,000 orders (usage only)."""
        return 1000 * sum(item.per_order for item in self.costs)

    @property
    def monthly(self) -> float:
        """USD per month at the requested volume, idle cost included."""
        return self.monthly_orders * sum(item.per_order for item in self.costs) + self.idle_monthly

    def by_service(self) -> list[tuple[str, float]]:
        """USD per 1,000 orders by service, dearest first."""
        totals: dict[str, float] = defaultdict(float)
        for item in self.costs:
            totals[item.service] += 1000 * item.per_order
        return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document of the report."""
        bottleneck = self.bottleneck
        return {
            "stack": self.stack,
            "region": self.region,
            "ratePerSecond": self.rate,
            "monthlyOrders": self.monthly_orders,
            "profile": self.profile,
            "bottleneck": {"hop": bottleneck.name, "ceilingOrdersPerSecond": bottleneck.ceiling_orders},
            "hops": [
                {
                    **{f.name: getattr(hop, f.name) for f in fields(hop) if f.name != "resource"},
                    "ceilingOrdersPerSecond": hop.ceiling_orders,
                    "utilisation": hop.utilisation(self.rate),
                }
                for hop in sorted(self.hops, key=lambda h: h.ceiling_orders)
            ],
            "costPer1000Orders": self.per_thousand,
            "costPer1000OrdersByService": dict(self.by_service()),
            "costItems": [{**asdict(item), "perOrder": item.per_order} for item in self.costs],
            "idleMonthly": self.idle_monthly,
            "monthly": self.monthly,
            "path": self.path,
            "notes": self.notes,
        }


# ---- reading the recorded resources ----------------------------------------------------------------


def _value(resource: RecordedResource, key: str, default: Any = None) -> Any:
    value = resource.outputs.get(key, resource.inputs.get(key, default))
    return default if value is None else value


def _config_keys(run: ProgramRun, value: float, *words: str) -> list[str]:
    """Stack config keys holding ``value`` whose name contains one of ``words`` (where a ceiling came from)."""
    keys = []
    for key, raw in run.config.items():
        try:
            number = float(raw)
        except ValueError:
            continue
        if number == value and any(word.lower() in key.lower() for word in words):
            keys.append(key)
    return sorted(keys)


def _set_by(run: ProgramRun, value: float, what: str, *words: str) -> str:
    keys = _config_keys(run, value, *words)
    return f"stack config {' or '.join(keys)}" if keys else what


@dataclass(frozen=True)
class Context:
    """What the calculations read: the run, the walk, the profile and the figure tables."""

    run: ProgramRun
    usage: Usage
    profile: Profile
    prices: FigureTable
    quotas: FigureTable

    @property
    def region(self) -> str:
        """The stack's region."""
        return self.usage.region

    def quota_hop(
        self,
        quota: tuple[str, str],
        name: str,
        kind: str,
        demand_per_order: float,
        unit: str,
        over: str,
        change: str,
        resource: RecordedResource | None = None,
    ) -> Hop:
        """A hop whose ceiling is the AWS quota ``(service, item)`` of the pack's table."""
        ceiling, origin = self.quota(*quota)
        return Hop(name, kind, demand_per_order, ceiling, unit, origin, over, change, resource)

    def quota(self, service: str, item: str) -> tuple[float, str]:
        """A quota's value and where it came from."""
        found = self.quotas.find(service, item, self.region)
        if found.figure.source == REQUESTED_INCREASE:
            return found.value, "requested quota increase (--quota)"
        if found.figure.region == ANY_REGION:
            return found.value, "AWS default quota"
        if found.fallback is None:
            return found.value, f"AWS default quota in {self.region}"
        return found.value, f"AWS default quota ({found.fallback})"

    def price(self, service: str, item: str) -> Lookup:
        """A price for the stack's region (or the reference region, said in ``fallback``)."""
        return self.prices.find(service, item, self.region)


def batch_fill(invocations: Invocations, rate: float, profile: Profile) -> float:
    """Records per invocation of a queue consumer at ``rate`` orders per second."""
    mapping = invocations.mapping
    if mapping is None:
        return 1.0
    batch_size = float(_value(mapping, "batchSize", 10))
    window = float(_value(mapping, "maximumBatchingWindowInSeconds", 0))
    arrivals = rate * invocations.records
    gathered = arrivals * max(window, profile.sqs_poll_seconds)
    return max(1.0, min(batch_size, gathered))


# ---- ceilings --------------------------------------------------------------------------------------


def hops(context: Context, rate: float) -> list[Hop]:
    """Every hop of the order's path with its ceiling, for ``rate`` orders per second."""
    run, usage, profile = context.run, context.usage, context.profile
    found: list[Hop] = []

    # API Gateway: each route's throttle, and the account's.
    for urn, requests in usage.routes.items():
        route = usage.route_resources[urn]
        route_key = str(_value(route, "routeKey"))
        stage = next((s for s in run.of_type(STAGE) if _value(s, "apiId") == _value(route, "apiId")), None)
        settings: Mapping[str, Any] = {}
        if stage is not None:
            settings = _value(stage, "defaultRouteSettings", {}) or {}
            for override in _value(stage, "routeSettings", []) or []:
                if override.get("routeKey") == route_key:
                    settings = {**settings, **override}
        limit = float(settings.get("throttlingRateLimit") or 0)
        if limit:
            found.append(
                Hop(
                    name=f"API route {route_key}",
                    kind="api-route",
                    demand_per_order=requests,
                    ceiling_units_per_second=limit,
                    unit="requests/s",
                    origin=f"configured throttlingRateLimit {limit:g}",
                    over="API Gateway answers 429; the page retries with the same Idempotency-Key",
                    change=f"raise {_set_by(run, limit, 'the stage throttlingRateLimit', 'throttle', 'rate')}",
                    resource=route,
                )
            )
    api_quota, api_origin = context.quota("apigateway", "account_throttle_rate")
    if usage.routes:
        found.append(
            Hop(
                name="API Gateway requests (account)",
                kind="api-account",
                demand_per_order=sum(usage.routes.values()),
                ceiling_units_per_second=api_quota,
                unit="requests/s",
                origin=api_origin,
                over="429 on every API of the account",
                change="request an API Gateway throttle quota increase",
            )
        )

    # Lambda: reserved concurrency ÷ duration per function; the account pool for the rest.
    pool_seconds = 0.0
    for invocations in usage.functions.values():
        found.extend(_function_hops(context, invocations, rate))
        records = batch_fill(invocations, rate, profile)
        per_order = invocations.sync + invocations.asynchronous + invocations.records / records
        pool_seconds += per_order * profile.duration_ms(invocations.package, records) / 1000
    account, account_origin = context.quota("lambda", "concurrent_executions")
    found.append(
        Hop(
            name=ACCOUNT_LAMBDA_POOL,
            kind="lambda-account",
            demand_per_order=pool_seconds,
            ceiling_units_per_second=account,
            unit="concurrent executions",
            origin=account_origin,
            over="every function without enough reserved concurrency is throttled",
            change="request a Lambda concurrent executions quota increase",
        )
    )

    # EventBridge.
    if usage.put_events_requests:
        found.append(
            context.quota_hop(
                ("eventbridge", "put_events_rate"),
                "EventBridge PutEvents (account)",
                "eventbridge-put",
                usage.put_events_requests,
                "requests/s",
                "PutEvents is throttled: callers retry (create_order answers 5xx to the page)",
                "request a PutEvents quota increase, or batch entries",
            )
        )
    if usage.rule_invocations:
        found.append(
            context.quota_hop(
                ("eventbridge", "invocations_rate"),
                "EventBridge target invocations (account)",
                "eventbridge-invoke",
                usage.rule_invocations,
                "invocations/s",
                "deliveries are delayed, then retried up to the target's maximum event age",
                "request an EventBridge invocations quota increase",
            )
        )

    # Step Functions: start rates by type, STANDARD state transitions (counted from the definitions).
    starts: dict[str, float] = defaultdict(float)
    transitions = 0.0
    names: dict[str, list[str]] = defaultdict(list)
    first: dict[str, RecordedResource] = {}
    for urn, executions in usage.executions.items():
        machine = usage.state_machines[urn]
        kind = str(_value(machine, "type", "STANDARD"))
        starts[kind] += executions
        names[kind].append(str(_value(machine, "name", machine.name)))
        first.setdefault(kind, machine)
        if kind == "STANDARD":
            transitions += usage.transitions[urn]
    for kind, executions in starts.items():
        found.append(
            context.quota_hop(
                ("stepfunctions", f"{kind.lower()}_start_execution_rate"),
                f"Step Functions {kind} StartExecution ({', '.join(names[kind])})",
                f"sfn-start-{kind.lower()}",
                executions,
                "starts/s",
                "StartExecution is throttled: EventBridge and the calling Task retry with backoff",
                "request a StartExecution quota increase",
                resource=first[kind],
            )
        )
    if transitions:
        found.append(
            context.quota_hop(
                ("stepfunctions", "standard_state_transition_rate"),
                f"Step Functions STANDARD state transitions ({transitions:.1f} per order)",
                "sfn-transitions",
                transitions,
                "transitions/s",
                "executions are slowed down (ExecutionThrottled)",
                "request a state-transition quota increase, remove Pass states, or run short paths as EXPRESS",
                resource=first["STANDARD"],
            )
        )

    # DynamoDB on-demand tables: a new table's throughput, and the hottest key's partition.
    initial_write, write_origin = context.quota("dynamodb", "on_demand_initial_write_rate")
    initial_read, read_origin = context.quota("dynamodb", "on_demand_initial_read_rate")
    partition_write, partition_origin = context.quota("dynamodb", "partition_write_rate")
    for urn, table in usage.tables.items():
        label = str(_value(table, "name", table.name))
        # A pre-warmed table takes its warm throughput from the start (docs/scaling.md, 1,000 orders/s).
        warm_write = float((_value(table, "warmThroughput", {}) or {}).get("writeUnitsPerSecond") or 0)
        if usage.write_units[urn]:
            found.append(
                Hop(
                    f"DynamoDB {label} writes",
                    "dynamodb-write",
                    usage.write_units[urn],
                    max(initial_write, warm_write),
                    "WRU/s",
                    (
                        f"configured warm throughput {warm_write:g} WRU/s"
                        if warm_write > initial_write
                        else f"{write_origin} (new on-demand table)"
                    ),
                    "ThrottlingException: handlers raise TransientDependencyError and the workflow retries",
                    "raise stack config orderflow:tableWarmWriteUnits (pre-warmed throughput), or let the table adapt",
                )
            )
        if usage.read_units[urn]:
            found.append(
                Hop(
                    f"DynamoDB {label} reads",
                    "dynamodb-read",
                    usage.read_units[urn],
                    initial_read,
                    "RRU/s",
                    f"{read_origin} (new on-demand table)",
                    "ThrottlingException, retried by the SDK",
                    "pre-warm the table (warm throughput)",
                )
            )
        if usage.hot_key_write_units[urn]:
            found.append(
                Hop(
                    f"DynamoDB {label} hottest key ({profile.hottest_key_share:.0%} of orders)",
                    "dynamodb-hot-key",
                    usage.hot_key_write_units[urn],
                    partition_write,
                    "WRU/s",
                    partition_origin,
                    "the hot item's partition throttles whatever the table's capacity",
                    "design change: spread the hot item over several keys (write sharding) or reserve in batches",
                )
            )

    # SNS: publish rate, and each e-mail subscription's delivery rate.
    if usage.sns_publishes:
        found.append(
            context.quota_hop(
                ("sns", "publish_rate"),
                "SNS Publish (account)",
                "sns-publish",
                usage.sns_publishes,
                "publishes/s",
                "Publish is throttled: notify fails and Lambda retries it",
                "request an SNS Publish quota increase",
            )
        )
    email_rate, email_origin = context.quota("sns", "email_delivery_rate")
    for urn, deliveries in usage.sns_deliveries.items():
        subscription = usage.subscriptions[urn]
        if _value(subscription, "protocol") == "email":
            found.append(
                Hop(
                    f"SNS e-mail subscription {subscription.name}",
                    "sns-email",
                    deliveries,
                    email_rate,
                    "e-mails/s",
                    email_origin,
                    "deliveries back up, are retried, then land on the subscription's DLQ",
                    "design change: e-mail a digest or only failures (filter policy), or send customer mail with SES",
                    resource=subscription,
                )
            )

    # IoT Core.
    for item, amount, label, over in (
        ("connect_rate", usage.iot_connects, "IoT Core connects (account)", "CONNECT is refused; the page polls"),
        ("inbound_publish_rate", usage.iot_publishes, "IoT Core publishes (account)", "notify's publish is throttled"),
        ("outbound_publish_rate", usage.iot_deliveries, "IoT Core deliveries (account)", "deliveries are throttled"),
    ):
        if amount:
            found.append(
                context.quota_hop(
                    ("iot", item),
                    label,
                    f"iot-{item}",
                    amount,
                    "per second",
                    over,
                    "request an IoT Core quota increase",
                )
            )
    return found


def _function_hops(context: Context, invocations: Invocations, rate: float) -> list[Hop]:
    run, profile = context.run, context.profile
    function = invocations.function
    reserved = float(_value(function, "reservedConcurrentExecutions", -1))
    label = str(_value(function, "name", function.name))
    hops_: list[Hop] = []
    if invocations.records:
        mapping = invocations.mapping
        assert mapping is not None
        records = batch_fill(invocations, rate, profile)
        duration = profile.duration_ms(invocations.package, records) / 1000
        maximum = float((_value(mapping, "scalingConfig", {}) or {}).get("maximumConcurrency") or 0)
        limits = [
            (value, what)
            for value, what in ((maximum, "maximumConcurrency"), (reserved, "reserved concurrency"))
            if value > 0
        ]
        if limits:
            concurrency, what = min(limits)
            word = "MaxConcurrency" if what == "maximumConcurrency" else "Concurrency"
            hops_.append(
                Hop(
                    name=f"{label} (SQS consumer, {records:.0f} records per batch)",
                    kind="lambda-queue",
                    demand_per_order=invocations.records,
                    ceiling_units_per_second=concurrency * records / duration,
                    unit="records/s",
                    origin=f"configured {what} {concurrency:g} ÷ {duration * 1000:.0f} ms per batch",
                    over="messages wait in the queue (buffered), then reach its DLQ after maxReceiveCount",
                    change=f"raise {_set_by(run, concurrency, what, word)}",
                    resource=function,
                )
            )
    direct = invocations.sync + invocations.asynchronous
    if direct and reserved > 0:
        duration = profile.duration_ms(invocations.package) / 1000
        buffered = invocations.asynchronous >= invocations.sync
        hops_.append(
            Hop(
                name=f"{label} (Lambda, {'async' if buffered else 'sync'})",
                kind="lambda-async" if buffered else "lambda-sync",
                demand_per_order=direct,
                ceiling_units_per_second=reserved / duration,
                unit="invocations/s",
                origin=f"configured reserved concurrency {reserved:g} ÷ {duration * 1000:.0f} ms",
                over=(
                    "Lambda queues the events (buffered) until the maximum event age, then the on-failure destination"
                    if buffered
                    else "the caller is throttled (429/5xx to the page; a workflow Task retries, then its Catch)"
                ),
                change=f"raise {_set_by(run, reserved, 'reservedConcurrentExecutions', 'Concurrency')}",
                resource=function,
            )
        )
    return hops_


# ---- cost ------------------------------------------------------------------------------------------


def costs(context: Context, rate: float) -> list[CostItem]:
    """Every priced line per order at ``rate`` orders per second."""
    usage, profile = context.usage, context.profile
    items: list[CostItem] = []

    def add(service: str, what: str, quantity: float, price_service: str, price_item: str) -> None:
        if quantity <= 0:
            return
        found = context.price(price_service, price_item)
        items.append(CostItem(service, what, quantity, found.value, found.figure.unit, found.fallback))

    add("API Gateway", "HTTP API requests", sum(usage.routes.values()), "apigateway", "http_api_request")
    add("CloudFront", "HTTPS requests (API calls)", cloudfront_requests(context), "cloudfront", "https_request")

    requests = 0.0
    gb_seconds: dict[str, float] = defaultdict(float)
    log_bytes = 0.0
    for invocations in usage.functions.values():
        records = batch_fill(invocations, rate, profile)
        count = invocations.sync + invocations.asynchronous + invocations.records / records
        duration = profile.duration_ms(invocations.package, records) / 1000
        memory_gb = float(_value(invocations.function, "memorySize", 128)) / 1024
        architecture = str((_value(invocations.function, "architectures", ["x86_64"]) or ["x86_64"])[0])
        requests += count
        gb_seconds[architecture] += count * duration * memory_gb
        level = str((_value(invocations.function, "loggingConfig", {}) or {}).get("applicationLogLevel", "INFO"))
        log_bytes += count * profile.lambda_log_bytes.get(level, profile.lambda_log_bytes.get("INFO", 0.0))
    add("Lambda", "requests", requests, "lambda", "request")
    for architecture, amount in sorted(gb_seconds.items()):
        add("Lambda", f"duration ({architecture}, GB-s)", amount, "lambda", f"duration_gb_second_{architecture}")

    for urn, executions in usage.executions.items():
        machine = usage.state_machines[urn]
        label = str(_value(machine, "name", machine.name))
        if str(_value(machine, "type", "STANDARD")) == "EXPRESS":
            mean_ms = usage.express_ms[urn] / executions if executions else 0.0
            billed_seconds = math.ceil(mean_ms / 100) / 10
            add("Step Functions", f"EXPRESS requests ({label})", executions, "stepfunctions", "express_request")
            add(
                "Step Functions",
                f"EXPRESS duration ({label}, GB-s)",
                executions * billed_seconds * EXPRESS_MEMORY_GB,
                "stepfunctions",
                "express_gb_second",
            )
        else:
            add(
                "Step Functions",
                f"STANDARD state transitions ({label})",
                usage.transitions[urn],
                "stepfunctions",
                "standard_state_transition",
            )

    add("EventBridge", "custom events", usage.custom_events, "eventbridge", "custom_event")
    add(
        "EventBridge",
        "archive processing (GB)",
        usage.archived_events * profile.event_bytes / 1e9,
        "eventbridge",
        "archive_gb_processed",
    )

    sqs_requests = usage.sqs_requests
    for invocations in usage.functions.values():
        if invocations.records:
            # One ReceiveMessage and one DeleteMessageBatch per batch.
            sqs_requests += 2 * invocations.records / batch_fill(invocations, rate, profile)
    add("SQS", "requests", sqs_requests, "sqs", "standard_request")

    add("SNS", "publishes", usage.sns_publishes, "sns", "publish")
    deliveries: dict[str, float] = defaultdict(float)
    for urn, count in usage.sns_deliveries.items():
        deliveries[str(_value(usage.subscriptions[urn], "protocol", ""))] += count
    for protocol, count in sorted(deliveries.items()):
        item = {
            "email": "email_delivery",
            "email-json": "email_delivery",
            "sqs": "sqs_delivery",
            "lambda": "lambda_delivery",
            "https": "https_delivery",
            "http": "https_delivery",
        }.get(protocol)
        if item is None:
            context.usage.note(f"SNS {protocol} deliveries are not priced")
            continue
        add("SNS", f"{protocol} deliveries", count, "sns", item)

    for urn in usage.tables:
        label = str(_value(usage.tables[urn], "name", usage.tables[urn].name))
        add(
            "DynamoDB",
            f"write request units ({label})",
            usage.write_units[urn],
            "dynamodb",
            "on_demand_write_request_unit",
        )
        add(
            "DynamoDB",
            f"read request units ({label})",
            usage.read_units[urn],
            "dynamodb",
            "on_demand_read_request_unit",
        )

    add("IoT Core", "messages (publishes and deliveries)", usage.iot_publishes + usage.iot_deliveries, "iot", "message")
    add("IoT Core", "connection minutes", usage.iot_connection_minutes, "iot", "connection_minute")
    add("S3", "PUT requests", sum(usage.s3_puts.values()), "s3", "put_request")

    total_log_bytes = log_bytes + sum(usage.log_bytes.values())
    add("CloudWatch Logs", "ingestion (GB)", total_log_bytes / 1e9, "logs", "ingestion_gb")
    add(
        "X-Ray",
        "traces recorded",
        usage.trace_roots * sampled_share(context, rate * usage.trace_roots),
        "xray",
        "trace_recorded",
    )
    return items


def cloudfront_requests(context: Context) -> float:
    """The page's API requests per order that reach the API through a CloudFront distribution.

    A request whose path a distribution's cache behaviour matches (``pathPattern``: ``*`` and ``?``
    wildcards, case-sensitive) passes through CloudFront on its way to the API, and is billed there too.
    """
    patterns = [
        str(behaviour.get("pathPattern", ""))
        for distribution in context.run.of_type(DISTRIBUTION)
        for behaviour in _value(distribution, "orderedCacheBehaviors", []) or []
    ]
    total = 0.0
    for urn, requests in context.usage.routes.items():
        path = str(_value(context.usage.route_resources[urn], "routeKey", "")).split(" ", 1)[-1]
        sample = re.sub(r"\{[^}]+\}", "x", path)  # a path parameter stands for one segment
        if any(pattern and fnmatch.fnmatchcase(sample, pattern) for pattern in patterns):
            total += requests
    return total


def sampled_share(context: Context, traces_per_second: float) -> float:
    """Share of traces the X-Ray sampling rule records at ``traces_per_second``.

    Uses the program's lowest-priority ``aws:xray/samplingRule`` when it has one, else the default rule
    (a reservoir per second, then a fixed rate) from the profile.
    """
    reservoir, fixed = context.profile.xray_reservoir, context.profile.xray_fixed_rate
    rules = context.run.of_type(SAMPLING_RULE)
    if rules:
        rule = min(rules, key=lambda r: float(_value(r, "priority", 10000)))
        reservoir = float(_value(rule, "reservoirSize", reservoir))
        fixed = float(_value(rule, "fixedRate", fixed))
    if traces_per_second <= 0:
        return 0.0
    recorded = min(traces_per_second, reservoir) + fixed * max(traces_per_second - reservoir, 0.0)
    return recorded / traces_per_second


# ---- the report ------------------------------------------------------------------------------------


def analyse(
    run: ProgramRun,
    profile: Profile,
    rate: float,
    monthly_orders: float | None = None,
    *,
    price_table: FigureTable | None = None,
    quota_table: FigureTable | None = None,
) -> Report:
    """Capacity and unit cost of a recorded stack at ``rate`` orders per second.

    Parameters
    ----------
    run:
        The recorded program.
    profile:
        The workload profile.
    rate:
        Orders per second.
    monthly_orders:
        Orders per month; ``rate`` sustained for a month (730 hours) when not given.
    price_table, quota_table:
        Figure tables; the pack's data files when not given.

    Raises
    ------
    ProfileError
        When the profile does not fit the program.
    """
    usage = walk_order(run, profile)
    context = Context(run, usage, profile, price_table or prices(), quota_table or quotas())
    resources = [CostedResource(r.urn, r.type, r.name, r.inputs) for r in run.resources]
    idle, _ = estimate_idle_cost(resources)
    report = Report(
        stack=run.stack,
        region=usage.region,
        rate=rate,
        monthly_orders=rate * SECONDS_PER_MONTH if monthly_orders is None else monthly_orders,
        profile=str(profile.path),
        hops=hops(context, rate),
        costs=costs(context, rate),
        idle_monthly=idle,
        path=usage.path,
    )
    fallbacks = sorted({item.fallback for item in report.costs if item.fallback})
    report.notes = [*usage.notes, *(f"prices: {text}" for text in fallbacks)]
    return report


def _rate(value: float) -> str:
    if math.isinf(value):
        return "unbounded"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def format_report(report: Report, *, show_path: bool = False) -> str:
    """The report as ``make capacity`` prints it."""
    lines = [
        f"Capacity and unit cost of stack {report.stack!r} ({report.region}) at {report.rate:g} orders/s",
        f"(recorded program under mocks; workload profile {report.profile})",
        "",
    ]
    if show_path:
        lines += ["The order's path (first outcome of the profile):", *(f"  {step}" for step in report.path), ""]
    width = max(len(hop.name) for hop in report.hops)
    lines.append(f"  {'hop':<{width}}  {'ceiling orders/s':>16}  {'use':>6}  ceiling from")
    for hop in sorted(report.hops, key=lambda h: h.ceiling_orders):
        use = hop.utilisation(report.rate)
        flag = "  <- over" if use > 1 else ""
        lines.append(f"  {hop.name:<{width}}  {_rate(hop.ceiling_orders):>16}  {use:>6.0%}  {hop.origin}{flag}")
    first = report.bottleneck
    over = [hop for hop in report.hops if hop.utilisation(report.rate) > 1]
    lines += [
        "",
        f"First bottleneck: {first.name} at {_rate(first.ceiling_orders)} orders/s "
        f"({first.utilisation(report.rate):.0%} used at {report.rate:g}/s).",
        f"  Over it: {first.over}.",
        f"  To raise it: {first.change}.",
    ]
    if over:
        lines.append(f"  {len(over)} hop(s) are over their ceiling at {report.rate:g} orders/s.")
    lines += [
        "",
        f"Unit cost at {report.rate:g} orders/s: ${report.per_thousand:,.4f} per 1,000 orders",
        f"  {'service':<16}  {'per 1,000 orders':>16}",
    ]
    for service, amount in report.by_service():
        lines.append(f"  {service:<16}  {'$' + format(amount, ',.4f'):>16}")
    lines += [
        "",
        f"Per month at {report.monthly_orders:,.0f} orders: ${report.monthly:,.2f} "
        f"(usage ${report.monthly - report.idle_monthly:,.2f} + idle ${report.idle_monthly:,.2f})",
    ]
    if report.notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in report.notes)]
    return "\n".join(lines)


def with_quota_increases(table: FigureTable, increases: Mapping[tuple[str, str], float], region: str) -> FigureTable:
    """The quota table with increases assumed granted in ``region``: ``(service, item)`` → the new value.

    Raises
    ------
    KeyError
        When the table has no such quota (the message names it).
    """
    replaced = [table.find(service, item, region).figure for service, item in increases]
    kept = [figure for figure in table if not (figure in replaced and figure.region == region)]
    granted = [
        replace(figure, region=region, value=value, source=REQUESTED_INCREASE)
        for figure, value in zip(replaced, increases.values(), strict=True)
    ]
    return FigureTable([*kept, *granted], table.name)


def assignments(texts: list[str], option: str, separator: str | None = None) -> dict[str, str]:
    """``KEY=VALUE`` arguments of a repeatable option, checked for shape.

    Raises
    ------
    ValueError
        For an argument without ``=``, or a key without ``separator`` when one is required.
    """
    parsed: dict[str, str] = {}
    for text in texts:
        key, equals, value = text.partition("=")
        if not equals or not key or (separator and separator not in key):
            shape = f"NAME{separator}NAME=VALUE" if separator else "KEY=VALUE"
            raise ValueError(f"{option} {text!r}: expected {shape}")
        parsed[key.strip()] = value.strip()
    return parsed


def positive_number(text: str) -> float:
    """An argparse type: a finite number above zero."""
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from error
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make capacity``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=os.environ.get("STACK", "dev"))
    parser.add_argument("--rate", type=positive_number, default=100.0, help="orders per second (default 100)")
    parser.add_argument("--monthly", type=positive_number, help="orders per month (default: the rate for 730 hours)")
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE, help="workload profile (YAML)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--path", action="store_true", help="print the order's path through the stack")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack config value for this run only, as `pulumi config set` would make it (repeatable)",
    )
    parser.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="SERVICE.ITEM=VALUE",
        help="a quota increase assumed granted, named as in policy/policy_pack/data/quotas.csv (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        overrides = assignments(args.config, "--config", ":")
        increases: dict[tuple[str, str], float] = {}
        for key, value in assignments(args.quota, "--quota", ".").items():
            service, item = key.split(".", 1)
            quotas().find(service, item, ANY_REGION)  # a name the table does not know fails here
            increases[(service, item)] = positive_number(value)
    except (ValueError, argparse.ArgumentTypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyError as error:
        print(f"error: --quota: {error.args[0]} (see policy/policy_pack/data/quotas.csv)", file=sys.stderr)
        return 2
    try:
        profile = load_profile(args.profile)
        run = run_program(args.stack, config_overrides=overrides)
        region = str(run.config.get("aws:region", "us-east-1"))
        report = analyse(
            run, profile, args.rate, args.monthly, quota_table=with_quota_increases(quotas(), increases, region)
        )
    except (StackNotFoundError, ProfileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the program's own error, e.g. a bad config value naming its key
        print(f"error: stack {args.stack!r}: {error}", file=sys.stderr)
        return 2
    print(format_report(report, show_path=args.path))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
