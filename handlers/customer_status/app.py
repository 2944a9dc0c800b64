"""Classify a customer from their order history (step of the customer-status EXPRESS workflow).

Input ``{orderId, customerId, correlationId}``; output ``{tier, orderCount}``. History means the
customer's *other* orders (the one being classified is excluded), read from the orders table's
``byCustomer`` index. The rules are applied in this order, and the first match wins:

1. ``BLOCKED`` — at least ``BLOCK_AFTER_DECLINES`` (default :data:`BLOCKED_AFTER_FAILED_ORDERS`) earlier
   orders failed because the customer's payment was declined (reason ``PAYMENT_DECLINED``), within
   ``DECLINE_WINDOW_DAYS`` (default :data:`DECLINE_WINDOW_DAYS`) before the newest order. Only what the
   customer caused counts: a stock-out, our own outage (``FULFILLMENT_ERROR``) or anything else never
   does. A decline an operator waived (``python -m orderflow.ops unblock``, which sets ``declineWaived`` on
   the order) no longer counts either.
2. ``VIP`` — at least :data:`VIP_FULFILLED_ORDERS` fulfilled orders, or fulfilled orders worth at
   least :data:`VIP_FULFILLED_SPEND_CENTS` in total.
3. ``RETURNING`` — at least one fulfilled order.
4. ``NEW`` — anything else (including orders still in flight).

The result depends only on the stored history, never on the clock (the window ends at the customer's
newest order), so a retried step gives the same answer. ``orderCount`` is the number of earlier orders in any status.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser

from shared import TRACED_MODULES
from shared.dynamo import from_item, to_item
from shared.errors import transient_dependency_errors
from shared.models.common import OrderStatus, Tier
from shared.models.workflow import CustomerStatusInput, CustomerStatusResult

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]
BY_CUSTOMER_INDEX: Final = "byCustomer"

BLOCKED_AFTER_FAILED_ORDERS: Final = 3
"""Declined payments that block a customer, unless ``BLOCK_AFTER_DECLINES`` says otherwise."""
DECLINE_WINDOW_DAYS: Final = 30
"""How far back declines count, unless ``DECLINE_WINDOW_DAYS`` says otherwise."""
CUSTOMER_CAUSED_REASONS: Final = frozenset({"PAYMENT_DECLINED"})
"""Failure reasons the customer caused; no other failure ever counts towards ``BLOCKED``."""
VIP_FULFILLED_ORDERS: Final = 10
VIP_FULFILLED_SPEND_CENTS: Final = 100_000


def _positive_setting(name: str, raw: str, default: int) -> int:
    raw = raw or str(default)
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"environment variable {name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


BLOCK_AFTER_DECLINES: Final = _positive_setting(
    "BLOCK_AFTER_DECLINES", os.environ.get("BLOCK_AFTER_DECLINES", ""), BLOCKED_AFTER_FAILED_ORDERS
)
DECLINE_WINDOW: Final = timedelta(
    days=_positive_setting("DECLINE_WINDOW_DAYS", os.environ.get("DECLINE_WINDOW_DAYS", ""), DECLINE_WINDOW_DAYS)
)

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


def _when(order: Mapping[str, Any], *names: str) -> datetime | None:
    for name in names:
        value = order.get(name)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def counts_against(order: Mapping[str, Any], window_start: datetime | None) -> bool:
    """Whether an earlier order counts towards ``BLOCKED``: a customer-caused failure, recent, not waived."""
    if order.get("status") != OrderStatus.FAILED or order.get("reason") not in CUSTOMER_CAUSED_REASONS:
        return False
    if order.get("declineWaived"):
        return False
    failed_at = _when(order, "updatedAt", "createdAt")
    return window_start is None or failed_at is None or failed_at >= window_start


def classify(
    history: Iterable[Mapping[str, Any]],
    newest: datetime | None = None,
    *,
    block_after: int = BLOCKED_AFTER_FAILED_ORDERS,
    window: timedelta = timedelta(days=DECLINE_WINDOW_DAYS),
) -> CustomerStatusResult:
    """Apply the module's rules to a customer's earlier orders.

    Parameters
    ----------
    history:
        Earlier orders, each with ``status`` and ``totalCents`` (and, when FAILED, ``reason``, ``updatedAt``
        and possibly ``declineWaived``).
    newest:
        When the customer's newest order was placed: the decline window ends there (None: no window).
    block_after:
        Counted declines that make the customer ``BLOCKED``.
    window:
        How far back from ``newest`` a decline counts.

    Returns
    -------
    CustomerStatusResult
        The tier and the number of earlier orders.
    """
    window_start = None if newest is None else newest - window
    order_count = declined = fulfilled = fulfilled_spend_cents = 0
    for order in history:
        order_count += 1
        if counts_against(order, window_start):
            declined += 1
        elif order.get("status") == OrderStatus.FULFILLED:
            fulfilled += 1
            fulfilled_spend_cents += int(order.get("totalCents", 0))
    if declined >= block_after:
        tier = Tier.BLOCKED
    elif fulfilled >= VIP_FULFILLED_ORDERS or fulfilled_spend_cents >= VIP_FULFILLED_SPEND_CENTS:
        tier = Tier.VIP
    elif fulfilled:
        tier = Tier.RETURNING
    else:
        tier = Tier.NEW
    return CustomerStatusResult(tier=tier, order_count=order_count)


HISTORY_ATTRIBUTES: Final = ("orderId", "status", "totalCents", "reason", "createdAt", "updatedAt", "declineWaived")


@tracer.capture_method
def order_history(customer_id: str, excluding_order_id: str) -> tuple[list[dict[str, Any]], datetime | None]:
    """The customer's orders other than ``excluding_order_id``, and when their newest order was placed.

    Parameters
    ----------
    customer_id:
        JWT ``sub`` of the customer.
    excluding_order_id:
        The order being classified.

    Returns
    -------
    tuple
        ``{orderId, status, totalCents, reason, createdAt, updatedAt, declineWaived}`` (those present) per
        earlier order, and the newest ``createdAt`` among all of them, the classified order included.
    """
    history: list[dict[str, Any]] = []
    with transient_dependency_errors("orders table"):
        pages = dynamodb.get_paginator("query").paginate(
            TableName=ORDERS_TABLE_NAME,
            IndexName=BY_CUSTOMER_INDEX,
            KeyConditionExpression="customerId = :customer_id",
            ExpressionAttributeValues=to_item({":customer_id": customer_id}),
            ProjectionExpression=", ".join(f"#{name}" for name in HISTORY_ATTRIBUTES),
            ExpressionAttributeNames={f"#{name}": name for name in HISTORY_ATTRIBUTES},
        )
        for page in pages:
            history.extend(from_item(item) for item in page["Items"])
    placed = [when for order in history if (when := _when(order, "createdAt")) is not None]
    return [order for order in history if order.get("orderId") != excluding_order_id], max(placed, default=None)


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CustomerStatusInput)
def lambda_handler(request: CustomerStatusInput, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point: ``{orderId, customerId, correlationId}`` in, ``{tier, orderCount}`` out."""
    history, newest = order_history(request.customer_id, excluding_order_id=request.order_id)
    result = classify(history, newest, block_after=BLOCK_AFTER_DECLINES, window=DECLINE_WINDOW)
    logger.info("Customer classified", tier=result.tier, order_count=result.order_count)
    metrics.add_dimension(name="tier", value=result.tier.value)
    metrics.add_metric(name="CustomersClassified", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
