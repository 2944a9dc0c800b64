"""Orders that should have finished, explained by their execution, each with the next safe action.

An order is stuck when it is still ``PENDING`` or ``ACCEPTED`` some minutes after it was placed. Its
fulfillment execution (``order-<orderId>``) and the queues where an ``OrderPlaced`` is parked say why, and
so which command moves it on. Every action offered is safe to run twice: the workflows are idempotent on
the order (status transitions from PENDING/ACCEPTED only, one execution name per order).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from orderflow.ops.aws import Aws
from orderflow.ops.executions import FAILED_STATUSES, order_execution
from orderflow.ops.outputs import StackOutputs
from orderflow.ops.queues import peeking

Progress = Callable[[str], None]

# Where an OrderPlaced that never started (or finished) customer-status is parked.
ORDER_PLACED_PARKING: Final = ("customer-status-failures", "rule-order-placed")
PEEK_LIMIT: Final = 100


def stuck_orders(aws: Aws, table: str, older_than: datetime, progress: Progress) -> list[dict[str, Any]]:
    """Orders still PENDING or ACCEPTED that were placed before ``older_than``, oldest first."""
    scanned = 0
    stuck = []
    paginator = aws.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(
        TableName=table,
        FilterExpression="#status IN (:pending, :accepted)",
        ProjectionExpression="orderId, customerId, #status, createdAt, updatedAt, attention",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":pending": {"S": "PENDING"}, ":accepted": {"S": "ACCEPTED"}},
    )
    for page in pages:
        scanned += int(page.get("ScannedCount", 0))
        for item in page.get("Items", []):
            order = {key: next(iter(value.values())) for key, value in item.items() if key != "attention"}
            if "attention" in item:
                order["parkedBy"] = item["attention"].get("M", {}).get("executionArn", {}).get("S")
            created = datetime.fromisoformat(str(order.get("createdAt", "")).replace("Z", "+00:00"))
            if created <= older_than:
                stuck.append({**order, "createdAt": created.isoformat()})
        if page.get("LastEvaluatedKey"):
            progress(f"scanned {scanned} orders, {len(stuck)} stuck so far")
    return sorted(stuck, key=lambda order: str(order["createdAt"]))


def parked_order_placed(aws: Aws, outputs: StackOutputs) -> dict[str, str]:
    """Order id → the failure queue where its ``OrderPlaced`` is parked (peeked, not consumed)."""
    parked: dict[str, str] = {}
    for role in ORDER_PLACED_PARKING:
        if role not in outputs.failure_queues:
            continue
        with peeking(aws, outputs.failure_queues[role], PEEK_LIMIT) as messages:
            for message in messages:
                detail = (message.event or {}).get("detail")
                if isinstance(detail, dict) and detail.get("orderId"):
                    parked.setdefault(str(detail["orderId"]), role)
    return parked


def _replay_order_placed(order: dict[str, Any]) -> str:
    created = datetime.fromisoformat(str(order["createdAt"]))
    start = (created - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (created + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"replay --from {start} --to {end} --detail-type OrderPlaced"


def next_action(order: dict[str, Any], execution: dict[str, Any] | None, parked_on: str | None) -> dict[str, str]:
    """The next safe step for one stuck order: ``command`` (an ops command, or empty) and ``why``."""
    order_id = order["orderId"]
    if execution is None:
        if parked_on:
            return {
                "command": f"dlq redrive {parked_on}",
                "why": f"its OrderPlaced is parked on {parked_on}: redrive it once the cause (dlq show) is fixed",
            }
        return {
            "command": _replay_order_placed(order),
            "why": "customer-status never finished for it and nothing is parked: replay its OrderPlaced (if the "
            "archive has none, EventBridge never took it: the client's retry with its Idempotency-Key puts it)",
        }
    status = execution["status"]
    if order["status"] == "PENDING":
        return {
            "command": "",
            "why": f"investigate: a fulfillment execution exists ({status}) but the order is PENDING",
        }
    if status == "RUNNING":
        return {"command": "", "why": f"wait: fulfillment is running since {execution['startDate']}"}
    if status in FAILED_STATUSES and order.get("parkedBy") == execution.get("executionArn"):
        return {
            "command": "dlq redrive fulfillment-attention",
            "why": f"fulfillment parked it for an operator ({execution.get('error')}): once the cause is fixed, "
            "the redrive resumes it at the parked stage (a Step Functions redrive would fail again)",
        }
    if status in FAILED_STATUSES:
        if execution.get("redriveStatus") == "NOT_REDRIVABLE":
            return {
                "command": "",
                "why": f"investigate: the execution {status} ({execution.get('error')}) and cannot be redriven",
            }
        return {
            "command": f"redrive-execution {order_id}",
            "why": f"fulfillment {status} at {execution.get('stopDate')} ({execution.get('error')}): redrive it from "
            "the failed state once the cause is fixed",
        }
    return {
        "command": "",
        "why": f"investigate: fulfillment {status} but the order is still {order['status']} (its update was lost)",
    }


def reconcile(aws: Aws, outputs: StackOutputs, *, older_than: datetime, progress: Progress) -> list[dict[str, Any]]:
    """``reconcile``: every stuck order with its execution and the next safe action."""
    orders = stuck_orders(aws, outputs.orders_table, older_than, progress)
    parked = parked_order_placed(aws, outputs) if orders else {}
    report = []
    for order in orders:
        execution = order_execution(aws, outputs.fulfillment_arn, order["orderId"])
        report.append(
            {
                **order,
                "execution": execution,
                "parkedOn": parked.get(order["orderId"]),
                "action": next_action(order, execution, parked.get(order["orderId"])),
            }
        )
    return report
