"""``POST /orders``: validate, price from the catalogue, store the order PENDING and put ``OrderPlaced``.

Idempotency: the ``Idempotency-Key`` header is required. The key is scoped to the caller (JWT ``sub``
+ header), so two customers can never collide. A retry with the same key and body replays the first
reply and writes nothing; the same key with another body is refused (409, payload tampering); a retry
while the first request still runs gets 409 too, never a 500.

One order per key, whatever fails: the order id is a name-based UUID of (caller, key) and the row is
written only if absent. When Powertools could not record the first reply (its table failed, or the
function timed out after storing the order), the retry finds the row, announces that same order again
if it is still PENDING (consumers record one ``OrderPlaced`` per order) and answers with it.

Replies: 202 with the order id, status URL and real-time topic; 400 naming the field or header at
fault; 401 without a ``sub`` claim; 409 as above; 422 naming an unknown SKU; 503 when a dependency
failed (retry with the same key).
"""

from __future__ import annotations

import binascii
import json
import os
import re
import uuid
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from pydantic import ValidationError

from shared import TRACED_MODULES
from shared.bus import EventPublisher, EventPublishError
from shared.catalogue import CURRENCY, load_catalogue
from shared.clock import utc_timestamp
from shared.dynamo import put_if_absent, to_item, write_if
from shared.errors import TransientDependencyError
from shared.http import error_response, field_errors, json_response
from shared.models.api import CreateOrderRequest, CreateOrderResponse, FieldError
from shared.models.common import ContractModel, OrderStatus
from shared.models.events import ORDER_PLACED, OrderLine, OrderPlacedDetail

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

ORDERS_TABLE_NAME: Final = os.environ["ORDERS_TABLE_NAME"]
IDEMPOTENCY_TABLE_NAME: Final = os.environ["IDEMPOTENCY_TABLE_NAME"]
EVENT_BUS_NAME: Final = os.environ["EVENT_BUS_NAME"]
REALTIME_TOPIC_PREFIX: Final = os.environ["REALTIME_TOPIC_PREFIX"]

IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
CORRELATION_ID_HEADER: Final = "X-Correlation-Id"
# Visible ASCII only: keys and correlation ids end up in logs, table keys and event details.
HEADER_TOKEN: Final = re.compile(r"^[\x21-\x7e]{1,128}$")
ORDER_ID_NAMESPACE: Final = uuid.UUID("6f1c1c55-5c2b-4c55-9a55-0f1e8f0a4b7d")
"""Namespace of the name-based (version 5) order ids; changing it would change every future order id."""
IDEMPOTENCY_WINDOW_SECONDS: Final = 24 * 60 * 60
"""How long a key is remembered: clients retry within minutes; a day covers a long outage."""

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
# Powertools stores a reply as JSON with sorted keys; sorting ours too makes a replay byte-identical.
app = APIGatewayHttpResolver(serializer=partial(json.dumps, separators=(",", ":"), sort_keys=True))

dynamodb = boto3.client("dynamodb")
publisher = EventPublisher(boto3.client("events"), EVENT_BUS_NAME)
catalogue = load_catalogue()


def _count_replay(response: Any, idempotent_data: DataRecord) -> Any:
    # Powertools calls this only when it returns a stored reply instead of running the function.
    metrics.add_metric(name="OrderRequestsReplayed", unit=MetricUnit.Count, value=1)
    return response


idempotency_config = IdempotencyConfig(
    event_key_jmespath="[customerId, idempotencyKey]",
    payload_validation_jmespath="order",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
    response_hook=_count_replay,
)
persistence_layer = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE_NAME, boto3_client=dynamodb)


class PlaceOrder(ContractModel):
    """What :func:`place_order` needs; only ``customerId``, ``idempotencyKey`` and ``order`` are hashed."""

    customer_id: str
    idempotency_key: str
    order: CreateOrderRequest
    correlation_id: str
    api_domain_name: str


class KeyUsedForAnotherOrder(Exception):  # noqa: N818 - reads as the condition it reports
    """The caller's Idempotency-Key already placed a different order (after Powertools forgot the key)."""


class UnknownSkus(Exception):  # noqa: N818 - reads as the condition it reports
    """The order names SKUs the catalogue does not sell."""

    def __init__(self, positions: dict[int, str]) -> None:
        super().__init__(", ".join(sorted(set(positions.values()))))
        self.positions = positions


def price_lines(order: CreateOrderRequest) -> list[OrderLine]:
    """Price each line from the catalogue.

    Parameters
    ----------
    order:
        The validated request.

    Returns
    -------
    list[OrderLine]
        The lines with their catalogue unit price.

    Raises
    ------
    UnknownSkus
        Naming every line whose SKU is not in the catalogue.
    """
    unknown = {index: line.sku for index, line in enumerate(order.items) if line.sku not in catalogue}
    if unknown:
        raise UnknownSkus(unknown)
    return [
        OrderLine(sku=line.sku, quantity=line.quantity, unit_price_cents=catalogue[line.sku].unit_price_cents)
        for line in order.items
    ]


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    """The one order id of a (caller, Idempotency-Key) pair: any re-run of the request finds the same row.

    Parameters
    ----------
    customer_id:
        JWT ``sub`` of the caller.
    idempotency_key:
        The ``Idempotency-Key`` header.

    Returns
    -------
    str
        A name-based UUID (version 5).
    """
    # The unit separator cannot occur in a header token, so no two pairs give the same name.
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, f"{customer_id}\x1f{idempotency_key}"))


