"""``GET /orders/{orderId}``: the order and its event timeline, to its owner only.

Anyone else, like a caller asking for an order that does not exist, gets the same 404: the reply never
reveals whether another customer's order exists. The reply is allow-listed: only the order attributes
in :data:`CUSTOMER_ORDER_ATTRIBUTES` and each event's customer-visible fields, so what the workflows
and operators keep on the order (shipment internals, ``attention``) or a legacy event field never
reaches the customer.
"""

from __future__ import annotations

import os
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths

from shared.dynamo import from_item, to_item
from shared.errors import TransientDependencyError, transient_dependency_errors
from shared.http import error_response, json_response
from shared.models.common import ORDER_ID_PATTERN
from shared.models.events import customer_view

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]
TIMELINE_TABLE_NAME: Final = os.environ["TIMELINE_TABLE_NAME"]

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

logger = Logger()
# Patch only what this function calls: patch_all would import requests, sqlite3 and more just to
# patch them, which costs cold-start time for nothing.
tracer = Tracer(patch_modules=("botocore",))
app = APIGatewayHttpResolver()

dynamodb = boto3.client("dynamodb")


@tracer.capture_method
def read_timeline(order_id: str) -> list[dict[str, Any]]:
    """Every timeline row of an order, oldest first, in lifecycle order within the same second.

    Parameters
    ----------
    order_id:
        The order.

    Returns
    -------
    list[dict[str, Any]]
        Rows with ``eventKey``, ``eventId``, ``detailType``, ``time`` and the allow-listed ``detail``.
    """
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
    """The caller's order with its timeline, or 404.

    Parameters
    ----------
    order_id:
        Path parameter ``orderId``.

    Returns
    -------
    Response
        200 ``{"order": {...}, "timeline": [...]}``, or 404 ``{"error": ...}``.
    """
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
    return json_response(HTTPStatus.OK, {"order": view, "timeline": timeline})


@app.exception_handler(TransientDependencyError)
def _dependency_unavailable(error: TransientDependencyError) -> Response:
    logger.exception("Order not read: a dependency failed")
    return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "try again shortly", headers={"Retry-After": "1"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload 2.0) entry point.

    Parameters
    ----------
    event:
        The API Gateway HTTP API event, with JWT authorizer claims.
    context:
        The Lambda context.

    Returns
    -------
    dict[str, Any]
        The HTTP API proxy response.
    """
    return app.resolve(event, context)
