"""Layout of the payments table, shared by ``process_payment`` and ``refund_payment``.

Key ``orderId`` (docs/contracts.md, Tables): ``paymentId``, ``amountCents``, ``currency``, ``status``
(``CHARGED``/``REFUNDED``). At most one row per order, so an order is charged at most once.
A row with status ``REFUNDED`` and no ``paymentId`` is a marker left by a refund that found no
charge: it stops a late charge attempt for a compensated order.
"""

from __future__ import annotations

from typing import Any

from shared.dynamo import read_item, to_item


def payment_key(order_id: str) -> dict[str, Any]:
    """Key of an order's payment row, as DynamoDB attribute values."""
    return to_item({"orderId": order_id})


def read_payment(dynamodb: Any, table_name: str, order_id: str) -> dict[str, Any] | None:
    """The order's payment row as plain values (strongly consistent read), or None when there is none."""
    return read_item(dynamodb, table_name, {"orderId": order_id}, dependency="payments table")
