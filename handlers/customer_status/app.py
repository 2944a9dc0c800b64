"""Classify a customer from their order history (step of the customer-status EXPRESS workflow).

Input ``{orderId, customerId, correlationId}``; output ``{tier, orderCount}``. History means the
customer's *other* orders (the one being classified is excluded), read from the orders table's
``byCustomer`` index. The rules are applied in this order, and the first match wins:

1. ``BLOCKED`` — at least :data:`BLOCKED_AFTER_FAILED_ORDERS` earlier orders ended ``FAILED``
   (repeated payment declines or aborted fulfilments).
2. ``VIP`` — at least :data:`VIP_FULFILLED_ORDERS` fulfilled orders, or fulfilled orders worth at
   least :data:`VIP_FULFILLED_SPEND_CENTS` in total.
3. ``RETURNING`` — at least one fulfilled order.
4. ``NEW`` — anything else (including orders still in flight).

The result depends only on the stored history, never on the clock, so a retried step gives the
same answer. ``orderCount`` is the number of earlier orders in any status.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
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
VIP_FULFILLED_ORDERS: Final = 10
VIP_FULFILLED_SPEND_CENTS: Final = 100_000

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


def classify(history: Iterable[Mapping[str, Any]]) -> CustomerStatusResult:
    """Apply the module's rules to a customer's earlier orders.

    Parameters
    ----------
    history:
        Earlier orders, each with ``status`` and ``totalCents``.

    Returns
    -------
    CustomerStatusResult
        The tier and the number of earlier orders.
    """
    order_count = failed = fulfilled = fulfilled_spend_cents = 0
    for order in history:
        order_count += 1
        if order.get("status") == OrderStatus.FAILED:
            failed += 1
        elif order.get("status") == OrderStatus.FULFILLED:
            fulfilled += 1
            fulfilled_spend_cents += int(order.get("totalCents", 0))
    if failed >= BLOCKED_AFTER_FAILED_ORDERS:
        tier = Tier.BLOCKED
    elif fulfilled >= VIP_FULFILLED_ORDERS or fulfilled_spend_cents >= VIP_FULFILLED_SPEND_CENTS:
        tier = Tier.VIP
    elif fulfilled:
        tier = Tier.RETURNING
    else:
        tier = Tier.NEW
    return CustomerStatusResult(tier=tier, order_count=order_count)


@tracer.capture_method
def order_history(customer_id: str, excluding_order_id: str) -> list[dict[str, Any]]:
    """The customer's orders other than ``excluding_order_id`` (status and total only).

    Parameters
    ----------
    customer_id:
        JWT ``sub`` of the customer.
    excluding_order_id:
        The order being classified.

    Returns
    -------
    list[dict[str, Any]]
        ``{orderId, status, totalCents}`` per earlier order.
    """
    history: list[dict[str, Any]] = []
    with transient_dependency_errors("orders table"):
        pages = dynamodb.get_paginator("query").paginate(
            TableName=ORDERS_TABLE_NAME,
            IndexName=BY_CUSTOMER_INDEX,
            KeyConditionExpression="customerId = :customer_id",
            ExpressionAttributeValues=to_item({":customer_id": customer_id}),
            ProjectionExpression="orderId, #status, totalCents",
            ExpressionAttributeNames={"#status": "status"},
        )
        for page in pages:
            history.extend(from_item(item) for item in page["Items"])
    return [order for order in history if order.get("orderId") != excluding_order_id]


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CustomerStatusInput)
def lambda_handler(request: CustomerStatusInput, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point: ``{orderId, customerId, correlationId}`` in, ``{tier, orderCount}`` out."""
    result = classify(order_history(request.customer_id, excluding_order_id=request.order_id))
    logger.info("Customer classified", tier=result.tier, order_count=result.order_count)
    metrics.add_dimension(name="tier", value=result.tier.value)
    metrics.add_metric(name="CustomersClassified", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
