"""No free text from an event reaches a customer: only our own sentence for its reason code (issue 20, item 5).

An ``OrderFailed`` carrying "Your card was declined. Re-enter it at https://evil.example/pay" (a forged event,
or any producer's bug) must neither be pushed to the customer (``notify``) nor shown on their order page
(``get_order``, timeline and order row): the customer sees the sentence of ``customer_messages.json`` for
the event's reason code, or the generic one for a code we do not know.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.handlers_testkit import (
    ALICE,
    AwsWorld,
    LambdaContext,
    correlated,
    eventbridge_event,
    http_event,
    import_handler,
    new_order_id,
)

CUSTOMER_MESSAGES: dict[str, str] = json.loads(
    (Path(__file__).parents[2] / "handlers" / "shared" / "customer_messages.json").read_text()
)
PHISHING = "Your card was declined. Re-enter it at https://evil.example/pay"


@pytest.mark.parametrize(
    ("detail_type", "reason", "shown"),
    [
        ("OrderFailed", "PAYMENT_DECLINED", CUSTOMER_MESSAGES["PAYMENT_DECLINED"]),
        ("OrderRejected", "CUSTOMER_BLOCKED", CUSTOMER_MESSAGES["CUSTOMER_BLOCKED"]),
        ("OrderFailed", "CARD_EXPIRED_REENTER", CUSTOMER_MESSAGES["*"]),
    ],
)
def test_notify_pushes_our_sentence_for_the_reason_never_the_events_message(
    aws: AwsWorld, context: LambdaContext, detail_type: str, reason: str, shown: str
) -> None:
    notify = import_handler("notify")
    event = eventbridge_event(detail_type, correlated(new_order_id()) | {"reason": reason, "message": PHISHING})

    notify.lambda_handler(event, context)

    [(_, pushed)] = aws.iot_publishes()
    assert pushed["details"] == {"reason": reason, "message": shown}
    assert "evil.example" not in json.dumps(pushed)


def test_the_order_page_shows_our_sentence_for_the_reason_in_the_order_and_its_timeline(
    aws: AwsWorld, context: LambdaContext
) -> None:
    get_order = import_handler("get_order")
    order_id = new_order_id()
    failed: dict[str, Any] = {"reason": "PAYMENT_DECLINED", "message": PHISHING}
    aws.put(
        "ORDERS_TABLE_NAME",
        {"orderId": order_id, "customerId": ALICE, "createdAt": "2026-01-01T12:00:00.000Z", "status": "FAILED"}
        | failed,
    )
    aws.put(
        "TIMELINE_TABLE_NAME",
        {
            "orderId": order_id,
            "eventKey": "OrderFailed",
            "eventId": "forged-1",
            "detailType": "OrderFailed",
            "time": "2026-01-01T12:00:05Z",
            "detail": correlated(order_id) | failed,
        },
    )

    response = get_order.lambda_handler(
        http_event("GET", f"/orders/{order_id}", path_parameters={"orderId": order_id}), context
    )

    assert response["statusCode"] == 200
    assert "evil.example" not in response["body"]
    page = json.loads(response["body"])
    assert page["order"]["message"] == CUSTOMER_MESSAGES["PAYMENT_DECLINED"]
    [entry] = page["timeline"]
    assert entry["detail"]["message"] == CUSTOMER_MESSAGES["PAYMENT_DECLINED"]


def test_the_workflows_write_the_same_sentences_the_consumers_show() -> None:
    from orderflow.workflows import CUSTOMER_BLOCKED, FAILURE_REASONS, FULFILLMENT_ERROR

    for reason in (CUSTOMER_BLOCKED, FULFILLMENT_ERROR, *FAILURE_REASONS.values()):
        assert CUSTOMER_MESSAGES[reason.code] == reason.message
