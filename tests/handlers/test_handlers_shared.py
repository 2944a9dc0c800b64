"""The shared library: catalogue contract, event publishing, error mapping, DynamoDB values, models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from pydantic import ValidationError

from shared import errors
from shared.bus import EventPublisher, EventPublishError
from shared.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue, parse_catalogue
from shared.clock import utc_timestamp
from shared.dynamo import cancellation_codes, from_item, plain, put_if_absent, read_item, to_item
from shared.models.api import CreateOrderRequest
from shared.models.envelope import BusEvent
from shared.models.events import OrderAcceptedDetail
from tests.handlers.handlers_testkit import (
    ENVIRONMENT,
    REGION,
    VALID_ORDER_BODY,
    AwsWorld,
    client_error,
    eventbridge_event,
)

ORDER_ID = "6b1d9a4e-2f7c-4e8a-9d3b-5c6e7f8a9b0c"


def test_the_catalogue_file_has_the_shape_the_pulumi_program_seeds_from() -> None:
    entries = json.loads(CATALOGUE_PATH.read_text())

    assert 6 <= len(entries) <= 12
    for entry in entries:
        assert set(entry) == {"sku", "name", "unitPriceCents", "initialStock"}
        assert isinstance(entry["unitPriceCents"], int)
        assert isinstance(entry["initialStock"], int)
    assert len({entry["sku"] for entry in entries}) == len(entries)


def test_the_loader_indexes_the_catalogue_by_sku() -> None:
    catalogue = load_catalogue()

    assert list(catalogue) == [entry["sku"] for entry in json.loads(CATALOGUE_PATH.read_text())]
    assert catalogue["MUG-BLK"].unit_price_cents == 1299
    with pytest.raises(TypeError):
        catalogue["NEW"] = catalogue["MUG-BLK"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "document"),
        ('[{"sku": "A", "name": "a", "unitPriceCents": 1}]', r"0\.initialStock"),
        ('[{"sku": "A", "name": "a", "unitPriceCents": "1", "initialStock": 1}]', r"0\.unitPriceCents"),
        ('[{"sku": "A", "name": "a", "unitPriceCents": 1, "initialStock": -1}]', r"0\.initialStock"),
        (
            '[{"sku": "A", "name": "a", "unitPriceCents": 1, "initialStock": 1},'
            ' {"sku": "A", "name": "b", "unitPriceCents": 2, "initialStock": 2}]',
            r"1\.sku: duplicate sku 'A'",
        ),
    ],
    ids=["invalid-json", "missing-field", "price-as-string", "negative-stock", "duplicate-sku"],
)
def test_a_broken_catalogue_is_reported_naming_the_entry_and_field(raw: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(raw, source="test.json")


def accepted(correlation_id: str = "corr-9") -> OrderAcceptedDetail:
    return OrderAcceptedDetail(order_id=ORDER_ID, customer_id="c-1", correlation_id=correlation_id, tier="VIP")


def test_an_event_is_put_with_our_source_and_its_correlation_id() -> None:
    client = boto3.client("events", region_name=REGION)
    expected_entry = {
        "Source": "orderflow.orders",
        "DetailType": "OrderAccepted",
        "Detail": json.dumps(
            {"orderId": ORDER_ID, "customerId": "c-1", "correlationId": "corr-9", "tier": "VIP"}, separators=(",", ":")
        ),
        "EventBusName": "orderflow",
    }
    with Stubber(client) as stub:
        stub.add_response(
            "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}, {"Entries": [expected_entry]}
        )

        assert EventPublisher(client, "orderflow").publish("OrderAccepted", accepted()) == "e-1"
        stub.assert_no_pending_responses()


def test_an_entry_eventbridge_rejects_raises_even_though_the_call_succeeded() -> None:
    client = boto3.client("events", region_name=REGION)
    rejected = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}]}
    with Stubber(client) as stub:
        stub.add_response("put_events", rejected)

        with pytest.raises(EventPublishError, match="InternalFailure: try later"):
            EventPublisher(client, "orderflow").publish("OrderAccepted", accepted())


def test_a_failed_put_events_call_raises() -> None:
    client = boto3.client("events", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("put_events", service_error_code="ThrottlingException", http_status_code=400)

        with pytest.raises(EventPublishError, match="ThrottlingException"):
            EventPublisher(client, "orderflow").publish("OrderAccepted", accepted())


def test_step_function_error_names_are_the_class_names() -> None:
    assert [errors.OutOfStock.__name__, errors.PaymentDeclined.__name__, errors.TransientDependencyError.__name__] == [
        "OutOfStock",
        "PaymentDeclined",
        "TransientDependencyError",
    ]


@pytest.mark.parametrize(
    "failure",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("SomethingNew", status=503),
        EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
    ],
    ids=["provisioned-throughput", "throttling", "request-limit", "any-5xx", "network"],
)
def test_throttling_5xx_and_network_failures_become_transient(failure: Exception) -> None:
    with (
        pytest.raises(errors.TransientDependencyError, match="orders table") as raised,
        errors.transient_dependency_errors("orders table"),
    ):
        raise failure

    assert raised.value.__cause__ is failure


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException", "ConditionalCheckFailedException"])
def test_other_client_errors_pass_through(code: str) -> None:
    with pytest.raises(ClientError) as raised, errors.transient_dependency_errors("orders table"):
        raise client_error(code)

    assert raised.value.response["Error"]["Code"] == code


def test_dynamodb_values_round_trip_to_plain_json() -> None:
    item = to_item({"id": "a", "count": 3, "price": Decimal("1.5"), "tags": ["x"], "nested": {"n": 2}, "gone": None})

    assert "gone" not in item
    assert from_item(item) == {"id": "a", "count": 3, "price": 1.5, "tags": ["x"], "nested": {"n": 2}}
    assert plain({Decimal(2), Decimal(1)}) == [1, 2]


def test_cancellation_codes_are_read_per_action() -> None:
    cancelled = client_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
    )

    assert cancellation_codes(cancelled) == ["None", "ConditionalCheckFailed"]
    assert cancellation_codes(client_error("ValidationException")) == []


def test_request_bodies_are_strict_and_closed() -> None:
    loose = {**VALID_ORDER_BODY, "items": [{"sku": "MUG-BLK", "quantity": 1.0}], "extra": True}

    with pytest.raises(ValidationError) as raised:
        CreateOrderRequest.model_validate_json(json.dumps(loose))

    assert sorted(".".join(map(str, error["loc"])) for error in raised.value.errors()) == [
        "extra",
        "items.0.quantity",
    ]


def test_contract_models_speak_camel_case_and_ignore_unknown_fields() -> None:
    detail = OrderAcceptedDetail.model_validate(
        {"orderId": ORDER_ID, "customerId": "c", "correlationId": "x", "tier": "NEW", "addedLater": 1}
    )

    assert detail.model_dump(mode="json") == {
        "orderId": ORDER_ID,
        "customerId": "c",
        "correlationId": "x",
        "tier": "NEW",
    }


def test_timestamps_are_utc_with_a_literal_z() -> None:
    in_dublin_summer = datetime(2026, 7, 1, 13, 30, 5, 250_000, tzinfo=timezone(timedelta(hours=1)))

    assert utc_timestamp(in_dublin_summer) == "2026-07-01T12:30:05Z"
    assert utc_timestamp(in_dublin_summer, timespec="milliseconds") == "2026-07-01T12:30:05.250Z"
    now = datetime.strptime(utc_timestamp(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_put_if_absent_writes_once_and_then_reports_what_is_there(aws: AwsWorld) -> None:
    table = ENVIRONMENT["PAYMENTS_TABLE_NAME"]
    sent: list[dict[str, Any]] = []
    aws.dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", lambda params, **_: sent.append(params))

    first = put_if_absent(aws.dynamodb, table, {"orderId": "o-1", "n": 1}, key="orderId", dependency="payments table")
    second = put_if_absent(aws.dynamodb, table, {"orderId": "o-1", "n": 2}, key="orderId", dependency="payments table")
    old = put_if_absent(
        aws.dynamodb,
        table,
        {"orderId": "o-1", "n": 3},
        key="orderId",
        dependency="payments table",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )

    assert (first, second, old) == (None, {}, {"orderId": "o-1", "n": 1})
    assert aws.get("PAYMENTS_TABLE_NAME", {"orderId": "o-1"}) == {"orderId": "o-1", "n": 1}
    assert {request["ConditionExpression"] for request in sent} == {"attribute_not_exists(orderId)"}


def test_a_throttled_put_if_absent_is_transient(aws: AwsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(**request: Any) -> None:
        raise client_error("ProvisionedThroughputExceededException")

    monkeypatch.setattr(aws.dynamodb, "put_item", throttled)

    with pytest.raises(errors.TransientDependencyError, match="payments table"):
        put_if_absent(aws.dynamodb, "payments", {"orderId": "o-1"}, key="orderId", dependency="payments table")


def test_read_item_reads_plain_values_or_none(aws: AwsWorld) -> None:
    aws.put("PAYMENTS_TABLE_NAME", {"orderId": "o-1", "amountCents": 1299, "status": "CHARGED"})
    table = ENVIRONMENT["PAYMENTS_TABLE_NAME"]

    found = read_item(aws.dynamodb, table, {"orderId": "o-1"}, dependency="payments table")
    projected = read_item(
        aws.dynamodb, table, {"orderId": "o-1"}, dependency="payments table", ProjectionExpression="amountCents"
    )

    assert found == {"orderId": "o-1", "amountCents": 1299, "status": "CHARGED"}
    assert projected == {"amountCents": 1299}
    assert read_item(aws.dynamodb, table, {"orderId": "o-2"}, dependency="payments table") is None


def test_the_bus_envelope_is_powertools_eventbridge_model_and_refuses_a_time_without_a_zone() -> None:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    delivered = eventbridge_event("OrderPlaced", {"orderId": ORDER_ID}, time="2026-01-31T12:00:00Z")
    event = BusEvent.model_validate(delivered)

    assert isinstance(event, EventBridgeModel)
    assert (event.detail_type, utc_timestamp(event.time), event.detail) == (
        "OrderPlaced",
        "2026-01-31T12:00:00Z",
        {"orderId": ORDER_ID},
    )
    with pytest.raises(ValidationError, match="time"):
        BusEvent.model_validate(delivered | {"time": "2026-01-31T12:00:00"})
    with pytest.raises(ValidationError, match="account"):
        BusEvent.model_validate({key: value for key, value in delivered.items() if key != "account"})
