"""Take payment for an order (fulfillment step); the charge is recorded at most once per order.

The provider is simulated with deterministic decline rules, so the workflow's failure paths can be
exercised without a payment sandbox. A charge is declined (:class:`PaymentDeclined`) when:

1. the tier is ``BLOCKED`` (such orders are rejected earlier; this is a second line of defence), or
2. the amount exceeds the tier's single-charge limit, :data:`CHARGE_LIMIT_CENTS`
   (NEW €500.00, RETURNING €2,000.00, VIP €10,000.00), or
3. the order was already compensated (a ``REFUNDED`` marker exists, see ``refund_payment``).

Otherwise the row ``{orderId, paymentId, amountCents, currency, status: CHARGED}`` is written only if
none exists. A retry or duplicate delivery finds it and returns the same payment: no second charge.
"""

from __future__ import annotations

import os
import uuid
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser

from shared import TRACED_MODULES
from shared.clock import utc_timestamp
from shared.dynamo import put_if_absent
from shared.errors import PaymentDeclined
from shared.models.common import Tier
from shared.models.workflow import FulfillmentState, PaymentResult, PaymentStatus
from shared.payments import read_payment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

PAYMENTS_TABLE_NAME: Final = os.environ["PAYMENTS_TABLE_NAME"]

CHARGE_LIMIT_CENTS: Final[Mapping[Tier, int]] = MappingProxyType(
    {Tier.NEW: 50_000, Tier.RETURNING: 200_000, Tier.VIP: 1_000_000}
)
"""Largest single charge the simulated provider accepts, per customer tier (no entry: always declined)."""

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb = boto3.client("dynamodb")


def decline_reason(amount_cents: int, tier: Tier) -> str | None:
    """Why the simulated provider declines a charge, or None when it accepts it.

    Parameters
    ----------
    amount_cents:
        The charge.
    tier:
        The customer's tier from the customer-status workflow.

    Returns
    -------
    str | None
        A human-readable reason, or None.
    """
    limit = CHARGE_LIMIT_CENTS.get(tier)
    if limit is None:
        return f"customers of tier {tier.value} cannot be charged"
    if amount_cents > limit:
        return f"amount {amount_cents} cents exceeds the {tier.value} limit of {limit} cents"
    return None


def _declined(reason: str) -> PaymentDeclined:
    metrics.add_metric(name="PaymentsDeclined", unit=MetricUnit.Count, value=1)
    logger.info("Payment declined", reason=reason)
    return PaymentDeclined(reason)


@tracer.capture_method
def charge(state: FulfillmentState) -> PaymentResult:
    """Charge the order total once.

    Parameters
    ----------
    state:
        The fulfillment state (total, currency, tier).

    Returns
    -------
    PaymentResult
        The new charge, or the one an earlier attempt recorded.

    Raises
    ------
    PaymentDeclined
        Per the module's rules.
    TransientDependencyError
        When the payments table throttled or failed.
    """
    reason = decline_reason(state.total_cents, state.tier)
    if reason:
        raise _declined(reason)
    payment = PaymentResult(
        payment_id=f"pay_{uuid.uuid4().hex}",
        amount_cents=state.total_cents,
        currency=state.currency,
        status=PaymentStatus.CHARGED,
    )
    row = payment.model_dump(mode="json") | {"orderId": state.order_id, "chargedAt": utc_timestamp()}
    if put_if_absent(dynamodb, PAYMENTS_TABLE_NAME, row, key="orderId", dependency="payments table") is not None:
        existing = read_payment(dynamodb, PAYMENTS_TABLE_NAME, state.order_id)
        if existing is None or existing.get("status") != PaymentStatus.CHARGED:
            raise _declined("the order was already compensated")
        logger.info("Payment already taken; returning it", payment_id=existing["paymentId"])
        metrics.add_metric(name="PaymentsReplayed", unit=MetricUnit.Count, value=1)
        return PaymentResult.model_validate(existing)
    metrics.add_metric(name="PaymentsCharged", unit=MetricUnit.Count, value=1)
    logger.info("Payment charged", payment_id=payment.payment_id, amount_cents=payment.amount_cents)
    return payment


@logger.inject_lambda_context(correlation_id_path="correlationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FulfillmentState)
def lambda_handler(state: FulfillmentState, context: LambdaContext) -> dict[str, Any]:
    """Step Functions entry point; the workflow keeps the result at ``$.payment``."""
    return charge(state).model_dump(mode="json")
