"""Property: every malformed ``POST /orders`` body gets a 4xx naming the field, writes nothing, never a 5xx.

Each example starts from a valid body and breaks exactly one thing, so the field that must be named
is known; the reply must name it.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.handlers_testkit import VALID_ORDER_BODY, AwsWorld, LambdaContext, import_handler, order_request

SKU = re.compile(r"[A-Z0-9][A-Z0-9-]*")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postalCode", "country")
NOT_A_STRING = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=2))
NOT_AN_INT = st.one_of(
    st.text(max_size=5), st.floats(allow_nan=False), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _invalid_sku(value: str) -> bool:
    stripped = value.strip()
    return len(stripped) > 32 or SKU.fullmatch(stripped) is None


@st.composite
def malformed_bodies(draw: st.DrawFn) -> tuple[str, str]:
    """(raw body, dotted path of the field the 400 must name)."""
    body: dict[str, Any] = copy.deepcopy(VALID_ORDER_BODY)
    line = draw(st.integers(min_value=0, max_value=len(body["items"]) - 1))
    mutation = draw(
        st.sampled_from(
            [
                "not-json",
                "not-an-object",
                "drop-top-level",
                "items-wrong-type",
                "items-empty",
                "drop-line-field",
                "quantity-out-of-range",
                "quantity-wrong-type",
                "sku-invalid",
                "sku-wrong-type",
                "drop-address-field",
                "address-field-wrong-type",
                "address-field-blank",
                "country-invalid",
                "line2-too-long",
                "unknown-field",
            ]
        )
    )
    if mutation == "not-json":
        return draw(st.text(max_size=30).filter(lambda text: not _is_json(text))), "body"
    if mutation == "not-an-object":
        value = draw(st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3)))
        return json.dumps(value), "body"
    if mutation == "drop-top-level":
        field = draw(st.sampled_from(["items", "shippingAddress"]))
        del body[field]
        return json.dumps(body), field
    if mutation == "items-wrong-type":
        body["items"] = draw(st.one_of(JSON_SCALARS, st.dictionaries(st.text(max_size=3), JSON_SCALARS, max_size=2)))
        return json.dumps(body), "items"
    if mutation == "items-empty":
        body["items"] = []
        return json.dumps(body), "items"
    if mutation == "drop-line-field":
        field = draw(st.sampled_from(["sku", "quantity"]))
        del body["items"][line][field]
        return json.dumps(body), f"items.{line}.{field}"
    if mutation == "quantity-out-of-range":
        quantity = draw(st.one_of(st.integers(max_value=0), st.integers(min_value=101)))
        body["items"][line]["quantity"] = quantity
        return json.dumps(body), f"items.{line}.quantity"
    if mutation == "quantity-wrong-type":
        body["items"][line]["quantity"] = draw(NOT_AN_INT)
        return json.dumps(body), f"items.{line}.quantity"
    if mutation == "sku-invalid":
        body["items"][line]["sku"] = draw(st.text(max_size=40).filter(_invalid_sku))
        return json.dumps(body), f"items.{line}.sku"
    if mutation == "sku-wrong-type":
        body["items"][line]["sku"] = draw(NOT_A_STRING)
        return json.dumps(body), f"items.{line}.sku"
    if mutation == "drop-address-field":
        field = draw(st.sampled_from(REQUIRED_ADDRESS_FIELDS))
        del body["shippingAddress"][field]
        return json.dumps(body), f"shippingAddress.{field}"
    if mutation == "address-field-wrong-type":
        field = draw(st.sampled_from(REQUIRED_ADDRESS_FIELDS))
        body["shippingAddress"][field] = draw(NOT_A_STRING)
        return json.dumps(body), f"shippingAddress.{field}"
    if mutation == "address-field-blank":
        field = draw(st.sampled_from(REQUIRED_ADDRESS_FIELDS))
        body["shippingAddress"][field] = draw(st.sampled_from(["", " ", "\t\n"]))
        return json.dumps(body), f"shippingAddress.{field}"
    if mutation == "country-invalid":
        body["shippingAddress"]["country"] = draw(
            st.text(max_size=4).filter(lambda text: re.fullmatch(r"[A-Z]{2}", text.strip()) is None)
        )
        return json.dumps(body), "shippingAddress.country"
    if mutation == "line2-too-long":
        body["shippingAddress"]["line2"] = "x" * draw(st.integers(min_value=201, max_value=400))
        return json.dumps(body), "shippingAddress.line2"
    # unknown-field: at the top level, on a line or in the address
    name = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8))
    where = draw(st.sampled_from(["top", "line", "address"]))
    if where == "top":
        assert name not in body
        body[name] = draw(JSON_SCALARS)
        return json.dumps(body), name
    if where == "line":
        if name in body["items"][line]:
            name += "x"
        body["items"][line][name] = draw(JSON_SCALARS)
        return json.dumps(body), f"items.{line}.{name}"
    if name in {"name", "city"}:
        name += "x"
    body["shippingAddress"][name] = draw(JSON_SCALARS)
    return json.dumps(body), f"shippingAddress.{name}"


@pytest.fixture
def app(aws: AwsWorld) -> ModuleType:
    return import_handler("create_order")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=malformed_bodies())
def test_every_malformed_body_gets_a_4xx_naming_the_field_and_writes_nothing(
    app: ModuleType, aws: AwsWorld, context: LambdaContext, case: tuple[str, str]
) -> None:
    raw_body, field = case

    response = app.lambda_handler(order_request(raw_body, key=str(uuid.uuid4())), context)

    assert 400 <= response["statusCode"] < 500, response
    reply = json.loads(response["body"])
    assert isinstance(reply["error"], str)
    assert field in [problem["field"] for problem in reply["fields"]], reply
    assert aws.scan("ORDERS_TABLE_NAME") == []
    assert aws.scan("IDEMPOTENCY_TABLE_NAME") == []
    assert aws.bus_events() == []
