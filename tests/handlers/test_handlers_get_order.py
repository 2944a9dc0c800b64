"""``get_order`` against moto: owner-only reads, no existence leak, timeline in event order."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.handlers_testkit import (
    ALICE,
    BOB,
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    client_error,
    http_event,
    import_handler,
    make_calls_fail,
    new_order_id,
    order_request,
    sqs_event,
)

HANDLER = "get_order"


def get(app: ModuleType, order_id: str, context: LambdaContext, sub: str | None = ALICE) -> dict[str, Any]:
    event = http_event("GET", f"/orders/{order_id}", path_parameters={"orderId": order_id}, sub=sub)
    return app.lambda_handler(event, context)


def seed_order(aws: AwsWorld, order_id: str, customer_id: str = ALICE) -> None:
    aws.put(
        "ORDERS_TABLE_NAME",
        {
            "orderId": order_id,
            "customerId": customer_id,
            "createdAt": "2026-01-01T12:00:00.000Z",
            "status": "ACCEPTED",
            "items": [{"sku": "MUG-BLK", "quantity": 2, "unitPriceCents": 1299}],
            "totalCents": 2598,
            "currency": "EUR",
        },
    )


def seed_order_with_timeline(aws: AwsWorld, rows: list[tuple[str, str, str]]) -> str:
    """A new order of Alice's with one timeline row per ``(time, event id, detail-type)``; its id."""
    order_id = new_order_id()
    seed_order(aws, order_id)
    for time, event_id, detail_type in rows:
        aws.put(
            "TIMELINE_TABLE_NAME",
            {
                "orderId": order_id,
                "eventKey": f"{time}#{event_id}",
                "eventId": event_id,
                "detailType": detail_type,
                "time": time,
                "detail": {"orderId": order_id},
            },
        )
    return order_id


