"""Builders for the events AWS sends our functions, and readers for what the functions sent to AWS.

Everything here talks to moto (started by the ``aws`` fixture in conftest.py); nothing is faked in
product code.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import boto3
import pytest

REGION = "eu-west-1"
ACCOUNT = "123456789012"
IOT_DATA_ENDPOINT = f"data-ats.iot.{REGION}.amazonaws.com"  # an endpoint moto serves
COGNITO_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_TestPool"
COGNITO_CLIENT_ID = "4example0client0id0000000"

FUNCTION_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "ORDERS_TABLE_NAME": "orders",
    "TIMELINE_TABLE_NAME": "timeline",
    "INVENTORY_TABLE_NAME": "inventory",
    "PAYMENTS_TABLE_NAME": "payments",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "EVENT_BUS_NAME": "orderflow",
    "REALTIME_TOPIC_PREFIX": "orders",
    "IOT_DATA_ENDPOINT": IOT_DATA_ENDPOINT,
    "COGNITO_ISSUER": COGNITO_ISSUER,
    "COGNITO_CLIENT_ID": COGNITO_CLIENT_ID,
    "RECEIPTS_BUCKET_NAME": "orderflow-test-receipts",
}
"""What a deployed function finds in its environment (docs/contracts.md), with this kit's values."""
ENVIRONMENT = {
    **FUNCTION_ENVIRONMENT,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "orderflow-tests",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
"""The environment of a handler test: the function's, plus moto's credentials and no X-Ray daemon."""

ALICE = "8f3c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6"
BOB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

VALID_ORDER_BODY: dict[str, Any] = {
    "items": [{"sku": "MUG-BLK", "quantity": 2}, {"sku": "TEE-M", "quantity": 1}],
    "shippingAddress": {
        "name": "Alice Example",
        "line1": "1 Main Street",
        "city": "Dublin",
        "postalCode": "D01 F5P2",
        "country": "IE",
    },
}


def import_handler(package: str) -> ModuleType:
    """Import ``<package>.app`` as Lambda does (first call runs module init with the test environment)."""
    return importlib.import_module(f"{package}.app")


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and our code read."""

    function_name: str = "orderflow-test-fn"
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orderflow-test-fn"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/orderflow-test-fn"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"
    remaining_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def http_event(
    method: str,
    path: str,
    *,
    body: str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    sub: str | None = ALICE,
    path_parameters: dict[str, str] | None = None,
    request_id: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event behind a JWT authorizer."""
    raw_body = json.dumps(body) if isinstance(body, dict) else body
    if base64_body and raw_body is not None:
        raw_body = base64.b64encode(raw_body.encode()).decode()
    claims = {"sub": sub, "token_use": "access", "client_id": COGNITO_CLIENT_ID} if sub else {}
    route_path = "/orders/{orderId}" if path_parameters else path
    return {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in (headers or {}).items()}
        | {"content-type": "application/json", "host": "api.example.com"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api123",
            "authorizer": {"jwt": {"claims": claims, "scopes": []}},
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "pytest",
            },
            "requestId": request_id or f"req-{uuid.uuid4().hex[:12]}",
            "routeKey": f"{method} {route_path}",
            "stage": "$default",
            "time": "01/Jan/2026:12:00:00 +0000",
            "timeEpoch": 1767268800000,
        },
        "pathParameters": path_parameters or {},
        "body": raw_body,
        "isBase64Encoded": base64_body,
    }


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of an HTTP API reply."""
    return json.loads(response["body"])


def order_request(body: str | dict[str, Any] | None, key: str | None = "key-1", **kwargs: Any) -> dict[str, Any]:
    """A ``POST /orders`` event with an Idempotency-Key header (unless ``key`` is None)."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Idempotency-Key"] = key
    return http_event("POST", "/orders", body=body, headers=headers, **kwargs)


