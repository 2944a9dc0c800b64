"""Small helpers for the low-level DynamoDB client (lighter to load than the boto3 resource API)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.errors import transient_dependency_errors

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values → DynamoDB attribute values. ``None`` values are left out (absent, not NULL).

    Parameters
    ----------
    values:
        Attribute name → str, int, Decimal, bool, list or dict (no floats: money is integer cents).

    Returns
    -------
    dict[str, Any]
        The item in DynamoDB's typed JSON (``{"S": ...}``, ``{"N": ...}``, ...).
    """
    return {name: _SERIALIZER.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → plain JSON-compatible Python values (numbers as int or float).

    Parameters
    ----------
    item:
        An item as returned by GetItem, Query or a failed condition check.

    Returns
    -------
    dict[str, Any]
        The item with DynamoDB numbers converted to int (or float when fractional).
    """
    return {name: plain(_DESERIALIZER.deserialize(value)) for name, value in item.items()}


def plain(value: Any) -> Any:
    """Replace :class:`~decimal.Decimal` recursively by int (or float when fractional) for JSON output.

    Parameters
    ----------
    value:
        A deserialized DynamoDB value.

    Returns
    -------
    Any
        The same structure with JSON-serializable numbers; sets become sorted lists.
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(inner) for inner in value)
    return value


def is_condition_failure(error: ClientError) -> bool:
    """Whether a write failed only because its ConditionExpression was false.

    Parameters
    ----------
    error:
        The error raised by PutItem, UpdateItem or DeleteItem.

    Returns
    -------
    bool
        True for ``ConditionalCheckFailedException``.
    """
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-action reason codes of a cancelled TransactWriteItems, in request order.

    Parameters
    ----------
    error:
        The ``TransactionCanceledException`` raised by TransactWriteItems.

    Returns
    -------
    list[str]
        One code per action (``"None"``, ``"ConditionalCheckFailed"``, ``"TransactionConflict"``, ...);
        empty when the error is not a cancelled transaction.
    """
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    reasons = error.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def conditional_write(write: Callable[..., Any], dependency: str, **request: Any) -> dict[str, Any] | None:
    """Run one conditional write: None when it wrote, else the item that made its condition false.

    Made for idempotent transitions: "write only if not done yet" either writes, or finds the work done
    (by an earlier attempt or a duplicate), and the caller answers with what is there.

    Parameters
    ----------
    write:
        ``put_item``, ``update_item`` or ``delete_item`` of a DynamoDB client.
    dependency:
        What is written, for the error message (e.g. ``"orders table"``).
    **request:
        The call's parameters, including its ``ConditionExpression``.

    Returns
    -------
    dict[str, Any] | None
        None when the item was written; otherwise the item as it stands, as plain values (empty unless
        the request asks for it with ``ReturnValuesOnConditionCheckFailure="ALL_OLD"``).

    Raises
    ------
    TransientDependencyError
        When the table throttled or failed.
    """
    try:
        with transient_dependency_errors(dependency):
            write(**request)
    except ClientError as error:
        if is_condition_failure(error):
            return from_item(error.response.get("Item") or {})
        raise
    return None


def write_if(write: Callable[..., Any], dependency: str, **request: Any) -> bool:
    """:func:`conditional_write`, answering only whether it wrote (False: the work was already done)."""
    return conditional_write(write, dependency, **request) is None


def put_if_absent(
    dynamodb: Any, table_name: str, item: Mapping[str, Any], *, key: str, dependency: str, **options: Any
) -> dict[str, Any] | None:
    """PutItem only if no item has the same key (``attribute_not_exists(<key>)``): the idempotent create.

    Parameters
    ----------
    dynamodb:
        A boto3 DynamoDB client.
    table_name:
        The table.
    item:
        The new item as plain values (see :func:`to_item`).
    key:
        A key attribute of the table; the condition is that no item with the item's key has it.
    dependency:
        What is written, for the error message (e.g. ``"payments table"``).
    **options:
        More PutItem parameters, e.g. ``ReturnValuesOnConditionCheckFailure="ALL_OLD"``.

    Returns
    -------
    dict[str, Any] | None
        None when the item was written; otherwise the item already there, as in :func:`conditional_write`.

    Raises
    ------
    TransientDependencyError
        When the table throttled or failed.
    """
    return conditional_write(
        dynamodb.put_item,
        dependency,
        TableName=table_name,
        Item=to_item(item),
        ConditionExpression=f"attribute_not_exists({key})",
        **options,
    )


def read_item(
    dynamodb: Any, table_name: str, key: Mapping[str, Any], *, dependency: str, **options: Any
) -> dict[str, Any] | None:
    """One item by its key (plain values) as plain values, read strongly consistent; None when there is none.

    ``options`` are more GetItem parameters (e.g. ``ProjectionExpression``); a throttled or failing table
    raises :class:`~shared.errors.TransientDependencyError` naming ``dependency``.
    """
    with transient_dependency_errors(dependency):
        response = dynamodb.get_item(TableName=table_name, Key=to_item(key), ConsistentRead=True, **options)
    return from_item(response["Item"]) if "Item" in response else None
