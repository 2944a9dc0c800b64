"""Layout of the payments table, shared by ``process_payment`` and ``refund_payment``.

Key ``orderId`` (docs/contracts.md, Tables): ``paymentId``, ``amountCents``, ``currency``, ``status``
(``CHARGED``/``REFUNDED``). At most one row per order, so an order is charged at most once.
A row with status ``REFUNDED`` and no ``paymentId`` is a marker left by a refund that found no
charge: it stops a late charge attempt for a compensated order.
"""

from __future__ import annotations

from typing import Any

from shared.dynamo import from_item, to_item
from shared.errors import transient_dependency_errors


def payment_key(order_id: str) -> dict[str, Any]:
    """Key of an order's payment row, as DynamoDB attribute values."""
    return to_item({"orderId": order_id})


def read_payment(dynamodb: Any, table_name: str, order_id: str) -> dict[str, Any] | None:
    """The order's payment row (strongly consistent read), or None.

    Parameters
    ----------
    dynamodb:
        A boto3 DynamoDB client.
    table_name:
        The payments table.
    order_id:
        The order.

    Returns
    -------
    dict[str, Any] | None
        The row as plain values.

    Raises
    ------
    TransientDependencyError
        When the table throttled or failed.
    """
    with transient_dependency_errors("payments table"):
        response = dynamodb.get_item(TableName=table_name, Key=payment_key(order_id), ConsistentRead=True)
    return from_item(response["Item"]) if "Item" in response else None
