"""Only customer-caused failures, recent and not waived, block a customer (issue 20, item 3).

Three stock-outs, three failures during our own outage, or someone buying out a scarce product used to
mark a good customer BLOCKED; only declined payments count now, within a window, and an operator can waive
them (``python -m orderflow.ops unblock``, tested in tests/ops).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.handlers_testkit import ALICE, AwsWorld, LambdaContext, new_order_id

HANDLER = "customer_status"


def seed_failed(aws: AwsWorld, reason: str, day: int, **more: Any) -> None:
    placed = f"2026-03-{day:02d}T10:00:00.000Z"
    aws.put(
        "ORDERS_TABLE_NAME",
        {
            "orderId": new_order_id(),
            "customerId": ALICE,
            "createdAt": placed,
            "updatedAt": placed.replace("10:00", "10:05"),
            "status": "FAILED",
            "reason": reason,
            "totalCents": 5_000,
            **more,
        },
    )


def classify_new_order(app: ModuleType, aws: AwsWorld, context: LambdaContext, day: int = 28) -> str:
    current = new_order_id()
    aws.put(
        "ORDERS_TABLE_NAME",
        {"orderId": current, "customerId": ALICE, "createdAt": f"2026-03-{day:02d}T09:00:00.000Z", "status": "PENDING"},
    )
    result = app.lambda_handler({"orderId": current, "customerId": ALICE, "correlationId": "c"}, context)
    return str(result["tier"])


@pytest.mark.parametrize(
    "reasons",
    [
        ("OUT_OF_STOCK",) * 3,
        ("FULFILLMENT_ERROR",) * 3,
        ("OUT_OF_STOCK", "FULFILLMENT_ERROR", "PAYMENT_DECLINED", "OUT_OF_STOCK"),
    ],
    ids=["three-stock-outs", "three-of-our-outages", "one-decline-among-our-failures"],
)
def test_failures_the_customer_did_not_cause_never_block(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, reasons: tuple[str, ...]
) -> None:
    for day, reason in enumerate(reasons, start=1):
        seed_failed(aws, reason, day)

    assert classify_new_order(app, aws, context) == "NEW"


def test_three_recent_declines_block(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    for day in (10, 12, 14):
        seed_failed(aws, "PAYMENT_DECLINED", day)

    assert classify_new_order(app, aws, context) == "BLOCKED"


def test_declines_older_than_the_window_no_longer_count(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    seed_failed(aws, "PAYMENT_DECLINED", 1)  # 27 days before the new order: inside the 30-day window
    seed_failed(aws, "PAYMENT_DECLINED", 2)
    aws.put(
        "ORDERS_TABLE_NAME",
        {
            "orderId": new_order_id(),
            "customerId": ALICE,
            "createdAt": "2026-01-10T10:00:00.000Z",
            "updatedAt": "2026-01-10T10:05:00.000Z",
            "status": "FAILED",
            "reason": "PAYMENT_DECLINED",
        },
    )

    assert classify_new_order(app, aws, context) == "NEW"


def test_declines_an_operator_waived_no_longer_count(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    waived = {"declineWaived": {"at": "2026-03-20T08:00:00Z", "reason": "card replaced, ticket 123"}}
    seed_failed(aws, "PAYMENT_DECLINED", 10, **waived)
    seed_failed(aws, "PAYMENT_DECLINED", 12, **waived)
    seed_failed(aws, "PAYMENT_DECLINED", 14)

    assert classify_new_order(app, aws, context) == "NEW"


def test_the_threshold_and_the_window_come_from_the_environment(
    aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("customer_status.app")
    try:
        with monkeypatch.context() as patched:
            patched.setenv("BLOCK_AFTER_DECLINES", "2")
            patched.setenv("DECLINE_WINDOW_DAYS", "3")
            app = importlib.reload(module)
        seed_failed(aws, "PAYMENT_DECLINED", 20)  # outside 3 days
        seed_failed(aws, "PAYMENT_DECLINED", 26)
        assert classify_new_order(app, aws, context) == "NEW"
        seed_failed(aws, "PAYMENT_DECLINED", 27)
        assert classify_new_order(app, aws, context) == "BLOCKED"
    finally:
        importlib.reload(module)


@pytest.mark.parametrize("raw", ["0", "three", "²"])
def test_a_bad_setting_fails_naming_the_variable(aws: AwsWorld, monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    module = importlib.import_module("customer_status.app")
    try:
        with monkeypatch.context() as patched:
            patched.setenv("BLOCK_AFTER_DECLINES", raw)
            with pytest.raises(ValueError, match="environment variable BLOCK_AFTER_DECLINES must be a whole number"):
                importlib.reload(module)
    finally:
        importlib.reload(module)
