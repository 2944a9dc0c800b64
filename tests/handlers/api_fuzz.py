"""Hostile inputs for the two HTTP API functions, as Hypothesis strategies, and what every reply must satisfy.

Shared by the property test (``test_handlers_api_fuzz.py``) and the 10,000-input run
(``benchmarks/fuzz_api.py``): anything a client can send to ``POST /orders`` (body, ``Idempotency-Key``,
``X-Correlation-Id``) and to ``GET /orders`` (query parameters), valid or not, large or odd.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Final

from hypothesis import strategies as st

from tests.handlers.handlers_testkit import VALID_ORDER_BODY, http_event, order_request

MAX_ERROR_BODY_BYTES: Final = 64 * 1024
"""Largest error reply allowed: small beside Lambda's 6 MB response limit, whatever the request."""

UNICODE_DIGITS: Final = "0123456789²³¹①②⑨٣۴߅੬௫໒༣၅႒០᠒᥆᧐᪅᭓᮹᱂꘢꣐꤅꧑꩒꯹０１９𝟎𝟗"
"""Characters ``str.isdigit()`` calls digits, most of which ``int()`` refuses."""

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
HEADER_VALUES = st.one_of(st.none(), st.text(max_size=140), st.from_regex(r"[\x21-\x7e]{1,128}", fullmatch=True))


@st.composite
def order_body(draw: st.DrawFn) -> str | None:
    """A ``POST /orders`` body: a valid order, a valid one broken somewhere, any JSON, any text, or a flood."""
    kind = draw(st.sampled_from(["valid", "mutated", "json", "text", "flood", "long-key", "deep", "none"]))
    if kind == "none":
        return None
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES))
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=5000))
        return "[" * depth + "]" * draw(st.sampled_from([0, depth]))
    body: dict[str, Any] = copy.deepcopy(VALID_ORDER_BODY)
    if kind == "flood":
        # Many unknown keys: one error each before the reply was bounded.
        count = draw(st.integers(min_value=11, max_value=3000))
        body |= {f"unknown{index}": index for index in range(count)}
    elif kind == "long-key":
        body[draw(st.sampled_from("xé€")) * draw(st.integers(min_value=200, max_value=200_000))] = 1
    elif kind == "mutated":
        target = draw(st.sampled_from(["top", "line", "address"]))
        holder = {"top": body, "line": body["items"][0], "address": body["shippingAddress"]}[target]
        key = draw(st.sampled_from(sorted(holder)) | st.text(max_size=10))
        holder[key] = draw(JSON_VALUES)
    return json.dumps(body)


@st.composite
def create_order_event(draw: st.DrawFn) -> dict[str, Any]:
    """A ``POST /orders`` event with any body and any (or no) idempotency and correlation headers."""
    body = draw(order_body())
    headers = {
        name: value
        for name, value in (
            ("X-Correlation-Id", draw(HEADER_VALUES)),
            ("Content-Type", draw(st.sampled_from(["application/json", "text/plain"]))),
        )
        if value is not None
    }
    encoded = draw(st.booleans())
    event = order_request(body, key=draw(HEADER_VALUES), headers=headers, base64_body=encoded and body is not None)
    if draw(st.booleans()) and body is not None:
        # A body that claims base64 but is not (or not UTF-8 once decoded).
        event["body"] = draw(st.sampled_from(["%%%", base64.b64encode(b"\xff\xfe").decode()]))
        event["isBase64Encoded"] = True
    return event


QUERY_VALUES = st.one_of(
    st.text(alphabet=UNICODE_DIGITS, min_size=1, max_size=8),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.integers(min_value=1, max_value=5000).map(lambda digits: "9" * digits),
    st.text(max_size=40),
    st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    JSON_VALUES.map(lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).decode()),
)


@st.composite
def list_orders_event(draw: st.DrawFn) -> dict[str, Any]:
    """A ``GET /orders`` event with any ``limit``, ``nextToken`` and other query parameters."""
    event = http_event("GET", "/orders")
    names = st.sampled_from(["limit", "nextToken"]) | st.text(min_size=1, max_size=10)
    parameters = draw(st.dictionaries(names, QUERY_VALUES, max_size=3))
    if parameters:
        event["queryStringParameters"] = parameters
        event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in parameters.items())
    return event


def problems_with(response: dict[str, Any]) -> list[str]:
    """What is wrong with one reply: a 5xx, an error body over :data:`MAX_ERROR_BODY_BYTES`, or not JSON."""
    found = []
    status = int(response["statusCode"])
    size = len(str(response.get("body") or "").encode())
    if status >= 500:
        found.append(f"status {status}: {str(response.get('body'))[:200]}")
    if status >= 400 and size > MAX_ERROR_BODY_BYTES:
        found.append(f"status {status} with a {size}-byte body")
    try:
        json.loads(response.get("body") or "null")
    except ValueError:
        found.append(f"status {status} with a body that is not JSON")
    return found
