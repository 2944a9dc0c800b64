"""Compensation: cancel an order's shipment; safe to run twice and when nothing was booked.

Runs when booking the shipment failed after its retries: the booking may still have happened (the
carrier booked, then the response was lost), so the order must not be refunded with a shipment on its
way.

- Shipment ``BOOKED`` → the (simulated) carrier cancels it and ``shipment.status`` becomes
  ``CANCELLED``, only if it is still booked. Outcome ``DONE``.
- Shipment ``CANCELLED`` → nothing to do. Outcome ``ALREADY_DONE``.
- No shipment → a ``CANCELLED`` marker without ``shipmentId`` is written, so a late ``create_shipment``
  (a timed-out attempt still running) cannot book one. Outcome ``NOTHING_TO_UNDO``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import to_item, write_if
from shared.errors import TransientDependencyError
from shared.models.workflow import CompensationOutcome, CompensationResult, FulfillmentState, ShipmentStatus
from shared.orders import read_order

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


@tracer.capture_method
def cancel(order_id: str) -> CompensationResult:
    """Undo ``create_shipment`` for an order, whatever state it reached (outcomes: see the module)."""
    key = to_item({"orderId": order_id})
    # Two passes cover a shipment being booked between our read and our marker write.
    for _ in range(2):
        shipment = read_order(dynamodb, ORDERS_TABLE_NAME, order_id, ("shipment",)).get("shipment")
        if shipment is None:
            marker = {"status": ShipmentStatus.CANCELLED.value, "cancelledAt": utc_timestamp()}
            if write_if(
                dynamodb.update_item,
                "orders table",
                TableName=ORDERS_TABLE_NAME,
                Key=key,
                UpdateExpression="SET shipment = :marker",
                # Never creates an order row: UpdateItem on a missing key would.
                ConditionExpression="attribute_exists(orderId) AND attribute_not_exists(shipment)",
                ExpressionAttributeValues=to_item({":marker": marker}),
            ):
                return CompensationResult(outcome=CompensationOutcome.NOTHING_TO_UNDO)
            continue
        if shipment.get("status") == ShipmentStatus.CANCELLED:
            return CompensationResult(outcome=CompensationOutcome.ALREADY_DONE)
        # The simulated carrier cancels instantly; a real one would be called here with the shipmentId.
        cancelled = write_if(
            dynamodb.update_item,
            "orders table",
            TableName=ORDERS_TABLE_NAME,
            Key=key,
            UpdateExpression="SET shipment.#status = :cancelled, shipment.cancelledAt = :now",
            ConditionExpression="shipment.shipmentId = :shipment_id "
            "AND (attribute_not_exists(shipment.#status) OR shipment.#status <> :cancelled)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":cancelled": ShipmentStatus.CANCELLED.value,
                    ":now": utc_timestamp(),
                    ":shipment_id": shipment["shipmentId"],
                }
            ),
        )
        outcome = CompensationOutcome.DONE if cancelled else CompensationOutcome.ALREADY_DONE
        logger.info("Shipment cancelled", shipment_id=shipment["shipmentId"], outcome=outcome)
        return CompensationResult(outcome=outcome)
    raise TransientDependencyError(f"shipment of order {order_id} kept changing; retry")


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point (compensation path): the fulfillment state in, ``{outcome}`` out."""
    result = cancel(state.order_id)
    metrics.add_dimension(name="outcome", value=result.outcome.value)
    metrics.add_metric(name="ShipmentCancellations", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
