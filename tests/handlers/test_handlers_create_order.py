"""``create_order`` against moto: validation, pricing, storage, the OrderPlaced event and idempotency."""

from __future__ import annotations

import base64
import json
import time
import uuid
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.handlers_testkit import (
    ALICE,
    BOB,
    ENVIRONMENT,
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    body_of,
    client_error,
    make_calls_fail,
    metric_names,
    order_request,
)

HANDLER = "create_order"


def named_fields(response: dict[str, Any]) -> list[str]:
    return [problem["field"] for problem in body_of(response)["fields"]]


def test_a_valid_order_is_stored_pending_priced_from_the_catalogue_and_announced(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    response = app.lambda_handler(order_request(VALID_ORDER_BODY, request_id="req-abc"), context)

    assert response["statusCode"] == 202
    reply = body_of(response)
    order_id = reply["orderId"]
    assert reply == {
        "orderId": order_id,
        "status": "PENDING",
        "statusUrl": f"https://api.example.com/orders/{order_id}",
        "realtimeTopic": f"orders/{ALICE}/{order_id}",
        "totalCents": 2 * 1299 + 2499,
        "currency": "EUR",
    }
    assert response["headers"]["Location"] == reply["statusUrl"]

    [order] = aws.scan("ORDERS_TABLE_NAME")
    assert order["orderId"] == order_id
    assert order["customerId"] == ALICE
    assert order["status"] == "PENDING"
    assert order["items"] == [
        {"sku": "MUG-BLK", "quantity": 2, "unitPriceCents": 1299},
        {"sku": "TEE-M", "quantity": 1, "unitPriceCents": 2499},
    ]
    assert order["totalCents"] == 5097
    assert order["shippingAddress"]["postalCode"] == "D01 F5P2"
    assert order["correlationId"] == "req-abc"

    [event] = aws.bus_events()
    assert event["source"] == "orderflow.orders"
    assert event["detail-type"] == "OrderPlaced"
    assert event["detail"] == {
        "orderId": order_id,
        "customerId": ALICE,
        "correlationId": "req-abc",
        "items": order["items"],
        "totalCents": 5097,
        "currency": "EUR",
        "placedAt": order["createdAt"],
    }
    assert "OrdersPlaced" in metric_names(capsys.readouterr().out)


def test_the_callers_correlation_id_header_is_carried_into_the_order_and_the_event(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    request = order_request(VALID_ORDER_BODY, headers={"X-Correlation-Id": "checkout-42"})

    assert app.lambda_handler(request, context)["statusCode"] == 202

    [order] = aws.scan("ORDERS_TABLE_NAME")
    [event] = aws.bus_events()
    assert order["correlationId"] == event["detail"]["correlationId"] == "checkout-42"


def test_a_base64_encoded_body_is_accepted(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    response = app.lambda_handler(order_request(VALID_ORDER_BODY, base64_body=True), context)

    assert response["statusCode"] == 202
    assert len(aws.scan("ORDERS_TABLE_NAME")) == 1


def test_a_retry_with_the_same_key_and_body_replays_the_reply_and_writes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    first = app.lambda_handler(order_request(VALID_ORDER_BODY, request_id="req-1"), context)
    orders_after_first = aws.scan("ORDERS_TABLE_NAME")
    # The same order re-serialized differently (key order, spacing) is the same request.
    same_body_other_bytes = json.dumps(dict(reversed(list(VALID_ORDER_BODY.items()))), indent=2)
    second = app.lambda_handler(order_request(same_body_other_bytes, request_id="req-2"), context)

    assert first["statusCode"] == second["statusCode"] == 202
    assert second["body"] == first["body"]
    assert second["headers"]["Location"] == first["headers"]["Location"]
    assert aws.scan("ORDERS_TABLE_NAME") == orders_after_first
    assert len(aws.bus_events()) == 1
    assert "OrderRequestsReplayed" in metric_names(capsys.readouterr().out)


def test_the_same_key_with_a_different_body_is_refused_as_tampering(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    app.lambda_handler(order_request(VALID_ORDER_BODY), context)
    tampered = {**VALID_ORDER_BODY, "items": [{"sku": "LAMP-DESK", "quantity": 3}]}

    response = app.lambda_handler(order_request(tampered), context)

    assert response["statusCode"] == 409
    assert named_fields(response) == ["Idempotency-Key"]
    assert len(aws.scan("ORDERS_TABLE_NAME")) == 1
    assert len(aws.bus_events()) == 1


def test_a_retry_while_the_first_request_is_still_running_gets_409_not_500(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies_seen_mid_flight: list[dict[str, Any]] = []
    publish = app.publisher.publish

    def publish_after_a_concurrent_retry(detail_type: str, detail: Any) -> str:
        # The client retries while the first invocation is between its order write and its event.
        replies_seen_mid_flight.append(app.lambda_handler(order_request(VALID_ORDER_BODY), LambdaContext()))
        return publish(detail_type, detail)

    monkeypatch.setattr(app.publisher, "publish", publish_after_a_concurrent_retry)

    first = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    [concurrent] = replies_seen_mid_flight
    assert concurrent["statusCode"] == 409
    assert concurrent["headers"]["Retry-After"] == "1"
    assert named_fields(concurrent) == ["Idempotency-Key"]
    assert first["statusCode"] == 202
    assert len(aws.scan("ORDERS_TABLE_NAME")) == 1


def test_idempotency_keys_are_scoped_to_the_caller(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    bobs_order = {**VALID_ORDER_BODY, "items": [{"sku": "CAP-01", "quantity": 1}]}

    alice = app.lambda_handler(order_request(VALID_ORDER_BODY, key="shared-key", sub=ALICE), context)
    bob = app.lambda_handler(order_request(bobs_order, key="shared-key", sub=BOB), context)

    assert alice["statusCode"] == bob["statusCode"] == 202
    assert body_of(alice)["orderId"] != body_of(bob)["orderId"]
    owners = {order["orderId"]: order["customerId"] for order in aws.scan("ORDERS_TABLE_NAME")}
    assert owners == {body_of(alice)["orderId"]: ALICE, body_of(bob)["orderId"]: BOB}


@pytest.mark.parametrize(
    ("headers", "key", "field"),
    [
        ({}, None, "Idempotency-Key"),
        ({}, "x" * 129, "Idempotency-Key"),
        ({}, "has space", "Idempotency-Key"),
        ({"X-Correlation-Id": "tab\tinside"}, "key-1", "X-Correlation-Id"),
    ],
)
def test_missing_or_malformed_headers_are_named_in_a_400(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, headers: dict[str, str], key: str | None, field: str
) -> None:
    response = app.lambda_handler(order_request(VALID_ORDER_BODY, key=key, headers=headers), context)

    assert response["statusCode"] == 400
    assert named_fields(response) == [field]
    assert aws.scan("ORDERS_TABLE_NAME") == []
    assert aws.bus_events() == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (None, ["body"]),
        ("{not json", ["body"]),
        ("[1, 2]", ["body"]),
        (
            {"items": [{"sku": "MUG-BLK", "quantity": 0}], "shippingAddress": VALID_ORDER_BODY["shippingAddress"]},
            ["items.0.quantity"],
        ),
        (
            {"items": [{"sku": "MUG-BLK", "quantity": "2"}], "shippingAddress": VALID_ORDER_BODY["shippingAddress"]},
            ["items.0.quantity"],
        ),
        ({"items": [], "shippingAddress": VALID_ORDER_BODY["shippingAddress"]}, ["items"]),
        ({"items": VALID_ORDER_BODY["items"]}, ["shippingAddress"]),
        (
            {**VALID_ORDER_BODY, "shippingAddress": {**VALID_ORDER_BODY["shippingAddress"], "country": "Ireland"}},
            ["shippingAddress.country"],
        ),
        ({**VALID_ORDER_BODY, "coupon": "FREE"}, ["coupon"]),
        (
            {**VALID_ORDER_BODY, "items": [{"sku": "MUG-BLK", "quantity": 1}, {"sku": "MUG-BLK", "quantity": 2}]},
            ["items"],
        ),
    ],
    ids=[
        "no-body",
        "invalid-json",
        "not-an-object",
        "zero-quantity",
        "string-quantity",
        "no-items",
        "no-address",
        "bad-country",
        "unknown-field",
        "duplicate-sku",
    ],
)
def test_a_malformed_body_gets_a_400_naming_each_field(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, body: Any, fields: list[str]
) -> None:
    response = app.lambda_handler(order_request(body), context)

    assert response["statusCode"] == 400
    assert named_fields(response) == fields
    assert aws.scan("ORDERS_TABLE_NAME") == []
    assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []
    assert aws.bus_events() == []


def test_an_unknown_sku_gets_a_422_naming_the_line(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    body = {**VALID_ORDER_BODY, "items": [{"sku": "MUG-BLK", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}]}

    response = app.lambda_handler(order_request(body), context)

    assert response["statusCode"] == 422
    assert named_fields(response) == ["items.1.sku"]
    assert "NOPE-1" in body_of(response)["error"]
    assert aws.scan("ORDERS_TABLE_NAME") == []
    assert aws.bus_events() == []


def test_a_request_without_a_subject_claim_is_401(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    response = app.lambda_handler(order_request(VALID_ORDER_BODY, sub=None), context)

    assert response["statusCode"] == 401
    assert aws.scan("ORDERS_TABLE_NAME") == []


def test_when_the_event_is_not_accepted_nothing_is_left_behind_and_a_retry_succeeds(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    events = app.publisher._client
    events.delete_event_bus(Name=ENVIRONMENT["EVENT_BUS_NAME"])

    failed = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    assert failed["statusCode"] == 503
    assert failed["headers"]["Retry-After"] == "1"
    assert aws.scan("ORDERS_TABLE_NAME") == []
    assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []

    events.create_event_bus(Name=ENVIRONMENT["EVENT_BUS_NAME"])
    retried = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    assert retried["statusCode"] == 202
    assert [order["orderId"] for order in aws.scan("ORDERS_TABLE_NAME")] == [body_of(retried)["orderId"]]


def test_a_throttled_orders_table_is_a_503_and_forgets_the_key(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = client_error("ProvisionedThroughputExceededException")
    make_calls_fail(monkeypatch, app.dynamodb, "put_item", throttled, only_table=ENVIRONMENT["ORDERS_TABLE_NAME"])

    response = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    assert response["statusCode"] == 503
    assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []
    assert aws.bus_events() == []


# ---- one order per key, whatever fails (issue 10, finding 3) --------------------------------------


def test_a_key_maps_to_one_order_id_derived_from_the_caller_and_the_key(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    response = app.lambda_handler(order_request(VALID_ORDER_BODY, key="key-7"), context)

    order_id = body_of(response)["orderId"]
    assert order_id == app.order_id_for(ALICE, "key-7")
    assert uuid.UUID(order_id).version == 5
    assert app.order_id_for(BOB, "key-7") != order_id


def test_when_powertools_cannot_record_the_reply_the_retry_answers_with_the_same_order(
    app: ModuleType, aws: AwsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The order is stored and OrderPlaced put, then the idempotency table fails: the client is told to retry.
    def idempotency_table_fails(*args: Any, **kwargs: Any) -> None:
        raise client_error("InternalServerError", 500, "UpdateItem")

    with monkeypatch.context() as patched:
        patched.setattr(app.persistence_layer, "save_success", idempotency_table_fails)
        # Lambda's remaining time bounds the in-progress record: it has expired when the client retries.
        failed = app.lambda_handler(order_request(VALID_ORDER_BODY), LambdaContext(remaining_millis=1))
    assert failed["statusCode"] == 503
    time.sleep(0.01)

    retried = app.lambda_handler(order_request(VALID_ORDER_BODY), LambdaContext())

    assert retried["statusCode"] == 202
    [order] = aws.scan("ORDERS_TABLE_NAME")
    assert body_of(retried)["orderId"] == order["orderId"]
    # Announced again (the first run's event may have been lost): the same order, never a new one.
    assert {event["detail"]["orderId"] for event in aws.bus_events()} == {order["orderId"]}


def test_a_run_that_timed_out_after_storing_the_order_is_answered_from_the_stored_order(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    first = app.lambda_handler(order_request(VALID_ORDER_BODY, request_id="req-1"), context)
    first_events = aws.bus_events()
    # The function was killed before Powertools recorded the reply: no idempotency record is left.
    for record in aws.scan("IDEMPOTENCY_TABLE_NAME"):
        aws.dynamodb.delete_item(TableName=ENVIRONMENT["IDEMPOTENCY_TABLE_NAME"], Key={"id": {"S": record["id"]}})

    retried = app.lambda_handler(order_request(VALID_ORDER_BODY, request_id="req-2"), context)

    assert retried["statusCode"] == 202
    assert body_of(retried) == body_of(first)
    assert len(aws.scan("ORDERS_TABLE_NAME")) == 1
    [again] = aws.bus_events()
    # The same OrderPlaced as the first run's, correlation id and placement time included.
    assert again["detail"] == first_events[0]["detail"]


def test_a_stored_order_that_moved_on_is_not_announced_again(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    first = app.lambda_handler(order_request(VALID_ORDER_BODY), context)
    aws.bus_events()
    order_id = body_of(first)["orderId"]
    aws.put("ORDERS_TABLE_NAME", aws.get("ORDERS_TABLE_NAME", {"orderId": order_id}) | {"status": "FULFILLED"})
    for record in aws.scan("IDEMPOTENCY_TABLE_NAME"):
        aws.dynamodb.delete_item(TableName=ENVIRONMENT["IDEMPOTENCY_TABLE_NAME"], Key={"id": {"S": record["id"]}})

    retried = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    assert body_of(retried)["orderId"] == order_id
    assert aws.bus_events() == []


def test_a_key_reused_for_another_order_after_it_was_forgotten_is_refused(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    app.lambda_handler(order_request(VALID_ORDER_BODY, key="reused"), context)
    for record in aws.scan("IDEMPOTENCY_TABLE_NAME"):
        aws.dynamodb.delete_item(TableName=ENVIRONMENT["IDEMPOTENCY_TABLE_NAME"], Key={"id": {"S": record["id"]}})
    other = {**VALID_ORDER_BODY, "items": [{"sku": "CAP-01", "quantity": 1}]}

    response = app.lambda_handler(order_request(other, key="reused"), context)

    assert response["statusCode"] == 409
    assert named_fields(response) == ["Idempotency-Key"]
    [order] = aws.scan("ORDERS_TABLE_NAME")
    assert [line["sku"] for line in order["items"]] == ["MUG-BLK", "TEE-M"]


# ---- bad input is a 4xx, never a 500 (issue 10, finding 6) -------------------------------------------


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", "not base64 at all!"], ids=["not-utf8", "not-base64"])
def test_a_base64_body_that_is_not_utf8_json_is_a_400_naming_the_body(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, raw: bytes | str
) -> None:
    request = order_request(None)
    request["isBase64Encoded"] = True
    request["body"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw

    response = app.lambda_handler(request, context)

    assert response["statusCode"] == 400
    assert named_fields(response) == ["body"]
    assert aws.scan("ORDERS_TABLE_NAME") == []


def test_idempotency_records_start_with_the_function_name_its_role_is_limited_to(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The role may touch only records whose key starts "<function name>." (dynamodb:LeadingKeys, __main__.py).
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orderflow-dev-create-order")

    app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    [record] = aws.scan("IDEMPOTENCY_TABLE_NAME")
    assert record["id"].startswith("orderflow-dev-create-order.")
