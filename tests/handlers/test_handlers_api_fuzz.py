"""Fuzz: whatever a client sends ``POST /orders`` or ``GET /orders``, the reply is never a 5xx and an error
body stays under 64 KB (issue 20, item 4). ``benchmarks/fuzz_api.py`` runs 10,000 inputs of each.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.handlers.api_fuzz import create_order_event, list_orders_event, problems_with
from tests.handlers.handlers_testkit import (
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    http_event,
    import_handler,
    order_request,
)

HANDLER = "create_order"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@FUZZ
@given(event=create_order_event())
def test_create_order_never_answers_5xx_nor_a_large_error(app: ModuleType, event: dict[str, Any]) -> None:
    assert problems_with(app.lambda_handler(event, LambdaContext())) == []


@FUZZ
@given(event=list_orders_event())
def test_list_orders_never_answers_5xx_nor_a_large_error(aws: AwsWorld, event: dict[str, Any]) -> None:
    get_order = import_handler("get_order")
    assert problems_with(get_order.lambda_handler(event, LambdaContext())) == []


@pytest.mark.parametrize("limit", ["²", "①", "9" * 5000, "٣", "-1", "0", "51", "1.5", ""])
def test_a_limit_that_is_not_a_small_whole_number_is_a_400_naming_it(
    aws: AwsWorld, context: LambdaContext, limit: str
) -> None:
    event = http_event("GET", "/orders")
    event["queryStringParameters"] = {"limit": limit}

    response = import_handler("get_order").lambda_handler(event, context)

    assert response["statusCode"] == 400
    assert [field["field"] for field in json.loads(response["body"])["fields"]] == ["limit"]


def test_a_body_flooded_with_unknown_keys_gets_a_short_error_that_counts_them(
    app: ModuleType, context: LambdaContext
) -> None:
    body = dict(VALID_ORDER_BODY) | {f"unknown{index}": index for index in range(100_000)}
    body["k" * 9_000_000] = 1

    response = app.lambda_handler(order_request(json.dumps(body)), context)

    assert response["statusCode"] == 400
    assert len(response["body"]) < 4096
    reply = json.loads(response["body"])
    assert "100001 problems; the first 10 are listed" in reply["error"]
    assert len(reply["fields"]) == 10
    assert all(len(field["field"]) <= 120 for field in reply["fields"])
