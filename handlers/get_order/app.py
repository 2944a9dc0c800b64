"""``GET /orders/{orderId}``: an order and its timeline, to its owner only; ``GET /orders``: the caller's orders.

``GET /orders/{orderId}/receipt`` gives the owner a short-lived link to the order's receipt.

Anyone else, like a caller asking for an order that does not exist, gets the same 404: the reply never
reveals whether another customer's order exists. The list (newest first, a page at a time) reads the
``byCustomer`` index with the caller's ``sub`` as the key, so it can only ever hold the caller's orders.
Both replies are allow-listed: only the order attributes in :data:`CUSTOMER_ORDER_ATTRIBUTES` (the list:
:data:`SUMMARY_ATTRIBUTES`) and each event's customer-visible fields, so what the workflows and operators
keep on the order (shipment internals, ``attention``) or a legacy event field never reaches the customer.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config

from shared import TRACED_MODULES
from shared.dynamo import from_item, to_item
from shared.errors import TransientDependencyError, transient_dependency_errors
from shared.http import error_response, json_response
from shared.models.api import FieldError
from shared.models.common import ORDER_ID_PATTERN
from shared.models.events import customer_message, customer_view

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]
TIMELINE_TABLE_NAME: Final = os.environ["TIMELINE_TABLE_NAME"]
RECEIPTS_BUCKET_NAME: Final = os.environ["RECEIPTS_BUCKET_NAME"]

ORDER_ID: Final = re.compile(ORDER_ID_PATTERN)
CUSTOMER_ORDER_ATTRIBUTES: Final = (
    "orderId",
    "customerId",
    "correlationId",
    "status",
    "createdAt",
    "updatedAt",
    "items",
    "totalCents",
    "currency",
    "shippingAddress",
    "tier",
    "reason",
    "message",
    "shipmentId",
    "receiptKey",
)
"""What the order's owner is shown of the order row; anything else stays with the workflows and operators."""
TIMELINE_ATTRIBUTES: Final = ("eventKey", "eventId", "detailType", "time", "detail")
# EventBridge times have second precision: events of one second are put in lifecycle order.
LIFECYCLE_ORDER: Final = {
    "OrderPlaced": 0,
    "OrderAccepted": 1,
    "OrderRejected": 1,
    "OrderFulfilled": 2,
    "OrderFailed": 2,
    "ReceiptReady": 3,
}
# Receipts live at receipts/<customerId>/<orderId>.json (the fulfillment workflow writes them).
RECEIPTS_KEY_PREFIX: Final = "receipts/"
# Long enough to open the receipt from the page, short enough that a shared link soon stops working.
RECEIPT_LINK_SECONDS: Final = 300
BY_CUSTOMER_INDEX: Final = "byCustomer"
# What a list entry shows; the page asks GET /orders/{orderId} for the rest (address, timeline).
SUMMARY_ATTRIBUTES: Final = ("orderId", "status", "createdAt", "updatedAt", "totalCents", "currency", "items")
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 50
# The index's key of the last order of a page: where the next page starts.
PAGE_KEY_ATTRIBUTES: Final = frozenset({"orderId", "customerId", "createdAt"})
# ASCII digits only: str.isdigit() also takes "²" and "①", which int() refuses.
PAGE_SIZE_TEXT: Final = re.compile(r"[0-9]{1,3}")
MAX_PAGE_TOKEN_LENGTH: Final = 1024
"""Longest ``nextToken`` accepted; the tokens this API hands out are a few hundred characters."""

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = APIGatewayHttpResolver()

dynamodb = boto3.client("dynamodb")
# Signature version 4 on the regional endpoint: what a presigned URL for a new bucket needs.
s3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


@tracer.capture_method
def read_timeline(order_id: str) -> list[dict[str, Any]]:
    """Every timeline row of an order (allow-listed), oldest first, in lifecycle order within the same second."""
    rows: list[dict[str, Any]] = []
    pages = dynamodb.get_paginator("query").paginate(
        TableName=TIMELINE_TABLE_NAME,
        KeyConditionExpression="orderId = :order_id",
        ExpressionAttributeValues=to_item({":order_id": order_id}),
        ScanIndexForward=True,
    )
    for page in pages:
        for item in page["Items"]:
            row = from_item(item)
            entry: dict[str, Any] = {name: row[name] for name in TIMELINE_ATTRIBUTES if name in row}
            entry["detail"] = customer_view(str(row.get("detailType", "")), row.get("detail") or {})
            rows.append(entry)
    # The sort key starts with the event time; the lifecycle breaks ties within a second.
    return sorted(rows, key=lambda row: (row.get("time", ""), LIFECYCLE_ORDER.get(row.get("detailType", ""), 9)))


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> Response:
    """The caller's order with its timeline (200), or 404."""
    caller = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    not_found = error_response(HTTPStatus.NOT_FOUND, "order not found")
    if not caller or not ORDER_ID.match(order_id):
        return not_found
    with transient_dependency_errors("orders table"):
        response = dynamodb.get_item(TableName=ORDERS_TABLE_NAME, Key=to_item({"orderId": order_id}))
    order = from_item(response["Item"]) if "Item" in response else None
    if order is None or order.get("customerId") != caller:
        logger.info("Order not shown", order_id=order_id, exists=order is not None)
        return not_found
    with transient_dependency_errors("timeline table"):
        timeline = read_timeline(order_id)
    view = {name: order[name] for name in CUSTOMER_ORDER_ATTRIBUTES if name in order}
    if "reason" in view:
        # Our sentence for the code, whatever text the row holds.
        view["message"] = customer_message(view["reason"])
    return json_response(HTTPStatus.OK, {"order": view, "timeline": timeline})


