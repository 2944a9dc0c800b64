"""``notify`` against moto: one IoT publish per status event and receipt, once per order and notification type."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from tests.handlers.handlers_testkit import (
    ACCOUNT,
    ALICE,
    IOT_DATA_ENDPOINT,
    REGION,
    AwsWorld,
    LambdaContext,
    client_error,
    correlated,
    eventbridge_event,
    make_calls_fail,
    metric_names,
    new_order_id,
)

HANDLER = "notify"
CUSTOMER_MESSAGES = json.loads(
    (Path(__file__).parents[2] / "handlers" / "shared" / "customer_messages.json").read_text()
)


FAILED: dict[str, Any] = {"reason": "OUT_OF_STOCK", "message": CUSTOMER_MESSAGES["OUT_OF_STOCK"]}


def receipt_created(key: str, event_id: str = "s3-event-1") -> dict[str, Any]:
    detail = {
        "version": "0",
        "bucket": {"name": "orderflow-receipts"},
        "object": {"key": key, "size": 512, "etag": "abc", "sequencer": "00"},
        "request-id": "R1",
        "requester": "123456789012",
        "reason": "PutObject",
    }
    return eventbridge_event("Object Created", detail, event_id=event_id, source="aws.s3")


@pytest.mark.parametrize(
    ("detail_type", "extra", "status"),
    [
        ("OrderAccepted", {"tier": "VIP"}, "ACCEPTED"),
        ("OrderRejected", {"reason": "CUSTOMER_BLOCKED", "message": CUSTOMER_MESSAGES["CUSTOMER_BLOCKED"]}, "REJECTED"),
        ("OrderFulfilled", {"shipmentId": "shp_1", "receiptKey": "receipts/a/b.json"}, "FULFILLED"),
        ("OrderFailed", {"reason": "PAYMENT_DECLINED", "message": CUSTOMER_MESSAGES["PAYMENT_DECLINED"]}, "FAILED"),
    ],
)
def test_a_status_event_reaches_the_customers_topic(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, detail_type: str, extra: dict[str, Any], status: str
) -> None:
    order_id = new_order_id()
    event = eventbridge_event(detail_type, correlated(order_id) | extra, time="2026-01-01T12:30:00Z")

    result = app.lambda_handler(event, context)

    topic = f"orders/{ALICE}/{order_id}"
    assert result == {"type": detail_type, "topic": topic}
    expected = {
        "type": detail_type,
        "orderId": order_id,
        "customerId": ALICE,
        "correlationId": "corr-1",
        "status": status,
        "occurredAt": "2026-01-01T12:30:00Z",
        "details": extra,
    }
    assert aws.iot_publishes() == [(topic, expected)]


def test_a_duplicate_delivery_publishes_once(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"}, event_id="evt-dup")

    first = app.lambda_handler(event, context)
    second = app.lambda_handler(event, context)

    assert second == first
    assert len(aws.iot_publishes()) == 1
    assert "NotificationsDeduplicated" in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("detail_type", "extra"),
    [
        ("OrderFulfilled", {"shipmentId": "shp_1", "receiptKey": "receipts/a/b.json"}),
        ("OrderFailed", FAILED),
        ("OrderRejected", {"reason": "CUSTOMER_BLOCKED", "message": "Please contact us."}),
    ],
)
def test_an_event_put_twice_with_new_ids_is_published_once(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, detail_type: str, extra: dict[str, Any]
) -> None:
    # PutOrderFulfilled retried after a lost response puts a second event: same order, another EventBridge id.
    detail = correlated(new_order_id()) | extra

    app.lambda_handler(eventbridge_event(detail_type, detail, event_id="put-1"), context)
    app.lambda_handler(eventbridge_event(detail_type, detail, event_id="put-2"), context)

    assert len(aws.iot_publishes()) == 1


def test_each_notification_type_and_each_order_is_published(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    first, second = new_order_id(), new_order_id()

    app.lambda_handler(eventbridge_event("OrderAccepted", correlated(first) | {"tier": "NEW"}), context)
    app.lambda_handler(eventbridge_event("OrderFailed", correlated(first) | FAILED), context)
    app.lambda_handler(eventbridge_event("OrderAccepted", correlated(second) | {"tier": "NEW"}), context)

    assert [(message["orderId"], message["type"]) for _, message in aws.iot_publishes()] == [
        (first, "OrderAccepted"),
        (first, "OrderFailed"),
        (second, "OrderAccepted"),
    ]


def test_only_customer_visible_fields_reach_the_customer(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    # Whatever a producer adds (a raw cause, an operator's note) stays out of the browser.
    leaked = {"error": '{"errorMessage": "boom", "stackTrace": ["File \\"/var/task/app.py\\""]}', "internal": 1}
    event = eventbridge_event("OrderFailed", correlated(new_order_id()) | FAILED | leaked)

    app.lambda_handler(event, context)

    [(_, message)] = aws.iot_publishes()
    assert message["details"] == FAILED
    assert "stackTrace" not in json.dumps(message) and "boom" not in json.dumps(message)


def test_a_new_receipt_becomes_a_receipt_ready_notification(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()
    key = f"receipts/{ALICE}/{order_id}.json"

    app.lambda_handler(receipt_created(key, event_id="s3-1"), context)
    app.lambda_handler(receipt_created(key, event_id="s3-1"), context)
    # WriteReceipt retried after a lost response writes the object again: S3 sends a new event.
    app.lambda_handler(receipt_created(key, event_id="s3-2"), context)

    [(topic, message)] = aws.iot_publishes()
    assert topic == f"orders/{ALICE}/{order_id}"
    assert message["type"] == "ReceiptReady"
    assert (message["orderId"], message["customerId"], message["correlationId"]) == (order_id, ALICE, "s3-1")
    # The bucket's name (account id and region) is infrastructure, not the customer's business.
    assert message["details"] == {"receiptKey": key}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
@pytest.mark.parametrize(
    "event",
    [
        receipt_created("invoices/2026/01.pdf"),
        receipt_created("receipts/only-one-level.json"),
        eventbridge_event("OrderPlaced", correlated("6b1d9a4e-2f7c-4e8a-9d3b-5c6e7f8a9b0c")),
        eventbridge_event("Object Created", {"bucket": {"name": "b"}, "object": {"key": "k"}}, source="custom"),
        eventbridge_event(
            "OrderFailed",
            correlated(new_order_id())
            | {"reason": "PAYMENT_DECLINED", "message": "Re-enter your card at evil.example"},
            source="attacker.orders",
        ),
    ],
    ids=["other-prefix", "no-customer-level", "not-a-status-event", "not-from-s3", "forged-source"],
)
def test_an_event_it_does_not_handle_fails_and_publishes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, event: dict[str, Any]
) -> None:
    with pytest.raises(Exception) as raised:
        app.lambda_handler(event, context)

    assert type(raised.value).__name__ == "UnsupportedEvent"
    assert aws.iot_publishes() == []
    assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
def test_a_detail_missing_a_contract_field_fails_naming_it(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    detail = {"orderId": new_order_id(), "correlationId": "c", "tier": "NEW"}

    with pytest.raises(ValidationError) as raised:
        app.lambda_handler(eventbridge_event("OrderAccepted", detail), context)

    assert [error["loc"] for error in raised.value.errors()] == [("customerId",)]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
def test_a_publish_failure_raises_and_a_retry_publishes(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = eventbridge_event("OrderFailed", correlated(new_order_id()) | FAILED)
    with monkeypatch.context() as patched:
        make_calls_fail(patched, app.iot_data, "publish", client_error("InternalError", 500))
        with pytest.raises(Exception, match="InternalError"):
            app.lambda_handler(event, context)
        # Powertools forgets the key of the failed step, so Lambda's retry is not skipped as a duplicate.
        assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []

    app.lambda_handler(event, context)

    assert len(aws.iot_publishes()) == 1


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
def test_an_event_without_an_id_is_refused(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    del event["id"]

    with pytest.raises(ValidationError) as raised:
        app.lambda_handler(event, context)

    assert [error["loc"] for error in raised.value.errors()] == [("id",)]
    assert aws.iot_publishes() == []


def test_a_concurrent_duplicate_succeeds_without_publishing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    # Powertools' in-progress record stops a second invocation handling the same notification meanwhile; that
    # copy is done (the first one owns the work), not a failure for Lambda to retry and dead-letter.
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    inner = app.iot_data.publish
    duplicates: list[Any] = []

    def deliver_the_duplicate_meanwhile(**request: Any) -> Any:
        duplicates.append(app.lambda_handler(eventbridge_event(event["detail-type"], event["detail"]), context))
        return inner(**request)

    app.iot_data.publish = deliver_the_duplicate_meanwhile
    try:
        first = app.lambda_handler(event, context)
    finally:
        app.iot_data.publish = inner
    later = app.lambda_handler(eventbridge_event(event["detail-type"], event["detail"]), context)

    assert duplicates == [first]
    assert later == first
    assert len(aws.iot_publishes()) == 1


def test_moto_records_iot_publishes_where_the_tests_read_them(aws: AwsWorld) -> None:
    # Canary: these tests read moto's internal list of IoT publishes; fail loudly if it moves or changes shape.
    from moto.iotdata.models import iotdata_backends

    backend = iotdata_backends[ACCOUNT][REGION]
    assert backend.published_payloads == []

    boto3.client("iot-data", endpoint_url=f"https://{IOT_DATA_ENDPOINT}").publish(topic="canary/t", payload=b"{}")

    assert backend.published_payloads == [("canary/t", b"{}")]


def test_idempotency_records_start_with_the_function_name_its_role_is_limited_to(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The role may touch only records whose key starts "<function name>." (dynamodb:LeadingKeys, __main__.py).
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orderflow-dev-notify")

    app.lambda_handler(eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"}), context)

    records = aws.scan("IDEMPOTENCY_TABLE_NAME")
    assert len(records) == len(app.CHANNELS) == 1  # one per channel: the live update
    assert all(record["id"].startswith("orderflow-dev-notify.") for record in records)


def test_a_copy_the_idempotency_table_refuses_after_the_other_copy_published_succeeds_without_publishing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EventBridge delivered the event twice; the first copy published, the second copy's in-progress record is
    # throttled. That copy is a duplicate of delivered work: done, not a failure for notify-failures.
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    first = app.lambda_handler(event, context)
    make_calls_fail(monkeypatch, app.dynamodb, "put_item", client_error("ThrottlingException"))

    second = app.lambda_handler(eventbridge_event(event["detail-type"], event["detail"]), context)

    assert second == first
    assert len(aws.iot_publishes()) == 1


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
def test_a_copy_the_idempotency_table_refuses_before_anyone_published_fails_for_a_retry(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    make_calls_fail(monkeypatch, app.dynamodb, "put_item", client_error("ThrottlingException"))

    with pytest.raises(Exception) as raised:
        app.lambda_handler(event, context)

    assert type(raised.value).__name__ == "IdempotencyPersistenceLayerError"
    assert aws.iot_publishes() == []


def test_a_completion_record_written_with_its_response_lost_is_done_and_a_redelivery_publishes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ReadTimeoutError

    event = eventbridge_event("OrderFulfilled", correlated(new_order_id()) | {"shipmentId": "s", "receiptKey": "r"})
    update_item = app.dynamodb.update_item

    def applied_then_lost(**request: Any) -> Any:
        update_item(**request)
        raise ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")

    with monkeypatch.context() as patched:
        patched.setattr(app.dynamodb, "update_item", applied_then_lost)
        # Powertools could not confirm the completion, but the record says it: the invocation succeeds.
        first = app.lambda_handler(event, context)

    redelivered = app.lambda_handler(event, context)

    assert first == redelivered == {"type": "OrderFulfilled", "topic": first["topic"]}
    assert len(aws.iot_publishes()) == 1


# ---- the live update is its own idempotent step: a retry skips it once it published ---------------------------

DYING_CONTEXT = LambdaContext(remaining_millis=0)
"""The context of an invocation that fails: its in-progress records have expired when Lambda retries (1 min
later, past the function's timeout), as they have on AWS."""


def fail_nth_call(monkeypatch: pytest.MonkeyPatch, client: Any, method: str, nth: int, error: Exception) -> None:
    """Make the ``nth`` call of ``client.<method>`` raise ``error`` (unapplied); the others go through."""
    original = getattr(client, method)
    calls = 0

    def failing_once(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            raise error
        return original(**kwargs)

    monkeypatch.setattr(client, method, failing_once)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed event emits none
def test_a_retry_after_the_live_update_completion_write_failed_publishes_it_again(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one duplicate left on the live channel: IoT accepted the publish, the record saying so was never
    # written, so nothing can tell the retry it went out. The fault run allows exactly this case and counts it.
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    with monkeypatch.context() as patched:
        fail_nth_call(patched, app.dynamodb, "update_item", 1, client_error("InternalServerError", 500))
        with pytest.raises(Exception) as raised:
            app.lambda_handler(event, DYING_CONTEXT)
    assert type(raised.value).__name__ == "IdempotencyPersistenceLayerError"

    app.lambda_handler(event, context)

    assert len(aws.iot_publishes()) == 2


def test_a_redelivery_after_the_live_update_published_publishes_nothing_and_counts_the_skip(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = eventbridge_event("OrderFulfilled", correlated(new_order_id()) | {"shipmentId": "s", "receiptKey": "r"})
    app.lambda_handler(event, context)
    capsys.readouterr()

    app.lambda_handler(event, context)

    assert len(aws.iot_publishes()) == 1
    assert "LiveUpdatesPublished" not in metric_names(capsys.readouterr().out)
