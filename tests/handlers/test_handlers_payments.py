"""``process_payment`` and its compensation ``refund_payment`` against moto."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.handlers.handlers_testkit import (
    ENVIRONMENT,
    AwsWorld,
    LambdaContext,
    client_error,
    fulfillment_state,
    import_handler,
    make_calls_fail,
    new_order_id,
)


@pytest.fixture
def charge(aws: AwsWorld) -> ModuleType:
    return import_handler("process_payment")


@pytest.fixture
def refund(aws: AwsWorld) -> ModuleType:
    return import_handler("refund_payment")


def costing(total_cents: int, tier: str = "NEW") -> dict[str, object]:
    return fulfillment_state(
        new_order_id(), tier=tier, items=[{"sku": "X", "quantity": 1, "unitPriceCents": total_cents}]
    )


def refund_twice(refund: ModuleType, state: dict[str, object], context: LambdaContext) -> list[str]:
    """The outcomes of a refund delivered twice (a duplicate delivery or a retry)."""
    return [refund.lambda_handler(state, context)["outcome"] for _ in range(2)]


@pytest.mark.parametrize(
    ("tier", "amount", "declined"),
    [
        ("NEW", 50_000, False),
        ("NEW", 50_001, True),
        ("RETURNING", 200_000, False),
        ("RETURNING", 200_001, True),
        ("VIP", 1_000_000, False),
        ("VIP", 1_000_001, True),
        ("BLOCKED", 1, True),
    ],
)
def test_the_documented_decline_rules(charge: ModuleType, tier: str, amount: int, declined: bool) -> None:
    reason = charge.decline_reason(amount, charge.Tier(tier))

    assert (reason is not None) is declined
    if declined:
        assert tier in reason


def test_a_charge_is_recorded_and_returned(charge: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    state = costing(12_345, tier="RETURNING")

    result = charge.lambda_handler(state, context)

    assert result["status"] == "CHARGED"
    assert (result["amountCents"], result["currency"]) == (12_345, "EUR")
    assert result["paymentId"].startswith("pay_")
    [row] = aws.scan("PAYMENTS_TABLE_NAME")
    assert row["orderId"] == state["orderId"]
    assert (row["paymentId"], row["amountCents"], row["status"]) == (result["paymentId"], 12_345, "CHARGED")


def test_a_duplicate_delivery_charges_once(charge: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    state = costing(2_000)

    first = charge.lambda_handler(state, context)
    second = charge.lambda_handler(state, context)

    assert second == first
    assert len(aws.scan("PAYMENTS_TABLE_NAME")) == 1


def test_a_decline_raises_payment_declined_and_records_nothing(
    charge: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    with pytest.raises(Exception, match="exceeds the NEW limit") as raised:
        charge.lambda_handler(costing(50_001), context)

    assert type(raised.value).__name__ == "PaymentDeclined"
    assert aws.scan("PAYMENTS_TABLE_NAME") == []


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_throttled_table_is_transient(
    charge: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = client_error("ThrottlingException")
    make_calls_fail(monkeypatch, charge.dynamodb, "put_item", throttled)

    with pytest.raises(Exception) as raised:
        charge.lambda_handler(costing(100), context)

    assert type(raised.value).__name__ == "TransientDependencyError"


def test_a_refund_returns_the_charge_once(
    charge: ModuleType, refund: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    state = costing(4_200)
    payment = charge.lambda_handler(state, context)

    assert refund_twice(refund, state, context) == ["DONE", "ALREADY_DONE"]
    [row] = aws.scan("PAYMENTS_TABLE_NAME")
    assert (row["paymentId"], row["status"], row["amountCents"]) == (payment["paymentId"], "REFUNDED", 4_200)
    assert "refundedAt" in row


def test_a_refund_with_nothing_charged_is_safe_and_blocks_a_late_charge(
    charge: ModuleType, refund: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    state = costing(4_200)

    assert refund_twice(refund, state, context) == ["NOTHING_TO_UNDO", "ALREADY_DONE"]
    with pytest.raises(Exception, match="already compensated") as late_charge:
        charge.lambda_handler(state, context)

    assert type(late_charge.value).__name__ == "PaymentDeclined"
    [row] = aws.scan("PAYMENTS_TABLE_NAME")
    assert (row["status"], row["amountCents"], "paymentId" in row) == ("REFUNDED", 0, False)


def test_a_refund_racing_a_charge_still_refunds_it(
    charge: ModuleType, refund: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = costing(999)
    put_item = refund.dynamodb.put_item

    def charge_lands_first(**request: object) -> object:
        if request.get("TableName") == ENVIRONMENT["PAYMENTS_TABLE_NAME"] and "Item" in request:
            charge.lambda_handler(state, context)
        return put_item(**request)

    monkeypatch.setattr(refund.dynamodb, "put_item", charge_lands_first)

    assert refund.lambda_handler(state, context) == {"outcome": "DONE"}
    [row] = aws.scan("PAYMENTS_TABLE_NAME")
    assert (row["status"], row["amountCents"]) == ("REFUNDED", 999)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_throttled_refund_is_transient(
    refund: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = client_error("InternalServerError", status=500, operation="GetItem")
    make_calls_fail(monkeypatch, refund.dynamodb, "get_item", throttled)

    with pytest.raises(Exception) as raised:
        refund.lambda_handler(costing(100), context)

    assert type(raised.value).__name__ == "TransientDependencyError"
