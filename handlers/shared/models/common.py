"""Base classes and enumerations shared by every contract model.

Wire names are camelCase (``orderId``); Python attributes are snake_case (``order_id``). The alias
generator maps one to the other, so validation errors name fields exactly as a client sent them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Lengths and patterns shared by several models.
ORDER_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
IDENTIFIER_MAX_LENGTH = 128


class ContractModel(BaseModel):
    """A payload exchanged with another component: camelCase on the wire, immutable in Python.

    Unknown fields from other producers are ignored (tolerant reader), so adding a field to an
    event never breaks a consumer.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )


class RequestModel(ContractModel):
    """A body sent by a client we do not control: strict types and no unknown fields.

    ``strict`` refuses ``"2"`` for an integer and ``1`` for a string, so a client learns about a
    type mistake instead of having it silently coerced.
    """

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


class Tier(StrEnum):
    """Customer classification from ``customer_status`` (docs/contracts.md, customer-status workflow)."""

    NEW = "NEW"
    RETURNING = "RETURNING"
    VIP = "VIP"
    BLOCKED = "BLOCKED"


class OrderStatus(StrEnum):
    """Lifecycle of an order row: PENDING → ACCEPTED/REJECTED → FULFILLED/FAILED."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FULFILLED = "FULFILLED"
    FAILED = "FAILED"


class ShippingAddress(RequestModel):
    """Where an order ships to; stored on the order and read back by ``create_shipment``."""

    name: str = Field(min_length=1, max_length=100)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")


class CorrelatedPayload(ContractModel):
    """Fields every order event detail and workflow payload carries (docs/contracts.md, Events)."""

    order_id: str = Field(pattern=ORDER_ID_PATTERN)
    customer_id: str = Field(min_length=1, max_length=IDENTIFIER_MAX_LENGTH)
    correlation_id: str = Field(min_length=1, max_length=IDENTIFIER_MAX_LENGTH)
