"""Append every order event to the order's timeline (SQS ``order-audit`` batch consumer).

Each SQS message body is an EventBridge event envelope. One row per event, key ``orderId`` +
``eventKey``, written only if absent: a redelivered message (SQS is at-least-once) finds its row and adds
nothing, and so does a copy whose write is throttled while the other copy's row is there already (a
duplicate is done, never a dead letter). The lifecycle events that happen once per order (``OrderPlaced``,
``OrderAccepted``...) are keyed by their detail-type, so a second copy put after a lost PutEvents response,
with another event id, is a duplicate too; any other event is keyed ``<event time>#<event id>``.

Only events of the order system's own source are recorded: anything else fails (to the dead-letter
queue, where an operator sees it) instead of reaching a customer's timeline.

Partial batch failures (Powertools Batch with the :class:`AuditMessage` parser model,
``ReportBatchItemFailures``): a message whose body is not an EventBridge event with an ``orderId``
fails alone and goes back to the queue; the rest of its batch is recorded and deleted. After the
queue's ``maxReceiveCount`` receives the poison message moves to the dead-letter queue. If every
message of a batch fails, Powertools raises, so the whole batch is retried.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import ConfigDict, Field, Json

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import put_if_absent, read_item
from shared.errors import TransientDependencyError
from shared.models.common import IDENTIFIER_MAX_LENGTH, ContractModel
from shared.models.envelope import BusEvent
from shared.models.events import EVENT_SOURCE, ONCE_PER_ORDER

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

TIMELINE_TABLE_NAME: Final = os.environ["TIMELINE_TABLE_NAME"]

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


class ForeignEvent(Exception):  # noqa: N818 - reads as the condition it reports
    """An event whose source is not the order system's: never written to a customer's timeline."""


class TimelineDetail(ContractModel):
    """What the timeline needs from any order event's detail (every order event carries these).

    The rest of the detail is kept as sent (``extra="allow"``): the timeline stores it whole.
    """

    model_config = ConfigDict(extra="allow")

    order_id: str = Field(min_length=1, max_length=IDENTIFIER_MAX_LENGTH)
    customer_id: str | None = None
    correlation_id: str | None = None


class TimelineEvent(BusEvent):
    """Any event on the bus, as the audit rule delivers it."""

    detail: TimelineDetail


class AuditMessage(SqsRecordModel):
    """One ``order-audit`` message; its body is the EventBridge event, parsed by Powertools Batch."""

    body: Json[TimelineEvent]


processor = BatchProcessor(event_type=EventType.SQS, model=AuditMessage)


def timeline_row(event: TimelineEvent) -> dict[str, Any]:
    """The timeline item for one event; the whole detail is kept, numbers as Decimal for DynamoDB."""
    once = event.detail_type in ONCE_PER_ORDER
    time = utc_timestamp(event.time)
    return {
        "orderId": event.detail.order_id,
        "eventKey": event.detail_type if once else f"{time}#{event.id}",
        "eventId": event.id,
        "detailType": event.detail_type,
        "source": event.source,
        "time": time,
        "customerId": event.detail.customer_id,
        "correlationId": event.detail.correlation_id,
        # DynamoDB has no float type: round-trip through JSON to turn every number into a Decimal.
        "detail": json.loads(event.detail.model_dump_json(exclude_unset=True), parse_float=Decimal),
        "recordedAt": utc_timestamp(),
    }


def _already_recorded(row: dict[str, Any]) -> bool:
    """Whether the row's key is on the timeline already (after this write was throttled); False if unknown."""
    key = {"orderId": row["orderId"], "eventKey": row["eventKey"]}
    try:
        return (
            read_item(dynamodb, TIMELINE_TABLE_NAME, key, dependency="timeline table", ProjectionExpression="eventKey")
            is not None
        )
    except TransientDependencyError:
        return False


@tracer.capture_method
def record_handler(record: AuditMessage) -> str:
    """Write one message's event to the timeline, once.

    Parameters
    ----------
    record:
        The SQS message, its body already parsed (a body that is not an EventBridge event with an
        ``orderId`` in its detail fails in Powertools, before this runs).

    Returns
    -------
    str
        ``"recorded"`` or ``"duplicate"``.

    Raises
    ------
    ForeignEvent
        For an event of another source.
    TransientDependencyError
        When the timeline table throttled or failed.
    """
    event = record.body
    if event.source != EVENT_SOURCE:
        raise ForeignEvent(f"event {event.id} has source {event.source!r}, not {EVENT_SOURCE!r}")
    logger.set_correlation_id(event.detail.correlation_id or event.id)
    row = timeline_row(event)
    try:
        existing = put_if_absent(dynamodb, TIMELINE_TABLE_NAME, row, key="eventKey", dependency="timeline table")
    except TransientDependencyError:
        if not _already_recorded(row):
            raise
        existing = row  # another copy wrote it: this one is done, not a message for the dead-letter queue
    if existing is not None:
        logger.info("Event already on the timeline", order_id=row["orderId"], event_key=row["eventKey"])
        metrics.add_metric(name="TimelineDuplicates", unit=MetricUnit.Count, value=1)
        return "duplicate"
    logger.info("Event recorded", order_id=row["orderId"], detail_type=event.detail_type)
    metrics.add_metric(name="TimelineEventsRecorded", unit=MetricUnit.Count, value=1)
    return "recorded"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS event source mapping entry point (``ReportBatchItemFailures``); raises when every message failed."""
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
