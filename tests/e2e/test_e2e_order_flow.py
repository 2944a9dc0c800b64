"""The whole order flow on moto, from the HTTP API to the timeline, routed by the program's own rules.

``POST /orders`` (HTTP API payload 2.0 with the JWT authorizer's claims) → ``create_order`` → the bus →
customer-status → fulfillment → ``notify`` (IoT Core and SNS) and ``audit`` through the SQS buffer; the
receipt's S3 ``Object Created`` event goes to the default bus, is forwarded to the order bus, and becomes a
``ReceiptReady`` notification. ``GET /orders/{orderId}`` reads the result back.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.workflows.flowkit import DEFAULT_BUS, OrderFlow
from tests.workflows.flowkit_orders import api_request, claims_for, new_customer, order_body, total_cents

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

LINES = {"MUG-BLK": 2, "TEE-L": 1}


def post_order(flow: OrderFlow, customer: str, key: str, **headers: str) -> dict:
    return api_request(
        flow,
        "POST",
        "/orders",
        claims=claims_for(flow.system, customer),
        body=order_body(LINES),
        headers={"Idempotency-Key": key, **headers},
    )


def test_an_order_placed_through_the_api_is_fulfilled_announced_and_recorded(flow: OrderFlow) -> None:
    customer = new_customer()
    correlation_id = f"e2e-{uuid.uuid4().hex[:12]}"

    response = post_order(flow, customer, "e2e-key-1", **{"X-Correlation-Id": correlation_id})
    flow.router.pump()

    # The API's answer.
    assert response["statusCode"] == 202
    reply = json.loads(response["body"])
    order_id = reply["orderId"]
    assert reply["statusUrl"] == f"https://{flow.system.api_domain}/orders/{order_id}"
    assert reply["realtimeTopic"] == f"orders/{customer}/{order_id}"
    assert reply["totalCents"] == total_cents(LINES)

    # The order and its events, each carrying the correlation id the request started.
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["tier"]) == ("FULFILLED", "NEW")
    events = [event for event in flow.bus_events() if event["detail"].get("orderId") == order_id]
    # Two workflows put these concurrently: EventBridge promises no order between them.
    assert sorted(event["detail-type"] for event in events) == ["OrderAccepted", "OrderFulfilled", "OrderPlaced"]
    assert {event["detail"]["correlationId"] for event in events} == {correlation_id}

    # The receipt object, and S3's event for it: on the default bus as S3 shapes it, then forwarded.
    receipt_key = f"receipts/{customer}/{order_id}.json"
    receipt = json.loads(flow.s3.get_object(Bucket=flow.receipts_bucket, Key=receipt_key)["Body"].read())
    assert (receipt["orderId"], receipt["totalCents"]) == (order_id, total_cents(LINES))
    [created] = [event for bus, event in flow.router.events if bus == DEFAULT_BUS]
    assert (created["source"], created["detail-type"]) == ("aws.s3", "Object Created")
    assert created["detail"]["object"]["key"] == receipt_key
    assert created["detail"]["reason"] == "PutObject"
    assert created["resources"] == [f"arn:aws:s3:::{flow.receipts_bucket}"]
    assert created in flow.bus_events("Object Created")

    # Notifications: the customer's IoT topic, one per status and one for the receipt; nothing on SNS (no
    # e-mail per status, and a fulfilled order is nothing for the operators).
    publishes = [payload for topic, payload in flow.iot_publishes() if topic == f"orders/{customer}/{order_id}"]
    assert sorted((payload["type"], payload["status"]) for payload in publishes) == [
        ("OrderAccepted", "ACCEPTED"),
        ("OrderFulfilled", "FULFILLED"),
        ("ReceiptReady", None),
    ]
    assert flow.sns_messages() == []

    # The timeline, written by audit from the SQS buffer: one row per order event, keyed by its id. (Rows
    # are sorted by "<event time>#<event id>"; events of the same second sort by their random ids.)
    rows = flow.scan("timeline")
    assert sorted(row["eventId"] for row in rows if row["orderId"] == order_id) == sorted(
        event["id"] for event in events
    )
    assert all(row["correlationId"] == correlation_id for row in rows)
    assert flow.queue_depths(flow.system.dead_letter_queues) == dict.fromkeys(flow.system.dead_letter_queues, 0)

    # Read back through the API, by its owner only.
    mine = api_request(
        flow, "GET", f"/orders/{order_id}", claims=claims_for(flow.system, customer, "GET /orders/{orderId}")
    )
    assert mine["statusCode"] == 200
    body = json.loads(mine["body"])
    assert body["order"]["status"] == "FULFILLED"
    assert sorted(entry["detailType"] for entry in body["timeline"]) == [
        "OrderAccepted",
        "OrderFulfilled",
        "OrderPlaced",
    ]
    theirs = api_request(
        flow, "GET", f"/orders/{order_id}", claims=claims_for(flow.system, new_customer(), "GET /orders/{orderId}")
    )
    assert theirs["statusCode"] == 404


def test_without_a_correlation_header_the_api_request_id_correlates_the_flow(flow: OrderFlow) -> None:
    response = post_order(flow, new_customer(), "e2e-key-2")
    flow.router.pump()

    order_id = json.loads(response["body"])["orderId"]
    request_id = response["headers"]["apigw-requestid"]
    events = [event for event in flow.bus_events() if event["detail"].get("orderId") == order_id]
    assert len(events) == 3
    assert {event["detail"]["correlationId"] for event in events} == {request_id}


def test_a_retried_request_returns_the_same_order_and_places_nothing_new(flow: OrderFlow) -> None:
    customer = new_customer()

    first = post_order(flow, customer, "e2e-retry")
    flow.router.pump()
    again = post_order(flow, customer, "e2e-retry")
    flow.router.pump()

    assert (first["statusCode"], again["statusCode"]) == (202, 202)
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert len(flow.bus_events("OrderPlaced")) == 1
    assert len(flow.scan("orders")) == 1


def test_a_token_from_another_issuer_is_refused_before_any_code_runs(flow: OrderFlow) -> None:
    claims = {**claims_for(flow.system, new_customer()), "iss": "https://issuer.example.com/other"}

    response = api_request(
        flow, "POST", "/orders", claims=claims, body=order_body(LINES), headers={"Idempotency-Key": "e2e-forged"}
    )
    flow.router.pump()

    assert response["statusCode"] == 401
    assert flow.runtime.invocations == []
    assert flow.scan("orders") == []


def test_the_stage_throttles_a_burst_beyond_its_limit_until_the_bucket_refills(flow: OrderFlow) -> None:
    # The emulator's HTTP API throttles like the stage (token bucket, Pulumi.dev.yaml's burst and rate) on
    # the virtual clock; before the copies merged, the tests' API never throttled.
    customer = new_customer()
    claims = claims_for(flow.system, customer, "GET /orders/{orderId}")
    burst = flow.system.throttle_burst
    statuses = [flow.api.request("GET", "/orders/none", claims=claims)["statusCode"] for _ in range(burst + 1)]
    assert statuses[:burst] == [404] * burst
    assert statuses[burst] == 429
    flow.clock.advance(1 / flow.system.throttle_rate)
    assert flow.api.request("GET", "/orders/none", claims=claims)["statusCode"] == 404
