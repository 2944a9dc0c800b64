"""Compensation: give an order's reserved stock back; safe to run twice and when nothing was reserved.

- Reservation ``RESERVED`` → one transaction marks it ``RELEASED`` (only if still ``RESERVED``) and adds
  each SKU's quantity back, so stock is returned exactly once. Outcome ``DONE``.
- Reservation already ``RELEASED`` → nothing to do. Outcome ``ALREADY_DONE``.
- No reservation → a ``RELEASED`` marker with no items is written, so a late ``reserve_inventory``
  (e.g. a timed-out attempt still running) finds the record and takes no stock. Outcome
  ``NOTHING_TO_UNDO``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from botocore.exceptions import ClientError

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import cancellation_codes, put_if_absent, to_item
from shared.errors import TransientDependencyError, transient_dependency_errors
from shared.inventory import read_reservation, reservation_key, sku_key
from shared.models.workflow import (
    CompensationOutcome,
    CompensationResult,
    FulfillmentState,
    ReservationResult,
    ReservationStatus,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

INVENTORY_TABLE_NAME: Final = os.environ["INVENTORY_TABLE_NAME"]

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


def _write_marker(order_id: str) -> bool:
    """Write a ``RELEASED`` reservation with no items; False when a reservation appeared meanwhile."""
    marker = {
        "pk": f"RESERVATION#{order_id}",
        "orderId": order_id,
        "status": ReservationStatus.RELEASED.value,
        "items": [],
        "releasedAt": utc_timestamp(),
    }
    return put_if_absent(dynamodb, INVENTORY_TABLE_NAME, marker, key="pk", dependency="inventory table") is None


def _return_stock(order_id: str, reservation: ReservationResult) -> bool:
    """Mark the reservation RELEASED and add its items back; False when another call released it first."""
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": INVENTORY_TABLE_NAME,
                "Key": reservation_key(order_id),
                "UpdateExpression": "SET #status = :released, releasedAt = :now",
                "ConditionExpression": "#status = :reserved",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item(
                    {
                        ":released": ReservationStatus.RELEASED.value,
                        ":reserved": ReservationStatus.RESERVED.value,
                        ":now": utc_timestamp(),
                    }
                ),
            }
        }
    ]
    actions.extend(
        {
            "Update": {
                "TableName": INVENTORY_TABLE_NAME,
                "Key": sku_key(item.sku),
                "UpdateExpression": "ADD available :quantity",
                "ExpressionAttributeValues": to_item({":quantity": item.quantity}),
            }
        }
        for item in reservation.items
    )
    try:
        with transient_dependency_errors("inventory table"):
            dynamodb.transact_write_items(TransactItems=actions)
    except ClientError as error:
        codes = cancellation_codes(error)
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        if codes:
            raise TransientDependencyError(f"inventory transaction cancelled ({', '.join(codes)}); retry") from error
        raise
    return True


@tracer.capture_method
def release(order_id: str) -> CompensationResult:
    """Undo ``reserve_inventory`` for an order, whatever state it reached (outcomes: see the module)."""
    # Two passes cover a reservation appearing between our read and our marker write.
    for _ in range(2):
        reservation = read_reservation(dynamodb, INVENTORY_TABLE_NAME, order_id)
        if reservation is None:
            if _write_marker(order_id):
                return CompensationResult(outcome=CompensationOutcome.NOTHING_TO_UNDO)
            continue
        if reservation.status == ReservationStatus.RELEASED or not _return_stock(order_id, reservation):
            return CompensationResult(outcome=CompensationOutcome.ALREADY_DONE)
        return CompensationResult(outcome=CompensationOutcome.DONE)
    raise TransientDependencyError(f"reservation of order {order_id} kept changing; retry")


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point (compensation path): the fulfillment state in, ``{outcome}`` out."""
    result = release(state.order_id)
    logger.info("Inventory compensation", outcome=result.outcome)
    metrics.add_dimension(name="outcome", value=result.outcome.value)
    metrics.add_metric(name="InventoryReleases", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
