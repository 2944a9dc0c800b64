"""Reading the orders table, shared by the steps that work on the order row itself."""

from __future__ import annotations

from typing import Any

from shared.dynamo import read_item


class OrderNotFound(Exception):  # noqa: N818 - reads as the condition it reports
    """The workflow names an order the orders table does not hold."""


def read_order(dynamodb: Any, table_name: str, order_id: str, attributes: tuple[str, ...]) -> dict[str, Any]:
    """Some attributes of an order (strongly consistent read).

    Parameters
    ----------
    dynamodb:
        A boto3 DynamoDB client.
    table_name:
        The orders table.
    order_id:
        The order.
    attributes:
        The top-level attributes to read (the key is always read); a role may be limited to these.

    Returns
    -------
    dict[str, Any]
        The attributes present, as plain values.

    Raises
    ------
    OrderNotFound
        When the order row is missing.
    TransientDependencyError
        When the table throttled or failed.
    """
    order = read_item(
        dynamodb,
        table_name,
        {"orderId": order_id},
        dependency="orders table",
        ProjectionExpression=", ".join(dict.fromkeys(("orderId", *attributes))),
    )
    if order is None:
        raise OrderNotFound(f"order {order_id} is not in the orders table")
    return order
