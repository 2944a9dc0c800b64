"""Step Functions payloads: what each workflow step receives and returns (docs/contracts.md, Workflow payloads).

Each fulfillment step receives the whole state (the ``OrderPlaced`` detail plus ``tier`` and the
results of earlier steps) and returns only its own result, which the workflow keeps under
``$.reservation``, ``$.payment`` or ``$.shipment``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.models.common import ContractModel, CorrelatedPayload, Tier
from shared.models.events import OrderPlacedDetail


class CustomerStatusInput(CorrelatedPayload):
    """Input of ``customer_status``: ``{orderId, customerId, correlationId}``."""


class CustomerStatusResult(ContractModel):
    """Output of ``customer_status``; tier ``BLOCKED`` makes the workflow reject the order."""

    tier: Tier
    order_count: int = Field(ge=0)


class ReservedItem(ContractModel):
    """One SKU held for an order."""

    sku: str
    quantity: int = Field(ge=1)


class ReservationStatus(StrEnum):
    """State of the ``RESERVATION#<orderId>`` record in the inventory table."""

    RESERVED = "RESERVED"
    RELEASED = "RELEASED"


class ReservationResult(ContractModel):
    """Output of ``reserve_inventory`` (kept at ``$.reservation``)."""

    status: ReservationStatus
    items: list[ReservedItem]


class PaymentStatus(StrEnum):
    """``status`` of a payments-table row (docs/contracts.md, Tables)."""

    CHARGED = "CHARGED"
    REFUNDED = "REFUNDED"


class PaymentResult(ContractModel):
    """Output of ``process_payment`` (kept at ``$.payment``)."""

    payment_id: str
    amount_cents: int = Field(ge=0)
    currency: str
    status: PaymentStatus


class ShipmentStatus(StrEnum):
    """``shipment.status`` on the order row."""

    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    """Cancelled by ``cancel_shipment``; without ``shipmentId`` it is a marker: nothing was booked, and a
    late ``create_shipment`` must not book now."""


class ShipmentResult(ContractModel):
    """Output of ``create_shipment`` (kept at ``$.shipment``)."""

    shipment_id: str
    carrier: str
    created_at: str
    status: ShipmentStatus = ShipmentStatus.BOOKED


class CompensationOutcome(StrEnum):
    """What a compensation step did; every outcome is a success for the workflow."""

    DONE = "DONE"
    """The reservation was released / the charge was refunded / the shipment was cancelled by this call."""
    ALREADY_DONE = "ALREADY_DONE"
    """An earlier call already compensated (duplicate delivery or a retry)."""
    NOTHING_TO_UNDO = "NOTHING_TO_UNDO"
    """The forward step never took effect; a marker now stops a late forward step from doing so."""


class CompensationResult(ContractModel):
    """Output of ``cancel_shipment``, ``release_inventory`` and ``refund_payment``."""

    outcome: CompensationOutcome


class FulfillmentState(OrderPlacedDetail):
    """Input of every fulfillment step: the ``OrderPlaced`` detail plus ``tier`` and earlier results."""

    tier: Tier
    reservation: ReservationResult | None = None
    payment: PaymentResult | None = None
    shipment: ShipmentResult | None = None
