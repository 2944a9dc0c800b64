"""``create_order`` never deletes or overwrites an order that may have been announced (issue 20, item 1).

PutEvents can put the event and still fail for the caller (a read timeout, a lost connection, a 5xx):
the workflow then charges and ships the order, so its row must stay for ``GET /orders/{id}``, ``ops
reconcile`` and the client's retry. Only an answer that says the event was not taken removes the row,
and only while it is still the row this run wrote.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from tests.handlers.handlers_testkit import (
    ALICE,
    ENVIRONMENT,
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    body_of,
    client_error,
    order_request,
)

HANDLER = "create_order"


def put_then_lose_the_response(monkeypatch: pytest.MonkeyPatch, events: Any, error: Exception) -> None:
    """PutEvents puts the event, then the caller gets ``error`` instead of the response."""
    original = events.put_events

    def lost(**kwargs: Any) -> Any:
        original(**kwargs)
        raise error

    monkeypatch.setattr(events, "put_events", lost)


@pytest.mark.parametrize(
    "lost_with",
    [
        ReadTimeoutError(endpoint_url="https://events.eu-west-1.amazonaws.com/"),
        client_error("InternalFailure", 500, "PutEvents"),
    ],
    ids=["read-timeout", "internal-failure-500"],
)
def test_an_order_whose_event_may_have_been_put_is_kept_and_a_retry_answers_with_it(
    app: ModuleType,
    aws: AwsWorld,
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    lost_with: Exception,
) -> None:
    with monkeypatch.context() as patched:
        put_then_lose_the_response(patched, app.publisher._client, lost_with)
        failed = app.lambda_handler(order_request(VALID_ORDER_BODY, key="lost"), context)

    assert failed["statusCode"] == 503
    order_id = app.order_id_for(ALICE, "lost")
    [announced] = aws.bus_events()
    assert announced["detail"]["orderId"] == order_id
    # The workflow runs for this order: its row is there, PENDING, for GET /orders/{id} and reconcile.
    kept = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert kept is not None
    assert kept["status"] == "PENDING"

    retried = app.lambda_handler(order_request(VALID_ORDER_BODY, key="lost"), context)

    assert retried["statusCode"] == 202
    assert body_of(retried)["orderId"] == order_id
    # The same row, not a new one: the retry neither recreated nor overwrote it.
    assert aws.scan("ORDERS_TABLE_NAME") == [kept]
    [again] = aws.bus_events()
    assert again["detail"] == announced["detail"]


def test_a_retry_after_a_lost_response_never_resurrects_an_order_the_workflow_moved_on(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        put_then_lose_the_response(patched, app.publisher._client, client_error("InternalFailure", 500, "PutEvents"))
        app.lambda_handler(order_request(VALID_ORDER_BODY, key="moved"), context)
    aws.bus_events()
    order_id = app.order_id_for(ALICE, "moved")
    # Meanwhile the workflow took the announced order through to the end.
    fulfilled = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id}) | {"status": "FULFILLED", "shipmentId": "s-1"}
    aws.put("ORDERS_TABLE_NAME", fulfilled)

    retried = app.lambda_handler(order_request(VALID_ORDER_BODY, key="moved"), context)

    assert retried["statusCode"] == 202
    assert body_of(retried)["orderId"] == order_id
    assert aws.scan("ORDERS_TABLE_NAME") == [fulfilled]
    assert aws.bus_events() == []


def test_an_order_whose_event_was_refused_is_removed_only_while_it_is_still_this_runs_row(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = app.publisher._client
    order_id = app.order_id_for(ALICE, "refused")

    def refused_after_the_row_moved(**kwargs: Any) -> Any:
        # Someone (an earlier run's event, redriven) moved the row on before the refusal came back.
        moved = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id}) | {"status": "ACCEPTED"}
        aws.put("ORDERS_TABLE_NAME", moved)
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]}

    with monkeypatch.context() as patched:
        patched.setattr(events, "put_events", refused_after_the_row_moved)
        failed = app.lambda_handler(order_request(VALID_ORDER_BODY, key="refused"), context)

    assert failed["statusCode"] == 503
    kept = aws.get("ORDERS_TABLE_NAME", {"orderId": order_id})
    assert kept is not None
    assert kept["status"] == "ACCEPTED"


def test_an_order_whose_event_was_refused_outright_is_removed_and_a_retry_starts_clean(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    events = app.publisher._client
    events.delete_event_bus(Name=ENVIRONMENT["EVENT_BUS_NAME"])

    failed = app.lambda_handler(order_request(VALID_ORDER_BODY), context)

    assert failed["statusCode"] == 503
    assert aws.scan("ORDERS_TABLE_NAME") == []
