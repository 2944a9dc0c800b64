"""EventBridge events on the orderflow bus: one detail model per detail-type (the envelope is in ``envelope``).

The detail-types and their fields are fixed by docs/contracts.md (Events).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel, Field

from shared.models.common import ContractModel, CorrelatedPayload, Tier

EVENT_SOURCE: Final = "orderflow.orders"
"""Source of every event the order system puts on its bus."""

ORDER_PLACED: Final = "OrderPlaced"
ORDER_ACCEPTED: Final = "OrderAccepted"
ORDER_REJECTED: Final = "OrderRejected"
ORDER_FULFILLED: Final = "OrderFulfilled"
ORDER_FAILED: Final = "OrderFailed"
S3_OBJECT_CREATED: Final = "Object Created"
"""detail-type of the S3 event forwarded from the default bus (source ``aws.s3``)."""
RECEIPT_READY: Final = "ReceiptReady"
"""Notification type ``notify`` derives from an ``Object Created`` event of the receipts bucket."""

CUSTOMER_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    json.loads(Path(__file__).parents[1].joinpath("customer_messages.json").read_text())
)
"""Reason code → the one sentence a customer is shown for it; ``*`` for a code without its own sentence.

The workflows write these codes and sentences (``orderflow/workflows.py`` reads the same file), and the
customer is only ever shown a sentence from here: never an event's own ``message``, which anyone able to
put an event could have written."""
REASON_CODE_PATTERN: Final = r"^[A-Z][A-Z0-9_]*$"
"""A stable upper-snake reason code (``OUT_OF_STOCK``); new codes may appear, so consumers accept any."""
CUSTOMER_MESSAGE_MAX_LENGTH: Final = 200


class OrderLine(ContractModel):
    """A priced order line (``items[]`` of ``OrderPlaced``)."""

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(ge=0)


class OrderPlacedDetail(CorrelatedPayload):
    """Detail of ``OrderPlaced``, put by ``create_order``."""

    items: list[OrderLine] = Field(min_length=1)
    total_cents: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    placed_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T")


class OrderAcceptedDetail(CorrelatedPayload):
    """Detail of ``OrderAccepted``, put by the customer-status workflow."""

    tier: Tier


class OrderRejectedDetail(CorrelatedPayload):
    """Detail of ``OrderRejected``, put by the customer-status workflow."""

    reason: str = Field(pattern=REASON_CODE_PATTERN)
    message: str = Field(min_length=1, max_length=CUSTOMER_MESSAGE_MAX_LENGTH)
    """A short sentence the customer may read; the raw cause never leaves the logs and ops queues."""


class OrderFulfilledDetail(CorrelatedPayload):
    """Detail of ``OrderFulfilled``, put by the fulfillment workflow."""

    shipment_id: str
    receipt_key: str


class OrderFailedDetail(CorrelatedPayload):
    """Detail of ``OrderFailed``, put by the fulfillment workflow."""

    reason: str = Field(pattern=REASON_CODE_PATTERN)
    message: str = Field(min_length=1, max_length=CUSTOMER_MESSAGE_MAX_LENGTH)
    """A short sentence the customer may read; the raw cause never leaves the logs and ops queues."""


ORDER_STATUS_DETAILS: Final[dict[str, type[CorrelatedPayload]]] = {
    ORDER_ACCEPTED: OrderAcceptedDetail,
    ORDER_REJECTED: OrderRejectedDetail,
    ORDER_FULFILLED: OrderFulfilledDetail,
    ORDER_FAILED: OrderFailedDetail,
}
"""Status events a customer is told about, by detail-type."""

ONCE_PER_ORDER: Final = frozenset({ORDER_PLACED, *ORDER_STATUS_DETAILS, RECEIPT_READY})
"""What happens at most once in an order's life: a second event of one of these types is a duplicate
(a retried PutEvents, a rewritten receipt), whatever EventBridge id it carries."""

CORRELATION_FIELDS: Final = ("orderId", "customerId", "correlationId")
CUSTOMER_VISIBLE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    ORDER_PLACED: ("items", "totalCents", "currency", "placedAt"),
    ORDER_ACCEPTED: ("tier",),
    ORDER_REJECTED: ("reason", "message"),
    ORDER_FULFILLED: ("shipmentId", "receiptKey"),
    ORDER_FAILED: ("reason", "message"),
    RECEIPT_READY: ("receiptKey",),
}
"""Detail fields, besides :data:`CORRELATION_FIELDS`, that may reach a customer (timeline, live updates)."""


def customer_message(reason: Any) -> str:
    """Our sentence for a reason code (:data:`CUSTOMER_MESSAGES`), the generic one for any other code."""
    return CUSTOMER_MESSAGES.get(str(reason), CUSTOMER_MESSAGES["*"])


def customer_view(detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The allow-listed part of an event detail: what a customer may be shown.

    Parameters
    ----------
    detail_type:
        The event's detail-type.
    detail:
        The detail as stored or received.

    Returns
    -------
    dict
        The correlation fields and the type's customer-visible fields that are present; nothing else, so
        a field added for operators (or a legacy ``error``) never reaches a browser. ``message`` is our
        sentence for the event's ``reason`` (:func:`customer_message`), never the event's own text.
    """
    allowed = (*CORRELATION_FIELDS, *CUSTOMER_VISIBLE_FIELDS.get(detail_type, ()))
    view = {name: detail[name] for name in allowed if name in detail}
    if "message" in view:
        view["message"] = customer_message(view.get("reason"))
    return view


class S3Bucket(BaseModel):
    """``detail.bucket`` of an S3 ``Object Created`` event."""

    name: str = Field(min_length=1)


class S3Object(BaseModel):
    """``detail.object`` of an S3 ``Object Created`` event."""

    key: str = Field(min_length=1)
    size: int | None = None


class S3ObjectCreatedDetail(BaseModel):
    """Detail of the S3 ``Object Created`` event (EventBridge notification format)."""

    bucket: S3Bucket
    object: S3Object
