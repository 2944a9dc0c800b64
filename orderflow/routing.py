"""Event patterns of every orderflow EventBridge rule (architecture steps 2, 4, 5 and 6).

Patterns are built by functions so each caller gets its own dict, and each is checked by
:func:`components.event_patterns.lint_event_pattern` when built. Names follow ``docs/contracts.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from components.event_patterns import lint_event_pattern

ORDER_EVENT_SOURCE: Final = "orderflow.orders"
"""``source`` of every event the order system puts on its bus."""

ORDER_PLACED: Final = "OrderPlaced"
ORDER_ACCEPTED: Final = "OrderAccepted"
ORDER_REJECTED: Final = "OrderRejected"
ORDER_FULFILLED: Final = "OrderFulfilled"
ORDER_FAILED: Final = "OrderFailed"
ORDER_STATUS_DETAIL_TYPES: Final[tuple[str, ...]] = (ORDER_ACCEPTED, ORDER_REJECTED, ORDER_FULFILLED, ORDER_FAILED)
"""Status changes a customer is told about (the notify rule)."""

S3_EVENT_SOURCE: Final = "aws.s3"
S3_OBJECT_CREATED: Final = "Object Created"
RECEIPTS_KEY_PREFIX: Final = "receipts/"
"""Receipt objects live at ``receipts/<customerId>/<orderId>.json``."""

CUSTOM_BUS: Final = "custom"
DEFAULT_BUS: Final = "default"


@dataclass(frozen=True)
class RoutingRule:
    """One EventBridge rule of the order system.

    Attributes
    ----------
    name:
        Logical rule name (the component derives the physical name).
    bus:
        :data:`CUSTOM_BUS` (the orderflow bus) or :data:`DEFAULT_BUS` (the account's default bus).
    pattern:
        The event pattern.
    purpose:
        Where matching events go, in words.
    """

    name: str
    bus: str
    pattern: dict[str, Any]
    purpose: str


def _linted(pattern: dict[str, Any], rule_name: str) -> dict[str, Any]:
    lint_event_pattern(pattern, rule_name)
    return pattern


def order_placed_pattern() -> dict[str, Any]:
    """Match ``OrderPlaced``: starts the customer-status workflow.

    Returns
    -------
    dict
        The event pattern.
    """
    return _linted({"source": [ORDER_EVENT_SOURCE], "detail-type": [ORDER_PLACED]}, "customer-status")


def order_status_changed_pattern() -> dict[str, Any]:
    """Match ``OrderAccepted``/``OrderRejected``/``OrderFulfilled``/``OrderFailed``: invokes ``notify``.

    Returns
    -------
    dict
        The event pattern.
    """
    return _linted({"source": [ORDER_EVENT_SOURCE], "detail-type": list(ORDER_STATUS_DETAIL_TYPES)}, "notify")


def order_audit_pattern() -> dict[str, Any]:
    """Match every order event: feeds the ``order-audit`` queue.

    Returns
    -------
    dict
        The event pattern.
    """
    return _linted({"source": [ORDER_EVENT_SOURCE]}, "audit")


def _receipt_created_pattern(receipts_bucket_name: str, rule_name: str) -> dict[str, Any]:
    if not isinstance(receipts_bucket_name, str) or not receipts_bucket_name:
        raise ValueError(f"receipts_bucket_name must be a non-empty string, got {receipts_bucket_name!r}")
    # Forwarding between buses keeps source and detail-type, so one shape serves both buses.
    pattern = {
        "source": [S3_EVENT_SOURCE],
        "detail-type": [S3_OBJECT_CREATED],
        "detail": {
            "bucket": {"name": [receipts_bucket_name]},
            "object": {"key": [{"prefix": RECEIPTS_KEY_PREFIX}]},
        },
    }
    return _linted(pattern, rule_name)


def receipt_forward_pattern(receipts_bucket_name: str) -> dict[str, Any]:
    """Match a new receipt object, on the default bus: forwards it to the orderflow bus.

    Parameters
    ----------
    receipts_bucket_name:
        Name of the receipts bucket (its S3 EventBridge notifications must be on).

    Returns
    -------
    dict
        The event pattern.

    Raises
    ------
    ValueError
        When the bucket name is empty.
    """
    return _receipt_created_pattern(receipts_bucket_name, "forward-receipts")


def receipt_ready_pattern(receipts_bucket_name: str) -> dict[str, Any]:
    """Match the forwarded receipt event, on the orderflow bus: ``notify`` sends ``ReceiptReady``.

    Parameters
    ----------
    receipts_bucket_name:
        Name of the receipts bucket.

    Returns
    -------
    dict
        The event pattern.

    Raises
    ------
    ValueError
        When the bucket name is empty.
    """
    return _receipt_created_pattern(receipts_bucket_name, "receipt-ready")


def routing_rules(receipts_bucket_name: str) -> tuple[RoutingRule, ...]:
    """Every rule of the order system, with its bus and pattern.

    Parameters
    ----------
    receipts_bucket_name:
        Name of the receipts bucket.

    Returns
    -------
    tuple of RoutingRule
        customer-status, notify, audit, receipt-ready (orderflow bus) and forward-receipts (default bus).
    """
    return (
        RoutingRule("customer-status", CUSTOM_BUS, order_placed_pattern(), "customer-status workflow (EXPRESS)"),
        RoutingRule("notify", CUSTOM_BUS, order_status_changed_pattern(), "notify Lambda (async)"),
        RoutingRule("audit", CUSTOM_BUS, order_audit_pattern(), "order-audit SQS queue"),
        RoutingRule(
            "receipt-ready", CUSTOM_BUS, receipt_ready_pattern(receipts_bucket_name), "notify Lambda (ReceiptReady)"
        ),
        RoutingRule(
            "forward-receipts", DEFAULT_BUS, receipt_forward_pattern(receipts_bucket_name), "the orderflow bus"
        ),
    )