def eventbridge_event(
    detail_type: str,
    detail: dict[str, Any],
    *,
    event_id: str | None = None,
    source: str = "orderflow.orders",
    time: str = "2026-01-01T12:00:00Z",
) -> dict[str, Any]:
    """An EventBridge event as delivered to a target."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def sqs_record(
    body: str, *, message_id: str | None = None, receipt_handle: str = "handle-0", queue_name: str = "order-audit"
) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends a function, with every attribute SQS always sets."""
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAEXAMPLESENDER",
            "ApproximateFirstReceiveTimestamp": "1767268800001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }


def sqs_event(bodies: list[str], queue_name: str = "order-audit") -> dict[str, Any]:
    """An SQS event for a Lambda event source mapping, one record per body."""
    return {
        "Records": [
            sqs_record(body, receipt_handle=f"handle-{index}", queue_name=queue_name)
            for index, body in enumerate(bodies)
        ]
    }


def correlated(order_id: str, customer_id: str = ALICE, correlation_id: str = "corr-1") -> dict[str, str]:
    """The three fields every order event detail carries."""
    return {"orderId": order_id, "customerId": customer_id, "correlationId": correlation_id}


@dataclass
class AwsWorld:
    """The moto resources of one test, and readers for what handlers wrote to them."""

    dynamodb: Any
    sqs: Any
    bus_queue_url: str

    def scan(self, table_env: str) -> list[dict[str, Any]]:
        """Every item of a table, as plain Python values."""
        from shared.dynamo import from_item

        pages = self.dynamodb.get_paginator("scan").paginate(TableName=ENVIRONMENT[table_env], ConsistentRead=True)
        return [from_item(item) for page in pages for item in page["Items"]]

    def get(self, table_env: str, key: dict[str, str]) -> dict[str, Any] | None:
        """One item by key, or None."""
        from shared.dynamo import from_item, to_item

        response = self.dynamodb.get_item(TableName=ENVIRONMENT[table_env], Key=to_item(key), ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None

    def put(self, table_env: str, item: dict[str, Any]) -> None:
        """Write one item (test setup)."""
        from shared.dynamo import to_item

        self.dynamodb.put_item(TableName=ENVIRONMENT[table_env], Item=to_item(item))

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            received = batch.get("Messages", [])
            if not received:
                return messages
            for message in received:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def bus_events(self) -> list[dict[str, Any]]:
        """Events put on the orderflow bus since the last call (routed by a catch-all rule to a queue).

        As EventBridge delivers them: with the ``account`` moto's delivery leaves out.
        """
        return [{"account": ACCOUNT} | event for event in self._drain(self.bus_queue_url)]

    @staticmethod
    def iot_publishes() -> list[tuple[str, dict[str, Any]]]:
        """Every IoT publish (topic, decoded JSON payload) so far in this test."""
        from moto.iotdata.models import iotdata_backends

        return [(topic, json.loads(payload)) for topic, payload in iotdata_backends[ACCOUNT][REGION].published_payloads]


@cache
def _client(service: str) -> Any:
    # Creating a client costs ~20 ms; moto routes a client made once to whichever mock is active.
    return boto3.client(service, region_name=REGION)


def create_world() -> AwsWorld:
    """Create the tables, bus and queues of docs/contracts.md inside an active moto mock."""
    dynamodb = _client("dynamodb")

    def table(name: str, hash_key: str, range_key: str | None = None, **extra: Any) -> None:
        key_schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        attributes = {hash_key}
        if range_key:
            key_schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
            attributes.add(range_key)
        for index in extra.get("GlobalSecondaryIndexes", []):
            attributes.update(key["AttributeName"] for key in index["KeySchema"])
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=key_schema,
            AttributeDefinitions=[
                {"AttributeName": attribute, "AttributeType": "S"} for attribute in sorted(attributes)
            ],
            **extra,
        )

    by_customer = {
        "IndexName": "byCustomer",
        "KeySchema": [
            {"AttributeName": "customerId", "KeyType": "HASH"},
            {"AttributeName": "createdAt", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    table(ENVIRONMENT["ORDERS_TABLE_NAME"], "orderId", GlobalSecondaryIndexes=[by_customer])
    table(ENVIRONMENT["TIMELINE_TABLE_NAME"], "orderId", "eventKey")
    table(ENVIRONMENT["INVENTORY_TABLE_NAME"], "pk")
    table(ENVIRONMENT["PAYMENTS_TABLE_NAME"], "orderId")
    table(ENVIRONMENT["IDEMPOTENCY_TABLE_NAME"], "id")

    sqs = _client("sqs")
    events = _client("events")
    bus_queue_url = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
    bus_queue_arn = sqs.get_queue_attributes(QueueUrl=bus_queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.create_event_bus(Name=ENVIRONMENT["EVENT_BUS_NAME"])
    events.put_rule(
        Name="capture-all",
        EventBusName=ENVIRONMENT["EVENT_BUS_NAME"],
        EventPattern=json.dumps({"source": ["orderflow.orders"]}),
    )
    events.put_targets(
        Rule="capture-all",
        EventBusName=ENVIRONMENT["EVENT_BUS_NAME"],
        Targets=[{"Id": "queue", "Arn": bus_queue_arn}],
    )

    return AwsWorld(dynamodb=dynamodb, sqs=sqs, bus_queue_url=bus_queue_url)


def seed_inventory(world: AwsWorld, stock: dict[str, int]) -> None:
    """Write ``SKU#<sku>`` rows with the given available quantities."""
    for sku, available in stock.items():
        world.put("INVENTORY_TABLE_NAME", {"pk": f"SKU#{sku}", "available": available})


def seed_accepted_order(world: AwsWorld, address: dict[str, Any] | None = None) -> str:
    """Write an ``ACCEPTED`` order of Alice's, shipping to ``address`` (default: the valid one); its id."""
    order_id = new_order_id()
    world.put(
        "ORDERS_TABLE_NAME",
        {
            "orderId": order_id,
            "customerId": ALICE,
            "createdAt": "2026-01-01T12:00:00.000Z",
            "status": "ACCEPTED",
            "shippingAddress": VALID_ORDER_BODY["shippingAddress"] if address is None else address,
        },
    )
    return order_id


def client_error(code: str, status: int = 400, operation: str = "PutItem", **extra: Any) -> Exception:
    """A botocore ClientError as a throttled or failing AWS call raises it."""
    from botocore.exceptions import ClientError

    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"simulated {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


def make_calls_fail(
    monkeypatch: pytest.MonkeyPatch, client: Any, method: str, error: Exception, only_table: str | None = None
) -> None:
    """Make ``client.<method>`` raise ``error`` until ``monkeypatch`` undoes it (for one table only, when given)."""
    original = getattr(client, method)

    def failing(**kwargs: Any) -> Any:
        if only_table is None or kwargs.get("TableName") == only_table:
            raise error
        return original(**kwargs)

    monkeypatch.setattr(client, method, failing)


def fulfillment_state(order_id: str, *, tier: str = "NEW", items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The fulfillment workflow's state: an OrderPlaced detail plus ``tier``."""
    lines = items or [{"sku": "MUG-BLK", "quantity": 2, "unitPriceCents": 1299}]
    return {
        **correlated(order_id),
        "items": lines,
        "totalCents": sum(line["quantity"] * line["unitPriceCents"] for line in lines),
        "currency": "EUR",
        "placedAt": "2026-01-01T12:00:00.000Z",
        "tier": tier,
    }


def new_order_id() -> str:
    """A fresh order id in the contract's format (UUID)."""
    return str(uuid.uuid4())


def metric_names(captured_stdout: str) -> list[str]:
    """Names of the CloudWatch EMF metrics printed to stdout (Powertools Metrics)."""
    names: list[str] = []
    for line in captured_stdout.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                names.extend(metric["Name"] for metric in directive["Metrics"])
    return names
