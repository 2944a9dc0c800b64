"""Tell the customer about their order on their live channel: IoT Core (the browser's MQTT connection).

Triggered asynchronously by bus rules with:

- order status events (``OrderAccepted``, ``OrderRejected``, ``OrderFulfilled``, ``OrderFailed``), and
- S3 ``Object Created`` events of the receipts bucket (key ``receipts/<customerId>/<orderId>.json``),
  forwarded from the default bus, which become a ``ReceiptReady`` notification.

Each notification goes to the IoT topic ``<REALTIME_TOPIC_PREFIX>/<customerId>/<orderId>``. It carries only
the allow-listed fields of its event (``shared.models.events.customer_view``), never anything else a
producer may add. Nothing is e-mailed per status: the page shows the status, and operators hear of failed
and parked orders from their own topic (``docs/operations.md``, "Who is told what").

Status events are accepted only from the order system's own source: the bus policy and the publishers'
IAM conditions already refuse forged ones, and this check holds even if they are loosened.

Any failure raises, so Lambda retries and then hands the event to the on-failure destination.
Once per order, notification type and channel: each notification happens once in an order's life, so a
duplicate (the same event delivered twice, or put twice after a lost PutEvents response, or a receipt
written twice) publishes nothing. Each channel (:data:`CHANNELS`) is its own Powertools idempotent step,
recording ``[orderId, type]`` under its own key once it published, so a channel added later never makes a
retry publish again on a channel that already went out. A duplicate is done, never a failure: one that
arrives while the first copy is still publishing succeeds too (that copy owns the work), so the on-failure
queue only ever holds notifications nobody delivered.

One window stays open, as for any publish to a system outside the idempotency table: when a channel
published but its completion record was never written (the UpdateItem failed unapplied, or the function
was killed at it), the in-progress record expires and Lambda's retry publishes that channel again. Every
notification carries ``orderId`` and ``type``, which identify it, so the page drops the copy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemNotFoundError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.parser import event_parser, parse
from botocore.exceptions import BotoCoreError, ClientError

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.models.common import ContractModel
from shared.models.envelope import BusEvent
from shared.models.events import (
    CORRELATION_FIELDS,
    EVENT_SOURCE,
    ORDER_STATUS_DETAILS,
    RECEIPT_READY,
    S3_OBJECT_CREATED,
    S3ObjectCreatedDetail,
    customer_view,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

IOT_DATA_ENDPOINT: Final = os.environ["IOT_DATA_ENDPOINT"]
REALTIME_TOPIC_PREFIX: Final = os.environ["REALTIME_TOPIC_PREFIX"]
IDEMPOTENCY_TABLE_NAME: Final = os.environ["IDEMPOTENCY_TABLE_NAME"]

RECEIPT_KEY: Final = re.compile(r"^receipts/(?P<customer_id>[^/]+)/(?P<order_id>[^/]+)\.json$")
# Lambda retries an async event for up to 6 hours and EventBridge redelivers for up to a day: remember
# what was published a little longer than both.
IDEMPOTENCY_WINDOW_SECONDS: Final = 25 * 60 * 60
STATUS_BY_DETAIL_TYPE: Final = {
    "OrderAccepted": "ACCEPTED",
    "OrderRejected": "REJECTED",
    "OrderFulfilled": "FULFILLED",
    "OrderFailed": "FAILED",
}

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

iot_data = boto3.client("iot-data", endpoint_url=f"https://{IOT_DATA_ENDPOINT}")
dynamodb = boto3.client("dynamodb")


def _count_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    # Powertools calls this only when it skips a channel it already published.
    metrics.add_metric(name="NotificationsDeduplicated", unit=MetricUnit.Count, value=1)
    return response


idempotency_config = IdempotencyConfig(
    event_key_jmespath="[orderId, type]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
    response_hook=_count_duplicate,
)
# One store per channel: each idempotent step keeps its own records, "<function name>.app.<step>#<hash>".
live_update_store = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE_NAME, boto3_client=dynamodb)


class UnsupportedEvent(Exception):  # noqa: N818 - reads as the condition it reports
    """An event this function is not meant to receive (a rule sends the wrong events)."""


class NotifiedEvent(BusEvent):
    """A status event or a receipt's ``Object Created`` event; :func:`notification_for` parses ``detail`` by type."""

    detail: dict[str, Any]


class CustomerNotification(ContractModel):
    """What the customer's browser receives on its order's IoT topic."""

    type: str
    order_id: str
    customer_id: str
    correlation_id: str
    status: str | None = None
    occurred_at: str
    details: dict[str, Any]


