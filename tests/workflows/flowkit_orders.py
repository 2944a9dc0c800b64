"""Customers, orders and expectations for the workflow and end-to-end tests.

Prices and stock come from ``handlers/shared/catalogue.json`` (the file the program seeds the inventory
table from), and retry expectations from the recorded definitions, so no figure here is a second copy of
the product's numbers.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from offline.emulator.semantics import TaskRetrier
from tests.workflows.flowkit import HANDLERS_DIR, OrderFlow, RecordedSystem
from tests.workflows.flowkit_mocks import matching_retrier

CATALOGUE: Final[dict[str, dict[str, Any]]] = {
    product["sku"]: product for product in json.loads((HANDLERS_DIR / "shared" / "catalogue.json").read_text())
}
ADDRESS: Final[dict[str, str]] = {
    "name": "Alice Example",
    "line1": "1 Main Street",
    "city": "Dublin",
    "postalCode": "D01 F5P2",
    "country": "IE",
}
TERMINAL_ORDER_STATUSES: Final = frozenset({"FULFILLED", "FAILED", "REJECTED"})


def new_customer() -> str:
    """A fresh Cognito ``sub``."""
    return str(uuid.uuid4())


def claims_for(system: RecordedSystem, sub: str, route_key: str = "POST /orders") -> dict[str, Any]:
    """Claims of a Cognito access token the recorded JWT authorizer of ``route_key`` accepts."""
    route = next(route for route in system.routes if route.route_key == route_key)
    return {
        "sub": sub,
        "iss": route.jwt_issuer,
        "client_id": route.jwt_audiences[0],
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": sub,
    }


def order_body(lines: Mapping[str, int]) -> dict[str, Any]:
    """A ``POST /orders`` body: ``{sku: quantity}`` lines and the default address."""
    return {
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
        "shippingAddress": ADDRESS,
    }


def total_cents(lines: Mapping[str, int]) -> int:
    """What the catalogue charges for ``lines``."""
    return sum(CATALOGUE[sku]["unitPriceCents"] * quantity for sku, quantity in lines.items())


def api_request(flow: OrderFlow, method: str, path: str, **request: Any) -> dict[str, Any]:
    """One request through the recorded HTTP API from a client that keeps to the stage's rate limit.

    The stage throttles on the emulator's virtual clock; a well-behaved client sends at most ``rate``
    requests a second, so each request here lets ``1 / rate`` seconds pass first.
    """
    flow.clock.advance(1 / flow.system.throttle_rate)
    return flow.api.request(method, path, **request)


def place_order(
    flow: OrderFlow,
    customer: str,
    lines: Mapping[str, int],
    *,
    key: str | None = None,
    settle: bool = True,
) -> dict[str, Any]:
    """``POST /orders`` through the recorded HTTP API; returns the 202 reply body.

    Raises
    ------
    AssertionError
        When the API does not answer 202 (the message carries the reply).
    """
    response = api_request(
        flow,
        "POST",
        "/orders",
        claims=claims_for(flow.system, customer),
        body=order_body(lines),
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )
    assert response["statusCode"] == 202, response
    if settle:
        flow.router.pump()
    return dict(json.loads(response["body"]))


def seed_history(
    flow: OrderFlow, customer: str, *, fulfilled: int = 0, failed: int = 0, fulfilled_cents: int = 2_000
) -> None:
    """Write earlier orders of ``customer`` (what ``customer_status`` classifies from).

    The failed ones are recent declined payments: the only failures that count towards ``BLOCKED``.
    """
    statuses = ["FULFILLED"] * fulfilled + ["FAILED"] * failed
    for index, status in enumerate(statuses):
        declined_at = (datetime.now(UTC) - timedelta(hours=index + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        flow.put_item(
            "orders",
            {
                "orderId": str(uuid.uuid4()),
                "customerId": customer,
                "createdAt": f"2025-06-{index % 28 + 1:02d}T10:00:00.000Z" if status == "FULFILLED" else declined_at,
                "status": status,
                "totalCents": fulfilled_cents if status == "FULFILLED" else 1_000,
                "currency": "EUR",
                **({"reason": "PAYMENT_DECLINED"} if status == "FAILED" else {}),
            },
        )


def history_for_tier(flow: OrderFlow, customer: str, tier: str) -> None:
    """Give ``customer`` the history that ``customer_status`` classifies as ``tier``."""
    app = flow.runtime.module("customer_status")
    if tier == "NEW":
        return
    if tier == "RETURNING":
        seed_history(flow, customer, fulfilled=1)
    elif tier == "VIP":
        seed_history(flow, customer, fulfilled=app.VIP_FULFILLED_ORDERS)
    elif tier == "BLOCKED":
        seed_history(flow, customer, failed=app.BLOCKED_AFTER_FAILED_ORDERS)
    else:
        raise ValueError(f"tier must be NEW, RETURNING, VIP or BLOCKED, got {tier!r}")


def stock(flow: OrderFlow, sku: str) -> int:
    """Units of ``sku`` still available."""
    row = flow.item("inventory", {"pk": f"SKU#{sku}"})
    assert row is not None, f"no stock row for {sku}"
    return int(row["available"])


def events_of(flow: OrderFlow, order_id: str) -> dict[str, int]:
    """How many events of each detail-type were routed on the custom bus for one order.

    A count, not a sequence: two workflows put events concurrently, and EventBridge does not order them.
    """
    counts = Counter(event["detail-type"] for event in flow.bus_events() if event["detail"].get("orderId") == order_id)
    return dict(sorted(counts.items()))


def expected_waits(retrier: Mapping[str, Any], retries: int) -> list[float]:
    """The pre-jitter waits a Retrier prescribes for its first ``retries`` retries (what ``make burst`` applies)."""
    declared = TaskRetrier.from_asl(retrier)
    return [declared.ceiling(retry) for retry in range(1, retries + 1)]


def retrier_for(definition: Mapping[str, Any], state: str, error: str) -> dict[str, Any]:
    """The Retrier ASL applies to ``error`` in ``state`` (the first whose ErrorEquals covers it)."""
    retriers = list(definition["States"][state].get("Retry", []))
    index = matching_retrier(retriers, error)
    if index is None:
        raise AssertionError(f"state {state!r} has no Retrier for {error!r}")
    return dict(retriers[index])


def fulfillment_input(order: Mapping[str, Any], tier: str) -> dict[str, Any]:
    """The fulfillment input the customer-status workflow builds: the OrderPlaced detail plus ``tier``."""
    return {
        "orderId": order["orderId"],
        "customerId": order["customerId"],
        "correlationId": order.get("correlationId", "corr-test"),
        "items": order["items"],
        "totalCents": order["totalCents"],
        "currency": order["currency"],
        "placedAt": order["createdAt"],
        "tier": tier,
    }
