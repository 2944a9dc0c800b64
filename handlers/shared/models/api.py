"""Bodies of the HTTP API (``POST /orders``, ``GET /orders/{orderId}``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from shared.models.common import ContractModel, OrderStatus, RequestModel, ShippingAddress

MAX_ORDER_LINES = 50
MAX_LINE_QUANTITY = 100


class OrderLineRequest(RequestModel):
    """One line of a new order: which product and how many."""

    sku: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


def _unique_skus(lines: list[OrderLineRequest]) -> list[OrderLineRequest]:
    # One line per SKU: the reservation updates each SKU once in a single transaction.
    seen: set[str] = set()
    for line in lines:
        if line.sku in seen:
            raise ValueError(f"sku {line.sku!r} appears on more than one line; merge the quantities")
        seen.add(line.sku)
    return lines


class CreateOrderRequest(RequestModel):
    """Body of ``POST /orders``. Prices are never taken from the client: they come from the catalogue."""

    items: Annotated[
        list[OrderLineRequest],
        Field(min_length=1, max_length=MAX_ORDER_LINES),
        AfterValidator(_unique_skus),
    ]
    shipping_address: ShippingAddress


class CreateOrderResponse(ContractModel):
    """Body of the ``202 Accepted`` reply; replayed verbatim for a retried request."""

    order_id: str
    status: OrderStatus
    status_url: str
    realtime_topic: str
    total_cents: int
    currency: str


class FieldError(ContractModel):
    """One problem with a request, naming the field (``items.0.quantity``) or header."""

    field: str
    message: str


class ErrorBody(ContractModel):
    """Body of every 4xx/5xx reply of the HTTP API."""

    error: str
    fields: list[FieldError] = Field(default_factory=list)
