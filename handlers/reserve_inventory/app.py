"""Reserve stock for an order (first step of the fulfillment workflow); idempotent on the order id.

One TransactWriteItems creates ``RESERVATION#<orderId>`` (only if absent) and decrements every SKU's
``available`` (only if enough is left), so either the whole order is reserved or nothing changes,
and stock never goes below zero.

- Reservation record already present (a retry or duplicate delivery) → that reservation is returned
  and stock is not touched again.
- Reservation ``RELEASED`` (a compensation got there first, see ``release_inventory``) →
  :class:`ReservationReleased`, stock untouched: the order was compensated, and a run started again from
  the top (a restart, or a late attempt) must not go on to charge and ship it without stock.
- A SKU short of stock, or unknown → :class:`OutOfStock` naming the SKUs (the workflow compensates).
- Throttling, transaction conflicts, 5xx → :class:`TransientDependencyError` (the workflow retries).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from botocore.exceptions import ClientError

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import cancellation_codes, to_item
from shared.errors import OutOfStock, TransientDependencyError, transient_dependency_errors
from shared.inventory import read_reservation, sku_key
from shared.models.workflow import FulfillmentState, ReservationResult, ReservationStatus, ReservedItem

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

INVENTORY_TABLE_NAME: Final = os.environ["INVENTORY_TABLE_NAME"]
# Cancellation reasons of TransactWriteItems that a later attempt may not hit.
TRANSIENT_CANCELLATION_CODES: Final = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


class ReservationReleased(Exception):  # noqa: N818 - reads as the condition it reports
    """The order's reservation was released by the compensation; no later attempt may reserve or go on."""


def requested_items(state: FulfillmentState) -> list[ReservedItem]:
    """Quantities per SKU, in first-seen order (lines of one SKU are summed: a transaction touches an item once)."""
    quantities: Counter[str] = Counter()
    for line in state.items:
        quantities[line.sku] += line.quantity
    return [ReservedItem(sku=sku, quantity=quantity) for sku, quantity in quantities.items()]


@tracer.capture_method
def reserve(order_id: str, items: list[ReservedItem]) -> ReservationResult:
    """Create the reservation and decrement stock in one transaction, or return the existing reservation.

    Parameters
    ----------
    order_id:
        The order.
    items:
        Quantities per SKU (each SKU once).

    Returns
    -------
    ReservationResult
        The new reservation, or the one an earlier attempt made.

    Raises
    ------
    OutOfStock
        Naming every SKU without enough stock.
    ReservationReleased
        When the order's reservation (or the compensation's marker) is ``RELEASED``.
    TransientDependencyError
        For throttling, conflicts and 5xx.
    """
    reservation = {
        "pk": f"RESERVATION#{order_id}",
        "orderId": order_id,
        "status": ReservationStatus.RESERVED.value,
        "items": [item.model_dump(mode="json") for item in items],
        "reservedAt": utc_timestamp(),
    }
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": INVENTORY_TABLE_NAME,
                "Item": to_item(reservation),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    actions.extend(
        {
            "Update": {
                "TableName": INVENTORY_TABLE_NAME,
                "Key": sku_key(item.sku),
                "UpdateExpression": "SET available = available - :quantity",
                "ConditionExpression": "attribute_exists(pk) AND available >= :quantity",
                "ExpressionAttributeValues": to_item({":quantity": item.quantity}),
            }
        }
        for item in items
    )
    try:
        with transient_dependency_errors("inventory table"):
            dynamodb.transact_write_items(TransactItems=actions)
    except ClientError as error:
        codes = cancellation_codes(error)
        if not codes:
            raise
        if codes[0] == "ConditionalCheckFailed":
            existing = read_reservation(dynamodb, INVENTORY_TABLE_NAME, order_id)
            if existing is not None and existing.status == ReservationStatus.RELEASED:
                raise ReservationReleased(f"the reservation of order {order_id} was released") from error
            if existing is not None:
                logger.info("Reservation already made; returning it", status=existing.status)
                metrics.add_metric(name="InventoryReservationsReplayed", unit=MetricUnit.Count, value=1)
                return existing
        short = [item.sku for item, code in zip(items, codes[1:], strict=False) if code == "ConditionalCheckFailed"]
        if short:
            metrics.add_metric(name="OutOfStock", unit=MetricUnit.Count, value=1)
            raise OutOfStock(f"not enough stock for {', '.join(short)}") from error
        if TRANSIENT_CANCELLATION_CODES.intersection(codes):
            raise TransientDependencyError(f"inventory transaction cancelled ({', '.join(codes)}); retry") from error
        raise
    metrics.add_metric(name="InventoryReserved", unit=MetricUnit.Count, value=1)
    logger.info("Inventory reserved", skus=len(items))
    return ReservationResult(status=ReservationStatus.RESERVED, items=items)


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point; the workflow keeps the result at ``$.reservation``."""
    return reserve(state.order_id, requested_items(state)).model_dump(mode="json")
