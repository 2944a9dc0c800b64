"""``reserve_inventory`` and its compensation ``release_inventory`` against moto."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.handlers.handlers_testkit import (
    AwsWorld,
    LambdaContext,
    client_error,
    fulfillment_state,
    import_handler,
    make_calls_fail,
    new_order_id,
    seed_inventory,
)

TWO_MUGS_ONE_LAMP = [
    {"sku": "MUG-BLK", "quantity": 2, "unitPriceCents": 1299},
    {"sku": "LAMP-DESK", "quantity": 1, "unitPriceCents": 8900},
]


@pytest.fixture
def reserve(aws: AwsWorld) -> ModuleType:
    seed_inventory(aws, {"MUG-BLK": 10, "LAMP-DESK": 1})
    return import_handler("reserve_inventory")


@pytest.fixture
def release(aws: AwsWorld) -> ModuleType:
    return import_handler("release_inventory")


def stock(aws: AwsWorld) -> dict[str, int]:
    return {
        row["pk"].removeprefix("SKU#"): row["available"]
        for row in aws.scan("INVENTORY_TABLE_NAME")
        if row["pk"].startswith("SKU#")
    }


def reservation(aws: AwsWorld, order_id: str) -> dict[str, Any] | None:
    return aws.get("INVENTORY_TABLE_NAME", {"pk": f"RESERVATION#{order_id}"})


def test_reserving_takes_the_stock_and_records_the_reservation(
    reserve: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()

    result = reserve.lambda_handler(fulfillment_state(order_id, items=TWO_MUGS_ONE_LAMP), context)

    expected_items = [{"sku": "MUG-BLK", "quantity": 2}, {"sku": "LAMP-DESK", "quantity": 1}]
    assert result == {"status": "RESERVED", "items": expected_items}
    assert stock(aws) == {"MUG-BLK": 8, "LAMP-DESK": 0}
    record = reservation(aws, order_id)
    assert record is not None
    assert (record["status"], record["items"]) == ("RESERVED", expected_items)


def test_a_duplicate_delivery_returns_the_same_reservation_and_takes_no_more_stock(
    reserve: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    state = fulfillment_state(new_order_id(), items=TWO_MUGS_ONE_LAMP)
    first = reserve.lambda_handler(state, context)
    after_first = aws.scan("INVENTORY_TABLE_NAME")

    second = reserve.lambda_handler(state, context)

    assert second == first
    assert aws.scan("INVENTORY_TABLE_NAME") == after_first


def test_lines_for_the_same_sku_are_reserved_together(
    reserve: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    lines = [{"sku": "MUG-BLK", "quantity": 3, "unitPriceCents": 1299}] * 2

    result = reserve.lambda_handler(fulfillment_state(new_order_id(), items=lines), context)

    assert result["items"] == [{"sku": "MUG-BLK", "quantity": 6}]
    assert stock(aws)["MUG-BLK"] == 4


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        ([{"sku": "LAMP-DESK", "quantity": 2, "unitPriceCents": 8900}], "LAMP-DESK"),
        ([{"sku": "NOT-STOCKED", "quantity": 1, "unitPriceCents": 100}], "NOT-STOCKED"),
        ([*TWO_MUGS_ONE_LAMP[:1], {"sku": "LAMP-DESK", "quantity": 5, "unitPriceCents": 8900}], "LAMP-DESK"),
    ],
    ids=["short", "unknown-sku", "one-line-short"],
)
def test_out_of_stock_names_the_sku_and_changes_nothing(
    reserve: ModuleType, aws: AwsWorld, context: LambdaContext, lines: list[dict[str, Any]], named: str
) -> None:
    before = aws.scan("INVENTORY_TABLE_NAME")

    with pytest.raises(Exception, match=named) as raised:
        reserve.lambda_handler(fulfillment_state(new_order_id(), items=lines), context)

    # Step Functions catches on the class name.
    assert type(raised.value).__name__ == "OutOfStock"
    assert aws.scan("INVENTORY_TABLE_NAME") == before


def test_stock_never_goes_below_zero(reserve: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    lamp = [{"sku": "LAMP-DESK", "quantity": 1, "unitPriceCents": 8900}]
    reserve.lambda_handler(fulfillment_state(new_order_id(), items=lamp), context)

    with pytest.raises(Exception, match="LAMP-DESK"):
        reserve.lambda_handler(fulfillment_state(new_order_id(), items=lamp), context)

    assert stock(aws)["LAMP-DESK"] == 0


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException", operation="TransactWriteItems"),
        client_error("InternalServerError", status=500, operation="TransactWriteItems"),
        client_error(
            "TransactionCanceledException",
            operation="TransactWriteItems",
            CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
        ),
    ],
    ids=["throttled", "5xx", "transaction-conflict"],
)
@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_throttling_conflicts_and_5xx_are_transient(
    reserve: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    make_calls_fail(monkeypatch, reserve.dynamodb, "transact_write_items", error)

    with pytest.raises(Exception) as raised:
        reserve.lambda_handler(fulfillment_state(new_order_id()), context)

    assert type(raised.value).__name__ == "TransientDependencyError"


def test_releasing_gives_the_stock_back_once(
    reserve: ModuleType, release: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    state = fulfillment_state(new_order_id(), items=TWO_MUGS_ONE_LAMP)
    reserve.lambda_handler(state, context)

    first = release.lambda_handler(state, context)
    second = release.lambda_handler(state, context)

    assert (first, second) == ({"outcome": "DONE"}, {"outcome": "ALREADY_DONE"})
    assert stock(aws) == {"MUG-BLK": 10, "LAMP-DESK": 1}
    record = reservation(aws, state["orderId"])
    assert record is not None
    assert record["status"] == "RELEASED"


def test_releasing_when_nothing_was_reserved_is_safe_and_stops_a_late_reservation(
    reserve: ModuleType, release: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    state = fulfillment_state(new_order_id(), items=TWO_MUGS_ONE_LAMP)

    first = release.lambda_handler(state, context)
    second = release.lambda_handler(state, context)
    with pytest.raises(Exception) as late_reservation:
        reserve.lambda_handler(state, context)

    assert (first, second) == ({"outcome": "NOTHING_TO_UNDO"}, {"outcome": "ALREADY_DONE"})
    # Refused, not returned as a result: a run that went on from here would charge and ship without stock.
    assert type(late_reservation.value).__name__ == "ReservationReleased"
    assert stock(aws) == {"MUG-BLK": 10, "LAMP-DESK": 1}
    record = reservation(aws, state["orderId"])
    assert record is not None
    assert (record["status"], record["items"]) == ("RELEASED", [])


def test_a_reservation_released_by_the_compensation_is_never_taken_again(
    reserve: ModuleType, release: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    # A run started again from the top (a restart) after the first run reserved and compensated.
    state = fulfillment_state(new_order_id(), items=TWO_MUGS_ONE_LAMP)
    reserve.lambda_handler(state, context)
    release.lambda_handler(state, context)

    with pytest.raises(Exception) as again:
        reserve.lambda_handler(state, context)

    assert type(again.value).__name__ == "ReservationReleased"
    assert stock(aws) == {"MUG-BLK": 10, "LAMP-DESK": 1}
    record = reservation(aws, state["orderId"])
    assert record is not None
    assert record["status"] == "RELEASED"


def test_a_release_racing_a_reservation_still_returns_the_stock(
    reserve: ModuleType, release: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = fulfillment_state(new_order_id(), items=TWO_MUGS_ONE_LAMP)
    put_item = release.dynamodb.put_item

    def reservation_lands_first(**request: Any) -> Any:
        # The reservation commits between the release's read and its marker write.
        reserve.lambda_handler(state, context)
        return put_item(**request)

    monkeypatch.setattr(release.dynamodb, "put_item", reservation_lands_first)

    assert release.lambda_handler(state, context) == {"outcome": "DONE"}
    assert stock(aws) == {"MUG-BLK": 10, "LAMP-DESK": 1}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # a failed step emits none
def test_a_throttled_release_is_transient(
    release: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = client_error("ThrottlingException", operation="GetItem")
    make_calls_fail(monkeypatch, release.dynamodb, "get_item", throttled)

    with pytest.raises(Exception) as raised:
        release.lambda_handler(fulfillment_state(new_order_id()), context)

    assert type(raised.value).__name__ == "TransientDependencyError"
