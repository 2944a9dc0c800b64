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

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.handlers_testkit import VALID_ORDER_BODY, AwsWorld, LambdaContext, order_request

HANDLER = "create_order"

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


ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postalCode", "country")
KNOWN_FIELD_NAMES = ("items", "shippingAddress", "sku", "quantity", *ADDRESS_FIELDS)


FIELD_NAMES = st.one_of(
    st.sampled_from(KNOWN_FIELD_NAMES), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
)
"""Candidate names of an unknown field: the contract's own names are drawn on purpose, to be turned away."""


def unknown_field_name(draw: st.DrawFn, known: set[str]) -> str:
    """A field name the object does not have (no known name ends in "x", so the suffix makes it unknown)."""
    name = draw(FIELD_NAMES)
    return f"{name}x" if name in known else name


def malformed_body(draw: st.DrawFn) -> tuple[str, str]:
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
    where = draw(st.sampled_from(["top", "line", "address"]))
    if where == "top":
        name = unknown_field_name(draw, set(body))
        body[name] = draw(JSON_SCALARS)
        return json.dumps(body), name
    if where == "line":
        name = unknown_field_name(draw, set(body["items"][line]))
        body["items"][line][name] = draw(JSON_SCALARS)
        return json.dumps(body), f"items.{line}.{name}"
    # Every field the address model knows, optional ones included: setting one is not an unknown field.
    name = unknown_field_name(draw, set(ADDRESS_FIELDS))
    body["shippingAddress"][name] = draw(JSON_SCALARS)
    return json.dumps(body), f"shippingAddress.{name}"


malformed_bodies = st.composite(malformed_body)


def test_an_unknown_field_is_never_one_the_contract_knows() -> None:
    # Seen at 5,000 examples (seed 7): the name "items" was drawn for a top-level unknown field. The draws
    # are scripted: line 0, the mutation, where, the field name, its value.
    for where, name, field in [("top", "items", "itemsx"), ("line", "sku", "items.0.skux")] + [
        ("address", known, f"shippingAddress.{known}x") for known in ADDRESS_FIELDS
    ]:
        scripted = iter([0, "unknown-field", where, name, 7])

        raw_body, named = malformed_body(lambda strategy, values=scripted: next(values))

        assert named == field
        assert json.loads(raw_body) != VALID_ORDER_BODY


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
