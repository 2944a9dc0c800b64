"""Compensation: refund an order's charge; safe to run twice and when nothing was charged.

- Row ``CHARGED`` → the (simulated) provider refunds it and the row becomes ``REFUNDED``, only if it
  is still ``CHARGED``, so the money is returned once. Outcome ``DONE``.
- Row ``REFUNDED`` → nothing to do. Outcome ``ALREADY_DONE``.
- No row → a ``REFUNDED`` marker without ``paymentId`` is written, so a late ``process_payment`` (a
  timed-out attempt still running) cannot charge the compensated order. Outcome ``NOTHING_TO_UNDO``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from botocore.exceptions import ClientError

from shared.dynamo import is_condition_failure, to_item
from shared.errors import TransientDependencyError, transient_dependency_errors
from shared.models.workflow import CompensationOutcome, CompensationResult, FulfillmentState, PaymentStatus
from shared.payments import payment_key, read_payment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

PAYMENTS_TABLE_NAME: Final = os.environ["PAYMENTS_TABLE_NAME"]

logger = Logger()
# Patch only what this function calls: patch_all would import requests, sqlite3 and more just to
# patch them, which costs cold-start time for nothing.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _conditional_write(**request: Any) -> bool:
    """Run a conditional PutItem/UpdateItem; False when its condition was false."""
    operation = dynamodb.put_item if "Item" in request else dynamodb.update_item
    try:
        with transient_dependency_errors("payments table"):
            operation(TableName=PAYMENTS_TABLE_NAME, **request)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


@tracer.capture_method
def refund(state: FulfillmentState) -> CompensationResult:
    """Undo ``process_payment`` for an order, whatever state it reached.

    Parameters
    ----------
    state:
        The fulfillment state.

    Returns
    -------
    CompensationResult
        ``DONE``, ``ALREADY_DONE`` or ``NOTHING_TO_UNDO``.

    Raises
    ------
    TransientDependencyError
        For throttling and 5xx, or when the row keeps changing under us.
    """
    # Two passes cover a charge appearing between our read and our marker write.
    for _ in range(2):
        payment = read_payment(dynamodb, PAYMENTS_TABLE_NAME, state.order_id)
        if payment is None:
            marker = {
                "orderId": state.order_id,
                "amountCents": 0,
                "currency": state.currency,
                "status": PaymentStatus.REFUNDED.value,
                "refundedAt": _now(),
            }
            if _conditional_write(Item=to_item(marker), ConditionExpression="attribute_not_exists(orderId)"):
                return CompensationResult(outcome=CompensationOutcome.NOTHING_TO_UNDO)
            continue
        if payment.get("status") == PaymentStatus.REFUNDED:
            return CompensationResult(outcome=CompensationOutcome.ALREADY_DONE)
        # The simulated provider refunds instantly; a real one would be called here with an
        # idempotency key derived from paymentId, before the row changes.
        marked = _conditional_write(
            Key=payment_key(state.order_id),
            UpdateExpression="SET #status = :refunded, refundedAt = :now",
            ConditionExpression="#status = :charged",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":refunded": PaymentStatus.REFUNDED.value,
                    ":charged": PaymentStatus.CHARGED.value,
                    ":now": _now(),
                }
            ),
        )
        outcome = CompensationOutcome.DONE if marked else CompensationOutcome.ALREADY_DONE
        logger.info("Payment refunded", payment_id=payment.get("paymentId"), outcome=outcome)
        return CompensationResult(outcome=outcome)
    raise TransientDependencyError(f"payment of order {state.order_id} kept changing; retry")


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point (compensation path).

    Parameters
    ----------
    state:
        The fulfillment state, parsed by Powertools.
    context:
        The Lambda context.

    Returns
    -------
    dict[str, Any]
        ``{outcome}``.
    """
    result = refund(state)
    metrics.add_dimension(name="outcome", value=result.outcome.value)
    metrics.add_metric(name="PaymentRefunds", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
