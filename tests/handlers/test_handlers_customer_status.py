"""``customer_status``: the documented rules, and the handler reading the ``byCustomer`` index in moto."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from tests.handlers.handlers_testkit import (
    ALICE,
    BOB,
    AwsWorld,
    LambdaContext,
    client_error,
    make_calls_fail,
    new_order_id,
)

HANDLER = "customer_status"


DECLINED = {"status": "FAILED", "reason": "PAYMENT_DECLINED"}


def orders(*statuses: str, total_cents: int = 1_000) -> list[dict[str, Any]]:
    """Orders in these statuses; ``DECLINED`` is a FAILED order whose payment was declined."""
    return [
        (DECLINED if status == "DECLINED" else {"status": status}) | {"totalCents": total_cents} for status in statuses
    ]


@pytest.mark.parametrize(
    ("history", "tier"),
    [
        ([], "NEW"),
        (orders("PENDING", "ACCEPTED", "REJECTED"), "NEW"),
        (orders("FULFILLED"), "RETURNING"),
        (orders(*["FULFILLED"] * 9), "RETURNING"),
        (orders(*["FULFILLED"] * 10), "VIP"),
        (orders("FULFILLED", total_cents=99_999), "RETURNING"),
        (orders("FULFILLED", total_cents=100_000), "VIP"),
        (orders("DECLINED", "DECLINED", "FULFILLED"), "RETURNING"),
        (orders("DECLINED", "DECLINED", "DECLINED"), "BLOCKED"),
        (orders(*["FULFILLED"] * 12, "DECLINED", "DECLINED", "DECLINED"), "BLOCKED"),
    ],
    ids=[
        "no-history",
        "nothing-fulfilled",
        "one-fulfilled",
        "nine-fulfilled",
        "ten-fulfilled",
        "spend-just-below-vip",
        "spend-at-vip",
        "two-declines",
        "three-declines",
        "blocked-beats-vip",
    ],
)
def test_the_documented_rules(app: ModuleType, history: list[dict[str, Any]], tier: str) -> None:
    result = app.classify(history)

    assert result.tier == tier
    assert result.order_count == len(history)


def test_the_rules_are_documented_in_the_module_docstring(app: ModuleType) -> None:
    for name in ("BLOCKED_AFTER_FAILED_ORDERS", "VIP_FULFILLED_ORDERS", "VIP_FULFILLED_SPEND_CENTS"):
        assert name in app.__doc__


def seed(aws: AwsWorld, customer_id: str, status: str, created_at: str, total_cents: int = 5_000, **more: Any) -> str:
    order_id = new_order_id()
    aws.put(
        "ORDERS_TABLE_NAME",
        {
            "orderId": order_id,
            "customerId": customer_id,
            "createdAt": created_at,
            "status": status,
            "totalCents": total_cents,
            **more,
        },
    )
    return order_id


def test_the_handler_classifies_from_the_customers_other_orders(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    seed(aws, ALICE, "FULFILLED", "2026-01-01T10:00:00.000Z")
    seed(aws, ALICE, "FAILED", "2026-01-02T10:00:00.000Z", reason="PAYMENT_DECLINED")
    for day in range(3, 6):  # Bob's declines must not count against Alice
        seed(aws, BOB, "FAILED", f"2026-01-0{day}T10:00:00.000Z", reason="PAYMENT_DECLINED")
    current = seed(aws, ALICE, "PENDING", "2026-01-09T10:00:00.000Z")

    result = app.lambda_handler({"orderId": current, "customerId": ALICE, "correlationId": "c-1"}, context)

    assert result == {"tier": "RETURNING", "orderCount": 2}


def test_a_first_order_is_new(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    current = seed(aws, ALICE, "PENDING", "2026-01-09T10:00:00.000Z")

    assert app.lambda_handler({"orderId": current, "customerId": ALICE, "correlationId": "c"}, context) == {
        "tier": "NEW",
        "orderCount": 0,
    }


def test_a_repeated_step_gives_the_same_answer_and_writes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    for day in range(1, 4):
        seed(aws, ALICE, "FAILED", f"2026-01-0{day}T10:00:00.000Z", reason="PAYMENT_DECLINED")
    current = seed(aws, ALICE, "PENDING", "2026-01-09T10:00:00.000Z")
    request = {"orderId": current, "customerId": ALICE, "correlationId": "c", "extra": "ignored"}
    before = aws.scan("ORDERS_TABLE_NAME")

    first = app.lambda_handler(request, context)
    second = app.lambda_handler(request, context)

    assert first == second == {"tier": "BLOCKED", "orderCount": 3}
    assert aws.scan("ORDERS_TABLE_NAME") == before


# A rejected input emits no metric, and Powertools says so.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_input_without_customer_id_is_rejected_naming_it(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    with pytest.raises(ValidationError) as raised:
        app.lambda_handler({"orderId": new_order_id(), "correlationId": "c"}, context)

    assert [error["loc"] for error in raised.value.errors()] == [("customerId",)]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_throttled_index_is_transient(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_calls_fail(monkeypatch, app.dynamodb, "query", client_error("ThrottlingException"))

    with pytest.raises(Exception) as raised:
        app.lambda_handler({"orderId": new_order_id(), "customerId": ALICE, "correlationId": "c"}, context)

    assert type(raised.value).__name__ == "TransientDependencyError"
