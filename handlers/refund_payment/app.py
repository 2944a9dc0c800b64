"""Compensation: refund an order's charge; safe to run twice and when nothing was charged.

- Row ``CHARGED`` → the (simulated) provider refunds it and the row becomes ``REFUNDED``, only if it
  is still ``CHARGED``, so the money is returned once. Outcome ``DONE``.
- Row ``REFUNDED`` → nothing to do. Outcome ``ALREADY_DONE``.
- No row → a ``REFUNDED`` marker without ``paymentId`` is written, so a late ``process_payment`` (a
  timed-out attempt still running) cannot charge the compensated order. Outcome ``NOTHING_TO_UNDO``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import put_if_absent, to_item, write_if
from shared.errors import TransientDependencyError
from shared.models.workflow import CompensationOutcome, CompensationResult, FulfillmentState, PaymentStatus
from shared.payments import payment_key, read_payment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

PAYMENTS_TABLE_NAME: Final = os.environ["PAYMENTS_TABLE_NAME"]

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


@tracer.capture_method
def refund(state: FulfillmentState) -> CompensationResult:
    """Undo ``process_payment`` for an order, whatever state it reached (outcomes: see the module)."""
    # Two passes cover a charge appearing between our read and our marker write.
    for _ in range(2):
        payment = read_payment(dynamodb, PAYMENTS_TABLE_NAME, state.order_id)
        if payment is None:
            marker = {
                "orderId": state.order_id,
                "amountCents": 0,
                "currency": state.currency,
                "status": PaymentStatus.REFUNDED.value,
                "refundedAt": utc_timestamp(),
            }
            if put_if_absent(dynamodb, PAYMENTS_TABLE_NAME, marker, key="orderId", dependency="payments table") is None:
                return CompensationResult(outcome=CompensationOutcome.NOTHING_TO_UNDO)
            continue
        if payment.get("status") == PaymentStatus.REFUNDED:
            return CompensationResult(outcome=CompensationOutcome.ALREADY_DONE)
        # The simulated provider refunds instantly; a real one would be called here with an
        # idempotency key derived from paymentId, before the row changes.
        marked = write_if(
            dynamodb.update_item,
            "payments table",
            TableName=PAYMENTS_TABLE_NAME,
            Key=payment_key(state.order_id),
            UpdateExpression="SET #status = :refunded, refundedAt = :now",
            ConditionExpression="#status = :charged",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":refunded": PaymentStatus.REFUNDED.value,
                    ":charged": PaymentStatus.CHARGED.value,
                    ":now": utc_timestamp(),
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
    """Step Functions entry point (compensation path): the fulfillment state in, ``{outcome}`` out."""
    result = refund(state)
    metrics.add_dimension(name="outcome", value=result.outcome.value)
    metrics.add_metric(name="PaymentRefunds", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