def test_the_owner_gets_the_order_and_its_timeline_oldest_first(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = seed_order_with_timeline(
        aws,
        [
            ("2026-01-01T12:00:05Z", "e3", "OrderAccepted"),
            ("2026-01-01T12:00:00Z", "e1", "OrderPlaced"),
            ("2026-01-01T12:10:00Z", "e9", "OrderFulfilled"),
        ],
    )

    response = get(app, order_id, context)

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["order"]["orderId"] == order_id
    assert body["order"]["totalCents"] == 2598
    assert body["order"]["items"] == [{"sku": "MUG-BLK", "quantity": 2, "unitPriceCents": 1299}]
    assert [row["detailType"] for row in body["timeline"]] == ["OrderPlaced", "OrderAccepted", "OrderFulfilled"]
    assert body["timeline"][0] == {
        "eventKey": "2026-01-01T12:00:00Z#e1",
        "eventId": "e1",
        "detailType": "OrderPlaced",
        "time": "2026-01-01T12:00:00Z",
        "detail": {"orderId": order_id},
    }


def test_events_of_the_same_second_are_listed_in_lifecycle_order(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    # Event ids are random: here they sort against the lifecycle.
    order_id = seed_order_with_timeline(
        aws,
        [
            ("2026-01-01T12:00:00Z", "a", "OrderFulfilled"),
            ("2026-01-01T12:00:00Z", "b", "OrderAccepted"),
            ("2026-01-01T12:00:00Z", "c", "OrderPlaced"),
        ],
    )

    body = json.loads(get(app, order_id, context)["body"])

    assert [row["detailType"] for row in body["timeline"]] == ["OrderPlaced", "OrderAccepted", "OrderFulfilled"]


def test_another_customers_order_is_indistinguishable_from_a_missing_one(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    alices_order = new_order_id()
    seed_order(aws, alices_order, customer_id=ALICE)

    as_bob = get(app, alices_order, context, sub=BOB)
    missing = get(app, new_order_id(), context, sub=BOB)

    assert as_bob["statusCode"] == missing["statusCode"] == 404
    assert as_bob["body"] == missing["body"]
    assert json.loads(as_bob["body"]) == {"error": "order not found", "fields": []}


@pytest.mark.parametrize("order_id", ["not-a-uuid", "..%2F..", "A" * 36])
def test_a_malformed_order_id_is_404(app: ModuleType, aws: AwsWorld, context: LambdaContext, order_id: str) -> None:
    assert get(app, order_id, context)["statusCode"] == 404


def test_no_subject_claim_is_404(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    order_id = new_order_id()
    seed_order(aws, order_id)

    assert get(app, order_id, context, sub=None)["statusCode"] == 404


def test_reading_twice_returns_the_same_and_writes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()
    seed_order(aws, order_id)
    before = aws.scan("ORDERS_TABLE_NAME"), aws.scan("TIMELINE_TABLE_NAME")

    first, second = get(app, order_id, context), get(app, order_id, context)

    assert first["body"] == second["body"]
    assert (aws.scan("ORDERS_TABLE_NAME"), aws.scan("TIMELINE_TABLE_NAME")) == before


def test_a_throttled_table_is_503(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_calls_fail(monkeypatch, app.dynamodb, "get_item", client_error("ThrottlingException"))

    assert get(app, new_order_id(), context)["statusCode"] == 503


def test_an_order_placed_through_the_api_shows_its_audited_events(aws: AwsWorld, context: LambdaContext) -> None:
    create_order = import_handler("create_order")
    audit = import_handler("audit")
    get_order = import_handler("get_order")

    placed = create_order.lambda_handler(order_request(VALID_ORDER_BODY, key="e2e"), context)
    order_id = json.loads(placed["body"])["orderId"]
    audit.lambda_handler(sqs_event([json.dumps(event) for event in aws.bus_events()]), context)

    body = json.loads(get(get_order, order_id, context)["body"])

    assert body["order"]["status"] == "PENDING"
    assert [row["detailType"] for row in body["timeline"]] == ["OrderPlaced"]
    assert body["timeline"][0]["detail"]["totalCents"] == 5097


def test_lifecycle_order_knows_every_order_event(app: ModuleType) -> None:
    from shared.models import events

    expected = {events.ORDER_PLACED, *events.ORDER_STATUS_DETAILS, events.RECEIPT_READY}
    assert set(app.LIFECYCLE_ORDER) == expected


def test_only_allow_listed_fields_reach_the_customer(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    # What the workflows and operators keep on the order, and a raw cause in a legacy event, stay internal.
    order_id = new_order_id()
    seed_order(aws, order_id)
    row = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert row is not None
    internal = {
        "shipment": {"shipmentId": "shp_1", "carrier": "SIMULATED", "status": "CANCELLED"},
        "attention": {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:x", "error": "States.Timeout"},
        "expiresAt": 1_900_000_000,
        "internalNote": "refund by hand",
    }
    aws.put("ORDERS_TABLE_NAME", row | {"status": "FAILED", "reason": "OUT_OF_STOCK", "message": "Sorry."} | internal)
    raw_cause = (
        '{"errorMessage": "not enough stock", "stackTrace": ["  File \\"/var/task/reserve_inventory/app.py\\""]}'
    )
    aws.put(
        "TIMELINE_TABLE_NAME",
        {
            "orderId": order_id,
            "eventKey": "OrderFailed",
            "eventId": "e1",
            "detailType": "OrderFailed",
            "time": "2026-01-01T12:00:00Z",
            "detail": {"orderId": order_id, "customerId": ALICE, "reason": "OutOfStock", "error": raw_cause},
        },
    )

    body = json.loads(get(app, order_id, context)["body"])

    assert set(body) == {"order", "timeline"}
    assert not set(body["order"]) & set(internal)
    # The row's own text is not shown: the sentence of customer_messages.json for its reason code is.
    assert body["order"]["reason"] == "OUT_OF_STOCK"
    assert body["order"]["message"] == "Part of your order is out of stock. You have not been charged."
    [event] = body["timeline"]
    assert event["detail"] == {"orderId": order_id, "customerId": ALICE, "reason": "OutOfStock"}
    assert "stackTrace" not in json.dumps(body) and "/var/task" not in json.dumps(body)
