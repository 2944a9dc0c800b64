"""Append every order event to the order's timeline (SQS ``order-audit`` batch consumer).

Each SQS message body is an EventBridge event envelope. One row per event, key ``orderId`` +
``eventKey``, written only if absent: a redelivered message (SQS is at-least-once) finds its row and adds
nothing. The lifecycle events that happen once per order (``OrderPlaced``, ``OrderAccepted``...) are
keyed by their detail-type, so a second copy put after a lost PutEvents response, with another event id,
is a duplicate too; any other event is keyed ``<event time>#<event id>``.

Only events of the order system's own source are recorded: anything else fails (to the dead-letter
queue, where an operator sees it) instead of reaching a customer's timeline.

Partial batch failures (Powertools Batch, ``ReportBatchItemFailures``): a message that cannot be
parsed or has no ``orderId`` fails alone and goes back to the queue; the rest of its batch is
recorded and deleted. After the queue's ``maxReceiveCount`` receives the poison message moves to the
dead-letter queue. If every message of a batch fails, Powertools raises, so the whole batch is
retried.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.parser import parse
from botocore.exceptions import ClientError
from pydantic import Field

from shared.dynamo import is_condition_failure, to_item
from shared.errors import transient_dependency_errors
from shared.models.common import IDENTIFIER_MAX_LENGTH, ContractModel
from shared.models.events import EVENT_SOURCE, ONCE_PER_ORDER, EventBridgeEvent

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

TIMELINE_TABLE_NAME: Final = os.environ["TIMELINE_TABLE_NAME"]

logger = Logger()
# Patch only what this function calls: patch_all would import requests, sqlite3 and more just to
# patch them, which costs cold-start time for nothing.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

dynamodb = boto3.client("dynamodb")


class ForeignEvent(Exception):  # noqa: N818 - reads as the condition it reports
    """An event whose source is not the order system's: never written to a customer's timeline."""


class TimelineDetail(ContractModel):
    """What the timeline needs from any order event's detail (every order event carries these)."""

    order_id: str = Field(min_length=1, max_length=IDENTIFIER_MAX_LENGTH)
    customer_id: str | None = None
    correlation_id: str | None = None


def timeline_row(event: EventBridgeEvent, detail: TimelineDetail) -> dict[str, Any]:
    """The timeline item for one event.

    Parameters
    ----------
    event:
        The EventBridge envelope.
    detail:
        Its parsed detail.

    Returns
    -------
    dict[str, Any]
        Attributes of the row; the whole detail is kept, numbers as Decimal for DynamoDB.
    """
    once = event.detail_type in ONCE_PER_ORDER
    return {
        "orderId": detail.order_id,
        "eventKey": event.detail_type if once else f"{event.time}#{event.id}",
        "eventId": event.id,
        "detailType": event.detail_type,
        "source": event.source,
        "time": event.time,
        "customerId": detail.customer_id,
        "correlationId": detail.correlation_id,
        # DynamoDB has no float type: round-trip through JSON to turn every number into a Decimal.
        "detail": json.loads(json.dumps(event.detail), parse_float=Decimal),
        "recordedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    """Write one message's event to the timeline, once.

    Parameters
    ----------
    record:
        The SQS record; its body is an EventBridge event.

    Returns
    -------
    str
        ``"recorded"`` or ``"duplicate"``.

    Raises
    ------
    pydantic.ValidationError
        For a body that is not an EventBridge event or whose detail has no ``orderId``.
    ForeignEvent
        For an event of another source.
    TransientDependencyError
        When the timeline table throttled or failed.
    """
    event = parse(event=record.json_body, model=EventBridgeEvent)
    if event.source != EVENT_SOURCE:
        raise ForeignEvent(f"event {event.id} has source {event.source!r}, not {EVENT_SOURCE!r}")
    detail = parse(event=event.detail, model=TimelineDetail)
    logger.set_correlation_id(detail.correlation_id or event.id)
    row = timeline_row(event, detail)
    try:
        with transient_dependency_errors("timeline table"):
            dynamodb.put_item(
                TableName=TIMELINE_TABLE_NAME,
                Item=to_item(row),
                ConditionExpression="attribute_not_exists(eventKey)",
            )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        logger.info("Event already on the timeline", order_id=detail.order_id, event_key=row["eventKey"])
        metrics.add_metric(name="TimelineDuplicates", unit=MetricUnit.Count, value=1)
        return "duplicate"
    logger.info("Event recorded", order_id=detail.order_id, detail_type=event.detail_type)
    metrics.add_metric(name="TimelineEventsRecorded", unit=MetricUnit.Count, value=1)
    return "recorded"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS event source mapping entry point (``ReportBatchItemFailures`` enabled).

    Parameters
    ----------
    event:
        The SQS batch.
    context:
        The Lambda context.

    Returns
    -------
    PartialItemFailureResponse
        ``{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}``.

    Raises
    ------
    BatchProcessingError
        When every message of the batch failed.
    """
    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    except BatchProcessingError:
        metrics.add_metric(name="TimelineEventsRejected", unit=MetricUnit.Count, value=len(event["Records"]))
        raise
    failed = len(response.get("batchItemFailures", []))
    if failed:
        metrics.add_metric(name="TimelineEventsRejected", unit=MetricUnit.Count, value=failed)
    return response
