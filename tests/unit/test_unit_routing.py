"""orderflow.routing: every rule routes exactly the events it should (``EventBus`` lints the patterns).

Matching uses moto's ``EventPattern`` (the code moto's PutEvents routes with). Its ``TestEventPattern``
API is a stub that cannot fail, so it is not used.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pulumi
import pytest
from moto import mock_aws
from moto.events.models import EventPattern
from pulumi.runtime.sync_await import _sync_await

from orderflow import routing

BUCKET = "orderflow-dev-receipts-1a2b3c4"
ORDER_ID = "0b7c1c8e-0f6e-4e8a-9d0c-2f3c4d5e6f70"


def order_event(detail_type: str, source: str = routing.ORDER_EVENT_SOURCE, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"id-{detail_type}",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-01-31T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {"orderId": ORDER_ID, "customerId": "c-1", "correlationId": "r-1", **detail},
    }


def s3_event(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "id-s3",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-01-31T12:00:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 321, "etag": "e", "sequencer": "s"},
            "request-id": "q",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


EVENTS: dict[str, dict[str, Any]] = {
    "OrderPlaced": order_event("OrderPlaced"),
    "OrderAccepted": order_event("OrderAccepted"),
    "OrderRejected": order_event("OrderRejected"),
    "OrderFulfilled": order_event("OrderFulfilled"),
    "OrderFailed": order_event("OrderFailed"),
    "OrderFailed on our side": order_event("OrderFailed", reason="FULFILLMENT_ERROR"),
    "OrderFailed declined": order_event("OrderFailed", reason="PAYMENT_DECLINED"),
    "OrderFailed out of stock": order_event("OrderFailed", reason="OUT_OF_STOCK"),
    "foreign OrderPlaced": order_event("OrderPlaced", source="payments.orders"),
    "receipt created": s3_event(BUCKET, f"receipts/c-1/{ORDER_ID}.json"),
    "other prefix in receipts bucket": s3_event(BUCKET, "exports/today.csv"),
    "receipt key in another bucket": s3_event("someone-elses-bucket", f"receipts/c-1/{ORDER_ID}.json"),
    "receipt deleted": s3_event(BUCKET, f"receipts/c-1/{ORDER_ID}.json", detail_type="Object Deleted"),
}

FAILURES = {"OrderFailed", "OrderFailed on our side", "OrderFailed declined", "OrderFailed out of stock"}
ORDER_EVENTS = {"OrderPlaced", "OrderAccepted", "OrderRejected", "OrderFulfilled", *FAILURES}
EXPECTED_MATCHES: dict[str, set[str]] = {
    "order-placed": {"OrderPlaced"},
    "order-status": {"OrderAccepted", "OrderRejected", "OrderFulfilled", *FAILURES},
    "audit": ORDER_EVENTS,
    # A failure on our side, not a decline or a stock-out (an OrderFailed without a reason breaks the contract).
    "operator-failures": {"OrderFailed on our side"},
    "receipt-ready": {"receipt created"},
    "forward-receipts": {"receipt created"},
}


def rules() -> dict[str, routing.RoutingRule]:
    return {rule.name: rule for rule in routing.routing_rules(BUCKET)}


def test_every_rule_is_listed_once_on_its_bus() -> None:
    listed = routing.routing_rules(BUCKET)

    assert [rule.name for rule in listed] == [
        "order-placed",
        "order-status",
        "audit",
        "operator-failures",
        "receipt-ready",
        "forward-receipts",
    ]
    assert {rule.name: rule.bus for rule in listed} == {
        "order-placed": routing.CUSTOM_BUS,
        "order-status": routing.CUSTOM_BUS,
        "audit": routing.CUSTOM_BUS,
        "operator-failures": routing.CUSTOM_BUS,
        "receipt-ready": routing.CUSTOM_BUS,
        "forward-receipts": routing.DEFAULT_BUS,
    }


@pytest.mark.parametrize("rule_name", sorted(EXPECTED_MATCHES))
@pytest.mark.parametrize("event_name", sorted(EVENTS))
def test_rule_matches_exactly_its_events(rule_name: str, event_name: str) -> None:
    matcher = EventPattern.load(json.dumps(rules()[rule_name].pattern))

    assert matcher.matches_event(EVENTS[event_name]) is (event_name in EXPECTED_MATCHES[rule_name])


def test_each_pattern_function_returns_a_fresh_dict() -> None:
    first = routing.order_placed_pattern()
    first["source"].append("tampered")

    assert routing.order_placed_pattern() == {"source": ["orderflow.orders"], "detail-type": ["OrderPlaced"]}


def test_receipt_patterns_are_functions_of_the_bucket() -> None:
    pattern = routing.receipt_created_pattern("another-bucket")

    assert pattern["detail"]["bucket"]["name"] == ["another-bucket"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "receipts/"}]
    by_name = {rule.name: rule.pattern for rule in routing.routing_rules("another-bucket")}
    assert by_name["forward-receipts"] == by_name["receipt-ready"] == pattern
    assert by_name["forward-receipts"] is not by_name["receipt-ready"]


@pytest.mark.parametrize("bucket", ["", None])
def test_receipt_patterns_need_a_bucket_name(bucket: Any) -> None:
    with pytest.raises(ValueError, match="receipts_bucket_name"):
        routing.receipt_created_pattern(bucket)
    with pytest.raises(ValueError, match="receipts_bucket_name"):
        routing.routing_rules(bucket)


def resolved(value: Any) -> Any:
    """What a value holding Outputs resolves to."""
    return _sync_await(pulumi.Output.from_input(value).future())


def test_a_bucket_name_known_only_at_deployment_resolves_into_the_receipt_patterns() -> None:
    by_name = {rule.name: rule.pattern for rule in routing.routing_rules(pulumi.Output.from_input(BUCKET))}

    expected = routing.receipt_created_pattern(BUCKET)
    assert resolved(by_name["receipt-ready"]) == resolved(by_name["forward-receipts"]) == expected


def test_names_agree_with_the_handlers_side_of_the_contract() -> None:
    # docs/contracts.md is implemented twice (program and Lambda code); both must say the same.
    from shared.models import events

    assert routing.ORDER_EVENT_SOURCE == events.EVENT_SOURCE
    assert (
        routing.ORDER_PLACED,
        routing.ORDER_ACCEPTED,
        routing.ORDER_REJECTED,
        routing.ORDER_FULFILLED,
        routing.ORDER_FAILED,
    ) == (
        events.ORDER_PLACED,
        events.ORDER_ACCEPTED,
        events.ORDER_REJECTED,
        events.ORDER_FULFILLED,
        events.ORDER_FAILED,
    )
    assert set(routing.ORDER_STATUS_DETAIL_TYPES) == set(events.ORDER_STATUS_DETAILS)
    assert routing.S3_OBJECT_CREATED == events.S3_OBJECT_CREATED


# ---- what the handlers really put, routed by moto's PutEvents ----------------------------------------

CORRELATION = {"orderId": ORDER_ID, "customerId": "c-1", "correlationId": "r-1"}
STATUS_DETAILS: dict[str, dict[str, Any]] = {
    "OrderAccepted": {"tier": "NEW"},
    "OrderRejected": {"reason": "CUSTOMER_BLOCKED", "message": "We cannot take this order."},
    "OrderFulfilled": {"shipmentId": "s-1", "receiptKey": f"receipts/c-1/{ORDER_ID}.json"},
    "OrderFailed": {"reason": "OUT_OF_STOCK", "message": "An item ran out."},
}
PLACED_DETAIL = {
    "items": [{"sku": "TEA-01", "quantity": 1, "unitPriceCents": 450}],
    "totalCents": 450,
    "currency": "EUR",
    "placedAt": "2026-01-31T12:00:00Z",
}


def test_what_the_publisher_puts_reaches_exactly_its_rules_through_moto_put_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Independent of the patterns' own checks: the handlers' EventPublisher puts contract-valid events,
    # and moto's PutEvents (not this module) decides which rule's queue receives each.
    from shared.bus import EventPublisher
    from shared.models import events

    for variable, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(variable, value)
    with mock_aws():
        client = boto3.client("events", region_name="eu-west-1")
        sqs = boto3.client("sqs", region_name="eu-west-1")
        client.create_event_bus(Name="orders")
        queues: dict[str, str] = {}
        for rule in routing.routing_rules(BUCKET):
            if rule.bus != routing.CUSTOM_BUS:
                continue
            queues[rule.name] = sqs.create_queue(QueueName=rule.name)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queues[rule.name], AttributeNames=["QueueArn"])
            client.put_rule(Name=rule.name, EventBusName="orders", EventPattern=json.dumps(rule.pattern))
            client.put_targets(
                Rule=rule.name,
                EventBusName="orders",
                Targets=[{"Id": "queue", "Arn": queue_arn["Attributes"]["QueueArn"]}],
            )
        publisher = EventPublisher(client, "orders")
        publisher.publish(events.ORDER_PLACED, events.OrderPlacedDetail.model_validate(CORRELATION | PLACED_DETAIL))
        for detail_type, detail in STATUS_DETAILS.items():
            publisher.publish(
                detail_type, events.ORDER_STATUS_DETAILS[detail_type].model_validate(CORRELATION | detail)
            )

        received = {
            rule: sorted(
                json.loads(message["Body"])["detail-type"]
                for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            )
            for rule, url in queues.items()
        }

    assert received == {
        "order-placed": ["OrderPlaced"],
        "order-status": sorted(STATUS_DETAILS),
        "audit": sorted(["OrderPlaced", *STATUS_DETAILS]),
        "operator-failures": [],  # the OrderFailed put here is a stock-out: the customer's outcome
        "receipt-ready": [],
    }
