"""``cancel_shipment`` against moto: a booked shipment is cancelled once; nothing booked leaves a marker."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.handlers.handlers_testkit import (
    AwsWorld,
    LambdaContext,
    fulfillment_state,
    import_handler,
    new_order_id,
)

HANDLER = "cancel_shipment"


@pytest.fixture
def shipping(aws: AwsWorld) -> ModuleType:
    return import_handler("create_shipment")


def shipment_of(aws: AwsWorld, order_id: str) -> dict[str, object]:
    order = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert order is not None
    return dict(order["shipment"])


def test_a_booked_shipment_is_cancelled_once(
    app: ModuleType, shipping: ModuleType, aws: AwsWorld, context: LambdaContext, accepted_order: str
) -> None:
    # The booking whose response was lost: the carrier has it, the workflow does not know.
    order_id = accepted_order
    booked = shipping.lambda_handler(fulfillment_state(order_id), context)

    first = app.lambda_handler(fulfillment_state(order_id), context)
    second = app.lambda_handler(fulfillment_state(order_id), context)

    assert (first, second) == ({"outcome": "DONE"}, {"outcome": "ALREADY_DONE"})
    shipment = shipment_of(aws, order_id)
    assert (shipment["shipmentId"], shipment["status"]) == (booked["shipmentId"], "CANCELLED")
    assert "cancelledAt" in shipment


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the refused booking emits none
def test_nothing_booked_leaves_a_marker_that_stops_a_late_booking(
    app: ModuleType, shipping: ModuleType, aws: AwsWorld, context: LambdaContext, accepted_order: str
) -> None:
    order_id = accepted_order

    assert app.lambda_handler(fulfillment_state(order_id), context) == {"outcome": "NOTHING_TO_UNDO"}
    # A timed-out booking attempt that runs late must not book a shipment for the compensated order.
    with pytest.raises(Exception) as refused:
        shipping.lambda_handler(fulfillment_state(order_id), context)

    assert type(refused.value).__name__ == "ShipmentCancelled"
    assert shipment_of(aws, order_id)["status"] == "CANCELLED"
    assert "shipmentId" not in shipment_of(aws, order_id)
    assert app.lambda_handler(fulfillment_state(order_id), context) == {"outcome": "ALREADY_DONE"}


def test_a_shipment_booked_before_this_change_is_cancelled_too(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, accepted_order: str
) -> None:
    # Rows written before shipments had a status.
    order_id = accepted_order
    legacy = {"shipmentId": "shp_legacy", "carrier": "SIMULATED", "createdAt": "2026-01-01T12:00:00Z"}
    order = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert order is not None
    aws.put("ORDERS_TABLE_NAME", order | {"shipment": legacy})

    assert app.lambda_handler(fulfillment_state(order_id), context) == {"outcome": "DONE"}
    assert shipment_of(aws, order_id)["status"] == "CANCELLED"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed invocation emits none
def test_an_order_that_does_not_exist_is_an_error_and_no_row_is_created(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()

    with pytest.raises(Exception) as raised:
        app.lambda_handler(fulfillment_state(order_id), context)

    assert type(raised.value).__name__ == "OrderNotFound"
    assert aws.get("ORDERS_TABLE_NAME", {"orderId": order_id}) is None
