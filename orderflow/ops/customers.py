"""Customers: waive the declined payments that block one (``unblock``).

``customer_status`` blocks a customer after a number of declined payments within a window (its
``BLOCK_AFTER_DECLINES`` and ``DECLINE_WINDOW_DAYS``). An operator who has settled it with the customer (a
new card, a mistaken decline) waives those declines: each of the customer's FAILED ``PAYMENT_DECLINED``
orders gets ``declineWaived`` ``{at, by, reason}``, which the classifier ignores. Nothing else about the
orders changes; running it twice waives nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from orderflow.ops.aws import EXIT_NOT_DONE, Aws, OpsError, error_code

BY_CUSTOMER_INDEX: Final = "byCustomer"
DECLINED: Final = "PAYMENT_DECLINED"
_COUNTED = "#status = :failed AND #reason = :declined AND attribute_not_exists(declineWaived)"
_NAMES: Final = {"#status": "status", "#reason": "reason"}


def counted_declines(aws: Aws, table: str, customer_id: str) -> list[str]:
    """Ids of the customer's FAILED ``PAYMENT_DECLINED`` orders not waived yet (the ones that may block)."""
    pages = (
        aws.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=table,
            IndexName=BY_CUSTOMER_INDEX,
            KeyConditionExpression="customerId = :customer",
            FilterExpression=_COUNTED,
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={
                ":customer": {"S": customer_id},
                ":failed": {"S": "FAILED"},
                ":declined": {"S": DECLINED},
            },
            ProjectionExpression="orderId",
        )
    )
    return [item["orderId"]["S"] for page in pages for item in page.get("Items", [])]


def unblock(aws: Aws, table: str, customer_id: str, reason: str, now: datetime) -> dict[str, Any]:
    """``unblock``: waive every declined payment of ``customer_id`` still counted against them.

    Each order is updated only while it is still a counted decline (a conditional write), so a concurrent
    run or a second run waives nothing twice.

    Raises
    ------
    OpsError
        (exit 1) When the customer has no counted decline: not blocked by declines, or already unblocked.
    """
    if not reason.strip():
        raise OpsError("--reason must say why the customer is unblocked (it is kept on each order)")
    by = str(aws.client("sts").get_caller_identity()["Arn"])
    waiver = {
        "M": {
            "at": {"S": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "by": {"S": by},
            "reason": {"S": reason.strip()[:500]},
        }
    }
    declines = counted_declines(aws, table, customer_id)
    if not declines:
        raise OpsError(
            f"customer {customer_id} has no declined payment counting against them: not blocked by declines "
            "(or already unblocked)",
            EXIT_NOT_DONE,
        )
    waived = []
    for order_id in declines:
        try:
            aws.client("dynamodb").update_item(
                TableName=table,
                Key={"orderId": {"S": order_id}},
                UpdateExpression="SET declineWaived = :waiver",
                ConditionExpression=_COUNTED,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={
                    ":waiver": waiver,
                    ":failed": {"S": "FAILED"},
                    ":declined": {"S": DECLINED},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            continue  # waived meanwhile by another run
        waived.append(order_id)
    return {"customerId": customer_id, "waived": waived, "by": by, "reason": reason.strip()}
