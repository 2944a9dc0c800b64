"""Event patterns of every orderflow EventBridge rule (architecture steps 2, 4, 5 and 6).

:func:`routing_rules` is the one table of rules the program deploys (``__main__.py`` adds each rule's
targets). Patterns are built by functions so each caller gets its own dict; ``EventBus`` lints every
pattern it is given. A value a pattern matches may be a ``pulumi.Input`` (the receipts bucket's name is only
known once the account is), or a plain string where no engine runs. Names follow ``docs/contracts.md``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Final

import pulumi

ORDER_EVENT_SOURCE: Final = "orderflow.orders"
"""``source`` of every event the order system puts on its bus."""

ORDER_PLACED: Final = "OrderPlaced"
ORDER_ACCEPTED: Final = "OrderAccepted"
ORDER_REJECTED: Final = "OrderRejected"
ORDER_FULFILLED: Final = "OrderFulfilled"
ORDER_FAILED: Final = "OrderFailed"
ORDER_STATUS_DETAIL_TYPES: Final[tuple[str, ...]] = (ORDER_ACCEPTED, ORDER_REJECTED, ORDER_FULFILLED, ORDER_FAILED)
"""Status changes a customer is told about (the notify rule)."""

BUSINESS_FAILURE_REASONS: Final[tuple[str, ...]] = ("OUT_OF_STOCK", "PAYMENT_DECLINED")
"""``OrderFailed`` reasons that are the customer's outcome, not a fault: the page tells them, operators are not."""

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
        Logical rule name, as deployed (the bus component derives the physical name from it).
    bus:
        :data:`CUSTOM_BUS` (the orderflow bus) or :data:`DEFAULT_BUS` (the account's default bus).
    pattern:
        The event pattern, possibly holding ``pulumi.Input`` values (linted by
        :class:`components.event_bus.EventBus` once they resolve).
    description:
        What the rule routes, shown in the console. Rules on the default bus only forward to the orderflow
        bus, and the bus component describes them itself.
    """

    name: str
    bus: str
    pattern: dict[str, Any]
    description: str


def order_placed_pattern() -> dict[str, Any]:
    """Match ``OrderPlaced``: starts the customer-status workflow.

    Returns
    -------
    dict
        The event pattern.
    """
    return {"source": [ORDER_EVENT_SOURCE], "detail-type": [ORDER_PLACED]}


def order_status_changed_pattern() -> dict[str, Any]:
    """Match ``OrderAccepted``/``OrderRejected``/``OrderFulfilled``/``OrderFailed``: invokes ``notify``.

    Returns
    -------
    dict
        The event pattern.
    """
    return {"source": [ORDER_EVENT_SOURCE], "detail-type": list(ORDER_STATUS_DETAIL_TYPES)}


def order_failed_on_our_side_pattern() -> dict[str, Any]:
    """Match ``OrderFailed`` for any reason but a decline or a stock-out: a notice to the operators.

    A reason code added later is an operator's business until it is listed in
    :data:`BUSINESS_FAILURE_REASONS`.

    Returns
    -------
    dict
        The event pattern.
    """
    return {
        "source": [ORDER_EVENT_SOURCE],
        "detail-type": [ORDER_FAILED],
        "detail": {"reason": [{"anything-but": list(BUSINESS_FAILURE_REASONS)}]},
    }


def order_audit_pattern() -> dict[str, Any]:
    """Match every order event: feeds the ``order-audit`` queue.

    Returns
    -------
    dict
        The event pattern.
    """
    return {"source": [ORDER_EVENT_SOURCE]}


def receipt_created_pattern(receipts_bucket_name: pulumi.Input[str]) -> dict[str, Any]:
    """Match a new receipt object: forwarded from the default bus, then announced by ``notify``.

    Forwarding between buses keeps source and detail-type, so one pattern serves both buses.

    Parameters
    ----------
    receipts_bucket_name:
        Name of the receipts bucket (its S3 EventBridge notifications must be on): a string, or an Output
        (or awaitable) that is checked when it resolves.

    Returns
    -------
    dict
        The event pattern.

    Raises
    ------
    ValueError
        When the bucket name is empty (on resolution, for an Output).
    """
    resolves_later = isinstance(receipts_bucket_name, pulumi.Output) or inspect.isawaitable(receipts_bucket_name)
    bucket_name = (
        pulumi.Output.from_input(receipts_bucket_name).apply(_checked_bucket_name)
        if resolves_later
        else _checked_bucket_name(receipts_bucket_name)
    )
    return {
        "source": [S3_EVENT_SOURCE],
        "detail-type": [S3_OBJECT_CREATED],
        "detail": {
            "bucket": {"name": [bucket_name]},
            "object": {"key": [{"prefix": RECEIPTS_KEY_PREFIX}]},
        },
    }


def _checked_bucket_name(receipts_bucket_name: Any) -> str:
    if not isinstance(receipts_bucket_name, str) or not receipts_bucket_name:
        raise ValueError(f"receipts_bucket_name must be a non-empty string, got {receipts_bucket_name!r}")
    return receipts_bucket_name


def routing_rules(receipts_bucket_name: pulumi.Input[str]) -> tuple[RoutingRule, ...]:
    """Every rule of the order system, with its bus, pattern and description: the program deploys these.

    Parameters
    ----------
    receipts_bucket_name:
        Name of the receipts bucket (see :func:`receipt_created_pattern`).

    Returns
    -------
    tuple of RoutingRule
        order-placed, order-status, audit, operator-failures, receipt-ready (orderflow bus) and forward-receipts
        (default bus).

    Raises
    ------
    ValueError
        When the bucket name is empty (on resolution, for an Output).
    """
    return (
        RoutingRule(
            "order-placed", CUSTOM_BUS, order_placed_pattern(), "OrderPlaced starts the customer-status workflow"
        ),
        RoutingRule(
            "order-status",
            CUSTOM_BUS,
            order_status_changed_pattern(),
            "Order status changes are pushed to the customer",
        ),
        RoutingRule("audit", CUSTOM_BUS, order_audit_pattern(), "Every order event is buffered for the timeline"),
        RoutingRule(
            "operator-failures",
            CUSTOM_BUS,
            order_failed_on_our_side_pattern(),
            "Orders that failed on our side are a notice to the operators",
        ),
        RoutingRule(
            "receipt-ready",
            CUSTOM_BUS,
            receipt_created_pattern(receipts_bucket_name),
            "A stored receipt is announced to the customer",
        ),
        RoutingRule(
            "forward-receipts",
            DEFAULT_BUS,
            receipt_created_pattern(receipts_bucket_name),
            "Receipt objects go on to the orderflow bus",
        ),
    )
