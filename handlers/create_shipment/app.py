"""Book the shipment of an order (fulfillment step); recorded once per order on the order row.

The shipping address is read from the order (it is not part of the ``OrderPlaced`` detail). The
shipment is written to the order as ``shipment`` only if the order has none yet, so a retry or a
duplicate delivery returns the first shipment instead of booking a second one. The carrier is
simulated: booking is the write itself. An order whose shipment was cancelled (``cancel_shipment``
compensated it, or left a marker because nothing was booked) is never booked again:
:class:`ShipmentCancelled`.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import to_item, write_if
from shared.models.common import ShippingAddress
from shared.models.workflow import FulfillmentState, ShipmentResult, ShipmentStatus
from shared.orders import read_order

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]
CARRIER: Final = "SIMULATED"

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


class ShipmentCancelled(Exception):  # noqa: N818 - reads as the condition it reports
    """The order's shipment was cancelled by the compensation; a late attempt must not book one."""


@tracer.capture_method
def book_shipment(order_id: str) -> ShipmentResult:
    """Book one shipment to the order's address, or return the one already booked (see the module)."""
    order = read_order(dynamodb, ORDERS_TABLE_NAME, order_id, ("shippingAddress", "shipment"))
    if "shipment" in order:
        if order["shipment"].get("status") == ShipmentStatus.CANCELLED:
            raise ShipmentCancelled(f"the shipment of order {order_id} was cancelled")
        metrics.add_metric(name="ShipmentsReplayed", unit=MetricUnit.Count, value=1)
        return ShipmentResult.model_validate(order["shipment"])
    address = ShippingAddress.model_validate(order.get("shippingAddress"))
    shipment = ShipmentResult(
        shipment_id=f"shp_{uuid.uuid4().hex}",
        carrier=CARRIER,
        created_at=utc_timestamp(),
    )
    booked = write_if(
        dynamodb.update_item,
        "orders table",
        TableName=ORDERS_TABLE_NAME,
        Key=to_item({"orderId": order_id}),
        UpdateExpression="SET shipment = :shipment",
        ConditionExpression="attribute_exists(orderId) AND attribute_not_exists(shipment)",
        ExpressionAttributeValues=to_item({":shipment": shipment.model_dump(mode="json")}),
    )
    if not booked:
        # Another attempt booked (or the compensation cancelled) first: report what is there, not ours.
        return book_shipment(order_id)
    metrics.add_metric(name="ShipmentsCreated", unit=MetricUnit.Count, value=1)
    logger.info("Shipment booked", shipment_id=shipment.shipment_id, country=address.country)
    return shipment


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point; the workflow keeps the result at ``$.shipment``."""
    return book_shipment(state.order_id).model_dump(mode="json")