def _announce(order_row: dict[str, Any]) -> None:
    """Put ``OrderPlaced`` for a stored order row."""
    detail = OrderPlacedDetail(
        order_id=order_row["orderId"],
        customer_id=order_row["customerId"],
        correlation_id=order_row["correlationId"],
        items=order_row["items"],
        total_cents=order_row["totalCents"],
        currency=order_row["currency"],
        placed_at=order_row["createdAt"],
    )
    publisher.publish(ORDER_PLACED, detail)


def _remove_unannounced(order_row: dict[str, Any]) -> None:
    """Delete the row this run wrote, only while it is still that PENDING row (EventBridge refused its event)."""
    removed = write_if(
        dynamodb.delete_item,
        "orders table",
        TableName=ORDERS_TABLE_NAME,
        Key=to_item({"orderId": order_row["orderId"]}),
        ConditionExpression="#status = :pending AND createdAt = :created_at",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=to_item(
            {":pending": OrderStatus.PENDING.value, ":created_at": order_row["createdAt"]}
        ),
    )
    if not removed:
        logger.warning("The order moved on meanwhile; it is kept", order_id=order_row["orderId"])


def _reply(order_row: dict[str, Any], api_domain_name: str) -> dict[str, Any]:
    order_id = order_row["orderId"]
    reply = CreateOrderResponse(
        order_id=order_id,
        status=OrderStatus.PENDING,
        status_url=f"https://{api_domain_name}/orders/{order_id}",
        realtime_topic=f"{REALTIME_TOPIC_PREFIX}/{order_row['customerId']}/{order_id}",
        total_cents=order_row["totalCents"],
        currency=order_row["currency"],
    )
    return reply.model_dump(mode="json")


