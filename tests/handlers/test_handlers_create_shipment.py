"""``create_shipment`` against moto: one shipment per order, to the stored address."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from tests.handlers.handlers_testkit import (
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    client_error,
    fulfillment_state,
    make_calls_fail,
    new_order_id,
    seed_accepted_order,
)

HANDLER = "create_shipment"


def test_a_shipment_is_booked_and_recorded_on_the_order(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, accepted_order: str
) -> None:
    order_id = accepted_order

    result = app.lambda_handler(fulfillment_state(order_id), context)

    assert result["shipmentId"].startswith("shp_")
    assert result["carrier"] == "SIMULATED"
    order = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert order is not None
    assert order["shipment"] == result


def test_a_duplicate_delivery_returns_the_first_shipment(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, accepted_order: str
) -> None:
    order_id = accepted_order
    first = app.lambda_handler(fulfillment_state(order_id), context)
    after_first = aws.scan("ORDERS_TABLE_NAME")

    second = app.lambda_handler(fulfillment_state(order_id), context)

    assert second == first
    assert aws.scan("ORDERS_TABLE_NAME") == after_first


def test_a_concurrent_booking_reports_the_winner(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch, accepted_order: str
) -> None:
    order_id = accepted_order
    winner: list[dict[str, Any]] = []
    update_item = app.dynamodb.update_item

    def another_attempt_books_first(**request: Any) -> Any:
        if not winner:
            monkeypatch.setattr(app.dynamodb, "update_item", update_item)
            winner.append(app.lambda_handler(fulfillment_state(order_id), context))
        return update_item(**request)

    monkeypatch.setattr(app.dynamodb, "update_item", another_attempt_books_first)

    result = app.lambda_handler(fulfillment_state(order_id), context)

    assert result == winner[0]
    order = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert order is not None
    assert order["shipment"] == winner[0]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_missing_order_is_an_error(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    order_id = new_order_id()

    with pytest.raises(Exception, match=order_id) as raised:
        app.lambda_handler(fulfillment_state(order_id), context)

    assert type(raised.value).__name__ == "OrderNotFound"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_an_incomplete_address_is_rejected_naming_the_field(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    address = {key: value for key, value in VALID_ORDER_BODY["shippingAddress"].items() if key != "city"}
    order_id = seed_accepted_order(aws, address)

    with pytest.raises(ValidationError) as raised:
        app.lambda_handler(fulfillment_state(order_id), context)

    assert [error["loc"] for error in raised.value.errors()] == [("city",)]
    order = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert order is not None
    assert "shipment" not in order


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_throttled_table_is_transient(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch, accepted_order: str
) -> None:
    order_id = accepted_order
    make_calls_fail(monkeypatch, app.dynamodb, "get_item", client_error("ThrottlingException"))

    with pytest.raises(Exception) as raised:
        app.lambda_handler(fulfillment_state(order_id), context)

    assert type(raised.value).__name__ == "TransientDependencyError"
