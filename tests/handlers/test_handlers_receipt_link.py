"""``GET /orders/{orderId}/receipt`` on moto: a short-lived link to the owner's own receipt, 404 for anyone else."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from tests.handlers.handlers_testkit import (
    ALICE,
    BOB,
    ENVIRONMENT,
    REGION,
    AwsWorld,
    LambdaContext,
    http_event,
    new_order_id,
)

HANDLER = "get_order"
RECEIPT = {"orderId": "…", "totalCents": 2598, "currency": "EUR"}


def receipt_link(app: ModuleType, order_id: str, context: LambdaContext, sub: str | None) -> dict[str, Any]:
    event = http_event("GET", f"/orders/{order_id}/receipt", path_parameters={"orderId": order_id}, sub=sub)
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /orders/{orderId}/receipt"
    return app.lambda_handler(event, context)


@pytest.fixture
def fulfilled_order(aws: AwsWorld) -> str:
    """An order of Alice's whose receipt is in the bucket, at the key the workflow writes."""
    order_id = new_order_id()
    key = f"receipts/{ALICE}/{order_id}.json"
    s3 = boto3.client("s3", region_name=REGION)
    bucket = ENVIRONMENT["RECEIPTS_BUCKET_NAME"]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(RECEIPT | {"orderId": order_id}).encode())
    aws.put(
        "ORDERS_TABLE_NAME",
        {"orderId": order_id, "customerId": ALICE, "status": "FULFILLED", "receiptKey": key},
    )
    return order_id


def test_the_owner_gets_a_five_minute_link_that_opens_the_receipt(
    app: ModuleType, fulfilled_order: str, context: LambdaContext
) -> None:
    response = receipt_link(app, fulfilled_order, context, ALICE)

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["expiresInSeconds"] == 300
    url = urlsplit(body["url"])
    query = parse_qs(url.query)
    assert url.scheme == "https" and url.path == f"/receipts/{ALICE}/{fulfilled_order}.json"
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    fetched = requests.get(body["url"], timeout=5)  # moto answers the presigned GET
    assert fetched.status_code == 200 and fetched.json()["orderId"] == fulfilled_order


def test_another_customer_gets_404_like_a_missing_order(
    app: ModuleType, fulfilled_order: str, context: LambdaContext
) -> None:
    for order_id, sub in (
        (fulfilled_order, BOB),
        (new_order_id(), ALICE),
        ("not-an-id", ALICE),
        (fulfilled_order, None),
    ):
        response = receipt_link(app, order_id, context, sub)
        assert response["statusCode"] == 404, (order_id, sub)
        assert "url" not in response["body"]


def test_an_order_without_a_receipt_yet_is_404(app: ModuleType, aws: AwsWorld, context: LambdaContext) -> None:
    order_id = new_order_id()
    aws.put("ORDERS_TABLE_NAME", {"orderId": order_id, "customerId": ALICE, "status": "ACCEPTED"})

    assert receipt_link(app, order_id, context, ALICE)["statusCode"] == 404


def test_a_receipt_key_outside_the_callers_prefix_gets_no_link(
    app: ModuleType, aws: AwsWorld, context: LambdaContext
) -> None:
    order_id = new_order_id()
    key = f"receipts/{BOB}/{order_id}.json"  # a corrupted row must not hand out another customer's receipt
    aws.put("ORDERS_TABLE_NAME", {"orderId": order_id, "customerId": ALICE, "status": "FULFILLED", "receiptKey": key})

    assert receipt_link(app, order_id, context, ALICE)["statusCode"] == 404
