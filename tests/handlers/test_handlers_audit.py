"""``audit`` against moto: one timeline row per event, partial batch failures, poison messages to the DLQ."""

from __future__ import annotations

import json
from collections import Counter
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.handlers.handlers_testkit import (
    AwsWorld,
    LambdaContext,
    client_error,
    correlated,
    eventbridge_event,
    metric_names,
    new_order_id,
    sqs_event,
    sqs_record,
)

HANDLER = "audit"

MAX_RECEIVE_COUNT = 3


def order_event(
    order_id: str, event_id: str, detail_type: str = "OrderPlaced", source: str = "orderflow.orders", **extra: Any
) -> str:
    detail = correlated(order_id) | extra
    event = eventbridge_event(detail_type, detail, event_id=event_id, time="2026-01-01T12:00:00Z", source=source)
    return json.dumps(event)


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_each_event_becomes_one_timeline_row(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    order_id = new_order_id()
    bodies = [
        order_event(order_id, "e1", totalCents=5097),
        order_event(order_id, "e2", "OrderAccepted", tier="VIP"),
        order_event(order_id, "e3", "AddressCorrected"),
    ]

    response = app.lambda_handler(sqs_event(bodies), context)

    assert response == {"batchItemFailures": []}
    rows = sorted(aws.scan("TIMELINE_TABLE_NAME"), key=lambda row: row["eventId"])
    # Once-per-order lifecycle events are keyed by their detail-type; any other event by time and id.
    assert [(row["orderId"], row["eventKey"], row["detailType"]) for row in rows] == [
        (order_id, "OrderPlaced", "OrderPlaced"),
        (order_id, "OrderAccepted", "OrderAccepted"),
        (order_id, "2026-01-01T12:00:00Z#e3", "AddressCorrected"),
    ]
    assert rows[0]["detail"]["totalCents"] == 5097
    assert rows[1]["correlationId"] == "corr-1"
    assert "TimelineEventsRecorded" in metric_names(capsys.readouterr().out)


def test_a_redelivered_message_adds_no_second_row(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    body = order_event(new_order_id(), "e1")
    app.lambda_handler(sqs_event([body]), context)
    after_first = aws.scan("TIMELINE_TABLE_NAME")

    response = app.lambda_handler(sqs_event([body, body]), context)

    assert response == {"batchItemFailures": []}
    assert aws.scan("TIMELINE_TABLE_NAME") == after_first


@pytest.mark.parametrize("detail_type", ["OrderPlaced", "OrderRejected", "OrderFulfilled", "OrderFailed"])
def test_a_lifecycle_event_put_twice_with_new_ids_is_recorded_once(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, detail_type: str
) -> None:
    # A PutEvents retried after a lost response puts the same event again, with another EventBridge id.
    order_id = new_order_id()
    first, again = order_event(order_id, "put-1", detail_type), order_event(order_id, "put-2", detail_type)

    app.lambda_handler(sqs_event([first]), context)
    response = app.lambda_handler(sqs_event([again]), context)

    assert response == {"batchItemFailures": []}
    assert [(row["detailType"], row["eventId"]) for row in aws.scan("TIMELINE_TABLE_NAME")] == [(detail_type, "put-1")]


def test_an_event_of_another_source_never_reaches_the_timeline(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    forged = order_event(new_order_id(), "forged", "OrderFailed", source="attacker.orders", reason="X", message="y")
    genuine = order_event(new_order_id(), "genuine")
    event = sqs_event([forged, genuine])

    response = app.lambda_handler(event, context)

    # It fails alone, so it ends in the dead-letter queue where an operator sees it.
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert [row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")] == ["genuine"]


def test_fractional_numbers_in_a_detail_are_kept(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    app.lambda_handler(sqs_event([order_event(new_order_id(), "e1", weightKg=1.25)]), context)

    [row] = aws.scan("TIMELINE_TABLE_NAME")
    assert row["detail"]["weightKg"] == 1.25


def test_poison_messages_fail_alone(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    event = sqs_event(
        [
            order_event(new_order_id(), "good-1"),
            "{this is not json",
            json.dumps(eventbridge_event("OrderPlaced", {"customerId": "c"}, event_id="no-order-id")),
            order_event(new_order_id(), "good-2"),
        ]
    )

    response = app.lambda_handler(event, context)

    records = event["Records"]
    assert failed_ids(response) == [records[1]["messageId"], records[2]["messageId"]]
    assert sorted(row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")) == ["good-1", "good-2"]


def test_a_batch_where_everything_fails_is_retried_whole(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    with pytest.raises(BatchProcessingError):
        app.lambda_handler(sqs_event(["not json", "[]"]), context)

    assert aws.scan("TIMELINE_TABLE_NAME") == []


def run_event_source_mapping(app: ModuleType, aws: AwsWorld, queue_url: str, context: LambdaContext) -> Counter[str]:
    """Poll like Lambda's SQS event source mapping with ReportBatchItemFailures; count receives per body."""
    receives: Counter[str] = Counter()
    for _ in range(4 * MAX_RECEIVE_COUNT):
        messages = aws.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        if not messages:
            return receives
        event = {
            "Records": [
                sqs_record(message["Body"], message_id=message["MessageId"], receipt_handle=message["ReceiptHandle"])
                for message in messages
            ]
        }
        try:
            failed = set(failed_ids(app.lambda_handler(event, context)))
        except BatchProcessingError:
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            receives[message["Body"]] += 1
            if message["MessageId"] not in failed:
                aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue never drained")


def test_a_poison_message_reaches_the_dlq_after_max_receive_count_and_the_rest_is_recorded(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    dlq_url = aws.sqs.create_queue(QueueName="order-audit-dlq")["QueueUrl"]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = aws.sqs.create_queue(
        QueueName="order-audit",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
        },
    )["QueueUrl"]
    good = [order_event(new_order_id(), "good-1"), order_event(new_order_id(), "good-2")]
    poison = json.dumps({"detail-type": "OrderPlaced", "detail": {"orderId": new_order_id()}})  # no id, time, source
    for body in [good[0], poison, good[1]]:
        aws.sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    receives = run_event_source_mapping(app, aws, queue_url, context)

    assert receives[poison] == MAX_RECEIVE_COUNT
    assert receives[good[0]] == receives[good[1]] == 1
    dead = aws.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in dead] == [poison]
    assert sorted(row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")) == ["good-1", "good-2"]


def test_a_throttled_write_fails_only_that_message(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_item = app.dynamodb.put_item

    def throttle_event_two(**request: Any) -> Any:
        if request["Item"]["eventId"]["S"] == "e2":
            raise client_error("ProvisionedThroughputExceededException")
        return put_item(**request)

    monkeypatch.setattr(app.dynamodb, "put_item", throttle_event_two)
    event = sqs_event([order_event(new_order_id(), event_id) for event_id in ("e1", "e2", "e3")])

    response = app.lambda_handler(event, context)

    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert sorted(row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")) == ["e1", "e3"]


def test_event_times_are_recorded_in_utc_and_a_time_without_a_zone_fails(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()
    offset = json.loads(order_event(order_id, "e1", "AddressCorrected")) | {"time": "2026-01-01T13:00:00+01:00"}
    zoneless = json.loads(order_event(order_id, "e2", "AddressCorrected")) | {"time": "2026-01-01T12:00:00"}
    event = sqs_event([json.dumps(offset), json.dumps(zoneless)])

    response = app.lambda_handler(event, context)

    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    [row] = aws.scan("TIMELINE_TABLE_NAME")
    assert (row["eventKey"], row["time"]) == ("2026-01-01T12:00:00Z#e1", "2026-01-01T12:00:00Z")


def test_a_copy_whose_write_is_throttled_after_the_other_copy_recorded_it_is_done_not_failed(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EventBridge delivered the event twice; the first copy was recorded, the second copy's write is throttled.
    body = order_event(new_order_id(), "e1")
    app.lambda_handler(sqs_event([body]), context)
    monkeypatch.setattr(
        app.dynamodb, "put_item", lambda **request: (_ for _ in ()).throw(client_error("ThrottlingException"))
    )

    event = sqs_event([body, order_event(new_order_id(), "e2")])

    response = app.lambda_handler(event, context)

    # The duplicate is done; only the new event, which is not on the timeline, fails (and is retried).
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert [row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")] == ["e1"]


def test_a_write_whose_response_was_lost_is_recorded_once_and_the_message_succeeds(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ReadTimeoutError

    put_item = app.dynamodb.put_item

    def applied_then_lost(**request: Any) -> Any:
        put_item(**request)
        raise ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")

    monkeypatch.setattr(app.dynamodb, "put_item", applied_then_lost)
    event = sqs_event([order_event(new_order_id(), "e1")])

    response = app.lambda_handler(event, context)

    assert failed_ids(response) == []
    assert [row["eventId"] for row in aws.scan("TIMELINE_TABLE_NAME")] == ["e1"]