@tracer.capture_method
@idempotent_function(
    data_keyword_argument="request",
    persistence_store=persistence_layer,
    config=idempotency_config,
)
def place_order(*, request: PlaceOrder) -> dict[str, Any]:
    """Store the order PENDING and put ``OrderPlaced``; runs once per (customer, Idempotency-Key).

    If EventBridge refuses the event, the new order row is deleted again (only while it is still this
    run's PENDING row) and the error propagates, so Powertools forgets the key and a retry starts afresh.
    If the outcome of PutEvents is unknown (a timeout, a lost connection, a 5xx), the event may be on the
    bus and the order is kept PENDING: an announced order is never deleted. Either way a retry with the
    same key finds the row (if any) and announces it again. If the row is already there (an earlier run
    stored it, then failed before Powertools recorded the reply), that order is the answer.

    Parameters
    ----------
    request:
        Passed by keyword: Powertools hashes it to find a previous run.

    Returns
    -------
    dict[str, Any]
        The JSON body of the 202 reply (stored and replayed verbatim).

    Raises
    ------
    TransientDependencyError
        When the orders table throttled or failed.
    EventPublishError
        When EventBridge did not confirm the event (a new order row is removed only if it was refused).
    KeyUsedForAnotherOrder
        When the key's order differs from this request.
    """
    order_id = order_id_for(request.customer_id, request.idempotency_key)
    placed_at = utc_timestamp(timespec="milliseconds")
    lines = price_lines(request.order)
    order_row = {
        "orderId": order_id,
        "customerId": request.customer_id,
        "createdAt": placed_at,
        "updatedAt": placed_at,
        "status": OrderStatus.PENDING.value,
        "items": [line.model_dump(mode="json") for line in lines],
        "totalCents": sum(line.quantity * line.unit_price_cents for line in lines),
        "currency": CURRENCY,
        "shippingAddress": request.order.shipping_address.model_dump(mode="json", exclude_none=True),
        "correlationId": request.correlation_id,
    }
    existing = put_if_absent(
        dynamodb,
        ORDERS_TABLE_NAME,
        order_row,
        key="orderId",
        dependency="orders table",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    if existing is not None:
        same_order = {"customerId", "items", "shippingAddress"}
        if any(existing.get(name) != order_row[name] for name in same_order):
            raise KeyUsedForAnotherOrder(order_id)
        if existing.get("status") == OrderStatus.PENDING:
            # Whether the earlier run put OrderPlaced is unknown: put it again, consumers keep one.
            _announce(existing)
        logger.info("Order already stored for this key; answering with it", order_id=order_id)
        metrics.add_metric(name="OrdersRecovered", unit=MetricUnit.Count, value=1)
        return _reply(existing, request.api_domain_name)
    try:
        _announce(order_row)
    except EventPublishError as error:
        if error.maybe_accepted:
            # The event may be on the bus: the workflow may charge and ship this order, so the row stays
            # PENDING. A retry with the same key finds it and announces it again (consumers keep one).
            logger.exception("OrderPlaced not confirmed; keeping the order for the retry", order_id=order_id)
        else:
            logger.exception("OrderPlaced refused; removing the order so a retry starts clean", order_id=order_id)
            _remove_unannounced(order_row)
        raise
    logger.info("Order placed", order_id=order_id, total_cents=order_row["totalCents"], lines=len(lines))
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return _reply(order_row, request.api_domain_name)


def _reject(
    status: HTTPStatus,
    message: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    total: int | None = None,
) -> Response:
    metrics.add_metric(name="OrderRequestsRejected", unit=MetricUnit.Count, value=1)
    return error_response(status, message, fields or [], headers, total=total)


@app.post("/orders")
@tracer.capture_method
def create_order() -> Response:
    """Validate the request, then place the order at most once per (customer, Idempotency-Key).

    Returns
    -------
    Response
        202 with :class:`CreateOrderResponse`, or an error body naming the field at fault.
    """
    event = app.current_event
    customer_id = event.request_context.authorizer.jwt_claim.get("sub")
    if not customer_id:
        return _reject(HTTPStatus.UNAUTHORIZED, "the access token carries no subject")

    idempotency_key = event.headers.get(IDEMPOTENCY_KEY_HEADER)
    if idempotency_key is None or not HEADER_TOKEN.match(idempotency_key):
        problem = "is required" if idempotency_key is None else "must be 1-128 visible ASCII characters"
        field = FieldError(field=IDEMPOTENCY_KEY_HEADER, message=f"header {problem}")
        return _reject(HTTPStatus.BAD_REQUEST, f"{IDEMPOTENCY_KEY_HEADER} header {problem}", [field])

    correlation_id = event.headers.get(CORRELATION_ID_HEADER)
    if correlation_id is not None:
        if not HEADER_TOKEN.match(correlation_id):
            field = FieldError(field=CORRELATION_ID_HEADER, message="must be 1-128 visible ASCII characters")
            return _reject(HTTPStatus.BAD_REQUEST, f"{CORRELATION_ID_HEADER} header is malformed", [field])
        logger.set_correlation_id(correlation_id)

    try:
        body = event.decoded_body
    except (binascii.Error, UnicodeDecodeError):
        field = FieldError(field="body", message="must be UTF-8 JSON (base64-encoded when isBase64Encoded)")
        return _reject(HTTPStatus.BAD_REQUEST, "the body is not UTF-8 JSON", [field])
    if not body:
        return _reject(HTTPStatus.BAD_REQUEST, "a JSON body is required", [FieldError(field="body", message="empty")])
    try:
        order = CreateOrderRequest.model_validate_json(body)
    except ValidationError as error:
        return _reject(HTTPStatus.BAD_REQUEST, "the order is invalid", field_errors(error), total=error.error_count())

    try:
        price_lines(order)
    except UnknownSkus as error:
        fields = [
            FieldError(field=f"items.{index}.sku", message=f"unknown sku {sku!r}")
            for index, sku in sorted(error.positions.items())
        ]
        return _reject(HTTPStatus.UNPROCESSABLE_ENTITY, f"not in the catalogue: {error}", fields)

    request = PlaceOrder(
        customer_id=customer_id,
        idempotency_key=idempotency_key,
        order=order,
        correlation_id=logger.get_correlation_id() or event.request_context.request_id,
        api_domain_name=event.request_context.domain_name,
    )
    reply = place_order(request=request)
    return json_response(HTTPStatus.ACCEPTED, reply, headers={"Location": reply["statusUrl"]})


@app.exception_handler([IdempotencyValidationError, KeyUsedForAnotherOrder])
def _key_reused_with_another_body(error: Exception) -> Response:
    logger.warning("Idempotency-Key reused with a different body")
    field = FieldError(field=IDEMPOTENCY_KEY_HEADER, message="already used with a different body")
    return _reject(HTTPStatus.CONFLICT, "this Idempotency-Key was already used for a different order", [field])


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_flight(error: IdempotencyAlreadyInProgressError) -> Response:
    field = FieldError(field=IDEMPOTENCY_KEY_HEADER, message="a request with this key is still being processed")
    return _reject(
        HTTPStatus.CONFLICT,
        "a request with this Idempotency-Key is still in progress; retry shortly",
        [field],
        headers={"Retry-After": "1"},
    )


@app.exception_handler([EventPublishError, IdempotencyPersistenceLayerError, TransientDependencyError])
def _dependency_unavailable(error: Exception) -> Response:
    logger.exception("Order not placed: a dependency failed")
    metrics.add_metric(name="OrderPlacementFailed", unit=MetricUnit.Count, value=1)
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "the order could not be placed; retry with the same Idempotency-Key",
        headers={"Retry-After": "1"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload 2.0) entry point."""
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
