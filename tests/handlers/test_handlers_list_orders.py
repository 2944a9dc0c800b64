"""``GET /orders`` (in ``get_order``) against moto: the caller's own orders only, newest first, paged."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.handlers_testkit import ALICE, BOB, AwsWorld, LambdaContext, http_event

HANDLER = "get_order"


def list_orders(
    app: ModuleType, context: LambdaContext, sub: str | None = ALICE, **query: str
) -> tuple[int, dict[str, Any]]:
    event = http_event("GET", "/orders", sub=sub)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    response = app.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def seed(aws: AwsWorld, customer_id: str, count: int, *, prefix: str) -> list[str]:
    order_ids = []
    for index in range(count):
        order_id = f"{prefix}{index:04d}-0000-4000-8000-000000000000"
        aws.put(
            "ORDERS_TABLE_NAME",
            {
                "orderId": order_id,
                "customerId": customer_id,
                "createdAt": f"2026-01-01T12:{index // 60:02d}:{index % 60:02d}.000Z",
                "updatedAt": f"2026-01-01T12:{index // 60:02d}:{index % 60:02d}.000Z",
                "status": "FULFILLED",
                "items": [{"sku": "MUG-BLK", "quantity": 1, "unitPriceCents": 1299}],
                "totalCents": 1299,
                "currency": "EUR",
                "shippingAddress": {"name": "Alice Example", "line1": "1 Main Street"},
                "correlationId": "corr-1",
            },
        )
        order_ids.append(order_id)
    return order_ids


def test_the_list_holds_only_the_callers_orders_newest_first(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    alices = seed(aws, ALICE, 3, prefix="aaaa")
    seed(aws, BOB, 2, prefix="bbbb")

    status, body = list_orders(app, context)

    assert status == 200
    assert [order["orderId"] for order in body["orders"]] == list(reversed(alices))
    assert body["nextToken"] is None
    # A summary: the address and internal attributes stay behind GET /orders/{orderId}.
    assert set(body["orders"][0]) == {"orderId", "status", "createdAt", "updatedAt", "totalCents", "currency", "items"}


def test_a_customer_without_orders_gets_an_empty_list(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    seed(aws, BOB, 2, prefix="bbbb")

    assert list_orders(app, context) == (200, {"orders": [], "nextToken": None})


def test_pages_follow_each_other_without_gaps_or_repeats(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    alices = seed(aws, ALICE, 7, prefix="aaaa")

    seen: list[str] = []
    status, body = list_orders(app, context, limit="3")
    pages = 1
    while True:
        assert status == 200
        assert len(body["orders"]) <= 3
        seen += [order["orderId"] for order in body["orders"]]
        if body["nextToken"] is None:
            break
        status, body = list_orders(app, context, limit="3", nextToken=body["nextToken"])
        pages += 1

    assert seen == list(reversed(alices))
    assert pages >= 3


@pytest.mark.parametrize("limit", ["0", "51", "-1", "ten", "2.5"])
def test_a_bad_limit_is_a_400_naming_it(app: ModuleType, aws: AwsWorld, context: LambdaContext, limit: str) -> None:
    status, body = list_orders(app, context, limit=limit)

    assert status == 400
    assert [field["field"] for field in body["fields"]] == ["limit"]


def test_another_customers_page_token_is_refused(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    seed(aws, ALICE, 3, prefix="aaaa")
    seed(aws, BOB, 3, prefix="bbbb")
    _, bobs_page = list_orders(app, context, sub=BOB, limit="1")

    status, body = list_orders(app, context, sub=ALICE, nextToken=bobs_page["nextToken"])

    assert status == 400
    assert [field["field"] for field in body["fields"]] == ["nextToken"]


@pytest.mark.parametrize(
    "token",
    ["%%%", base64.urlsafe_b64encode(b"[1, 2]").decode(), base64.urlsafe_b64encode(b'{"orderId": "x"}').decode()],
    ids=["not-base64", "not-an-object", "not-an-index-key"],
)
def test_a_forged_page_token_is_a_400_naming_it(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, token: str
) -> None:
    status, body = list_orders(app, context, nextToken=token)

    assert status == 400
    assert [field["field"] for field in body["fields"]] == ["nextToken"]


def test_a_token_without_a_subject_gets_401(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    assert list_orders(app, context, sub=None)[0] == 401
