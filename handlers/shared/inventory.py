"""Layout of the inventory table, shared by ``reserve_inventory`` and ``release_inventory``.

One table, key ``pk`` (docs/contracts.md, Tables):

- ``SKU#<sku>`` → ``available`` (N): units that can still be reserved; never below zero.
- ``RESERVATION#<orderId>`` → ``status`` (``RESERVED``/``RELEASED``), ``items`` (``[{sku, quantity}]``).
  Written in the same transaction as the stock decrements, so stock and reservations always agree.
"""

from __future__ import annotations

from typing import Any

from shared.dynamo import read_item, to_item
from shared.models.workflow import ReservationResult


def sku_key(sku: str) -> dict[str, Any]:
    """Key of a SKU's stock row, as DynamoDB attribute values."""
    return to_item({"pk": f"SKU#{sku}"})


def reservation_key(order_id: str) -> dict[str, Any]:
    """Key of an order's reservation record, as DynamoDB attribute values."""
    return to_item({"pk": f"RESERVATION#{order_id}"})


def read_reservation(dynamodb: Any, table_name: str, order_id: str) -> ReservationResult | None:
    """The order's reservation record (strongly consistent read), or None when there is none."""
    record = read_item(dynamodb, table_name, {"pk": f"RESERVATION#{order_id}"}, dependency="inventory table")
    return None if record is None else ReservationResult.model_validate(record)