class InvalidListRequestError(ValueError):
    """A ``GET /orders`` query parameter is wrong; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def page_size(raw: str | None) -> int:
    """The ``limit`` query parameter: 1 to :data:`MAX_PAGE_SIZE`, :data:`DEFAULT_PAGE_SIZE` when absent.

    Raises
    ------
    InvalidListRequestError
        When it is not such a whole number.
    """
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not PAGE_SIZE_TEXT.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidListRequestError("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def encode_page_token(key: dict[str, Any]) -> str:
    """An opaque ``nextToken`` for the index key where the next page starts."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()).decode()


def decode_page_token(raw: str, caller: str) -> dict[str, Any]:
    """The index key a ``nextToken`` stands for.

    Raises
    ------
    InvalidListRequestError
        When the token was not made by :func:`encode_page_token` for this caller.
    """
    if len(raw) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidListRequestError("nextToken", "is not a token this API returned")
    try:
        key = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, UnicodeError, ValueError, RecursionError) as error:
        raise InvalidListRequestError("nextToken", "is not a token this API returned") from error
    if (
        not isinstance(key, dict)
        or set(key) != PAGE_KEY_ATTRIBUTES
        or not all(isinstance(value, str) for value in key.values())
        or key["customerId"] != caller
    ):
        raise InvalidListRequestError("nextToken", "is not a token this API returned")
    return key


@app.get("/orders")
@tracer.capture_method
def list_orders() -> Response:
    """The caller's orders, newest first.

    Query parameters: ``limit`` (1-50, default 20) and ``nextToken`` (from the previous page).

    Returns
    -------
    Response
        200 ``{"orders": [...], "nextToken": str | null}``; 400 naming the query parameter at fault.
    """
    caller = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    if not caller:
        return error_response(HTTPStatus.UNAUTHORIZED, "the access token carries no subject")
    parameters = app.current_event.query_string_parameters or {}
    try:
        limit = page_size(parameters.get("limit"))
        token = parameters.get("nextToken")
        start_key = decode_page_token(token, caller) if token is not None else None
    except InvalidListRequestError as error:
        field = FieldError(field=error.field, message=str(error))
        return error_response(HTTPStatus.BAD_REQUEST, f"{error.field} {error}", [field])
    query: dict[str, Any] = {
        "TableName": ORDERS_TABLE_NAME,
        "IndexName": BY_CUSTOMER_INDEX,
        "KeyConditionExpression": "customerId = :customer_id",
        "ExpressionAttributeValues": to_item({":customer_id": caller}),
        "ProjectionExpression": ", ".join(f"#{name}" for name in SUMMARY_ATTRIBUTES),
        "ExpressionAttributeNames": {f"#{name}": name for name in SUMMARY_ATTRIBUTES},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key is not None:
        query["ExclusiveStartKey"] = to_item(start_key)
    with transient_dependency_errors("orders table"):
        page = dynamodb.query(**query)
    last_key = page.get("LastEvaluatedKey")
    return json_response(
        HTTPStatus.OK,
        {
            "orders": [from_item(item) for item in page["Items"]],
            "nextToken": encode_page_token(from_item(last_key)) if last_key else None,
        },
    )


@app.get("/orders/<order_id>/receipt")
@tracer.capture_method
def get_receipt_link(order_id: str) -> Response:
    """A short-lived link to the caller's own receipt (200 ``{"url", "expiresInSeconds"}``), or 404.

    The link is a presigned ``GetObject`` URL: the browser fetches the receipt from S3 directly, for
    :data:`RECEIPT_LINK_SECONDS` only. Another customer's order, and an order without a receipt yet, get 404.
    """
    caller = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    not_found = error_response(HTTPStatus.NOT_FOUND, "receipt not found")
    if not caller or not ORDER_ID.match(order_id):
        return not_found
    with transient_dependency_errors("orders table"):
        response = dynamodb.get_item(
            TableName=ORDERS_TABLE_NAME,
            Key=to_item({"orderId": order_id}),
            ProjectionExpression="customerId, receiptKey",
        )
    order = from_item(response["Item"]) if "Item" in response else {}
    key = str(order.get("receiptKey", ""))
    # The key names its customer too: a link is only ever made inside the caller's own prefix.
    if order.get("customerId") != caller or not key.startswith(f"{RECEIPTS_KEY_PREFIX}{caller}/"):
        return not_found
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": RECEIPTS_BUCKET_NAME, "Key": key, "ResponseContentType": "application/json"},
        ExpiresIn=RECEIPT_LINK_SECONDS,
    )
    return json_response(HTTPStatus.OK, {"url": url, "expiresInSeconds": RECEIPT_LINK_SECONDS})


@app.exception_handler(TransientDependencyError)
def _dependency_unavailable(error: TransientDependencyError) -> Response:
    logger.exception("Order not read: a dependency failed")
    return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "try again shortly", headers={"Retry-After": "1"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