def notification_for(event: NotifiedEvent) -> CustomerNotification:
    """Turn a bus event into the customer notification.

    Parameters
    ----------
    event:
        The EventBridge envelope.

    Returns
    -------
    CustomerNotification
        Type, order, customer, status and the event's specific fields.

    Raises
    ------
    UnsupportedEvent
        For another detail-type or source, or an object key outside ``receipts/<customerId>/<orderId>.json``.
    pydantic.ValidationError
        When the detail lacks a contract field (names it).
    """
    detail_model = ORDER_STATUS_DETAILS.get(event.detail_type)
    if detail_model is not None and event.source == EVENT_SOURCE:
        detail = parse(event=event.detail, model=detail_model)
        visible = customer_view(event.detail_type, detail.model_dump(mode="json"))
        return CustomerNotification(
            type=event.detail_type,
            order_id=detail.order_id,
            customer_id=detail.customer_id,
            correlation_id=detail.correlation_id,
            status=STATUS_BY_DETAIL_TYPE[event.detail_type],
            occurred_at=utc_timestamp(event.time),
            details={key: value for key, value in visible.items() if key not in CORRELATION_FIELDS},
        )
    if event.detail_type == S3_OBJECT_CREATED and event.source == "aws.s3":
        created = parse(event=event.detail, model=S3ObjectCreatedDetail)
        match = RECEIPT_KEY.match(created.object.key)
        if match is None:
            raise UnsupportedEvent(f"object key {created.object.key!r} is not receipts/<customerId>/<orderId>.json")
        return CustomerNotification(
            type=RECEIPT_READY,
            order_id=match["order_id"],
            customer_id=match["customer_id"],
            # S3 knows nothing of our correlation ids; the event id ties the logs together instead.
            correlation_id=event.id,
            occurred_at=utc_timestamp(event.time),
            details={"receiptKey": created.object.key},
        )
    raise UnsupportedEvent(f"no notification for {event.source} / {event.detail_type}")


def topic_of(notification: CustomerNotification) -> str:
    """The customer's IoT topic for this order: ``<REALTIME_TOPIC_PREFIX>/<customerId>/<orderId>``."""
    return f"{REALTIME_TOPIC_PREFIX}/{notification.customer_id}/{notification.order_id}"


def published_already(store: DynamoDBPersistenceLayer, notification: CustomerNotification) -> bool:
    """Whether ``store`` holds a completed record for this notification (False when it cannot tell)."""
    try:
        record = store.get_record(notification.model_dump(mode="json"))
    except (IdempotencyItemNotFoundError, ClientError, BotoCoreError):
        return False
    return record is not None and record.status == "COMPLETED" and not record.is_expired


@tracer.capture_method
@idempotent_function(
    data_keyword_argument="notification",
    persistence_store=live_update_store,
    config=idempotency_config,
)
def publish_live_update(*, notification: CustomerNotification) -> dict[str, Any]:
    """Publish to the customer's IoT topic, once per order and notification type.

    Parameters
    ----------
    notification:
        What to send; passed by keyword, Powertools keys it on ``[orderId, type]``.

    Returns
    -------
    dict[str, Any]
        ``{"channel": "iot", "topic": ...}`` (stored by Powertools and returned again for a duplicate).
    """
    topic = topic_of(notification)
    iot_data.publish(topic=topic, qos=1, payload=notification.model_dump_json().encode())
    metrics.add_metric(name="LiveUpdatesPublished", unit=MetricUnit.Count, value=1)
    return {"channel": "iot", "topic": topic}


CHANNELS: Final = ((publish_live_update, live_update_store),)
"""Each channel's idempotent step and its store, in publishing order: the browser's live update only."""


@logger.inject_lambda_context(correlation_id_path="detail.correlationId || id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=NotifiedEvent)
def lambda_handler(event: NotifiedEvent, context: LambdaContext) -> dict[str, Any]:
    """EventBridge (asynchronous) entry point: one status event or receipt in, ``{type, topic}`` out."""
    idempotency_config.register_lambda_context(context)
    notification = notification_for(event)
    for publish, store in CHANNELS:
        publish_once(publish, store, notification)
    logger.info("Notification handled", type=notification.type, topic=topic_of(notification))
    return {"type": notification.type, "topic": topic_of(notification)}


def publish_once(
    publish: Callable[..., dict[str, Any]], store: DynamoDBPersistenceLayer, notification: CustomerNotification
) -> None:
    """Run one channel's idempotent step; a copy whose channel another copy owns is done, not a failure.

    Parameters
    ----------
    publish:
        The channel's idempotent step.
    store:
        Its Powertools persistence layer (read when the idempotency table refused this copy).
    notification:
        What to send.

    Raises
    ------
    Exception
        Whatever the publish raised, or ``IdempotencyPersistenceLayerError`` when the table refused this copy
        and no completed record shows the channel published: Lambda retries the event.
    """
    try:
        publish(notification=notification)
    except IdempotencyPersistenceLayerError:
        # The idempotency table refused this copy (throttled), or the completion write failed: if a completed
        # record shows the channel published (another copy, or this one's write applied), this one is done.
        if not published_already(store, notification):
            raise
        _count_skipped(notification, publish.__name__, "already published")
    except IdempotencyAlreadyInProgressError:
        # Another copy is publishing this channel right now: it is done or being done. If that invocation
        # fails, Powertools drops its record and Lambda retries it; if it dies, its record expires with its
        # timeout (10 s), well before Lambda's first retry (1 min), so nothing waits on a dead owner.
        _count_skipped(notification, publish.__name__, "being published by another copy")


def _count_skipped(notification: CustomerNotification, step: str, why: str) -> None:
    """Count a channel this copy skipped because another copy owns it."""
    metrics.add_metric(name="NotificationsDeduplicated", unit=MetricUnit.Count, value=1)
    logger.info(f"Notification {why}; this copy is a duplicate", type=notification.type, step=step)
