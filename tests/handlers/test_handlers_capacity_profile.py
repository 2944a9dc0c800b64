"""The capacity profile's AWS calls per invocation are the handlers' own: counted on moto, not guessed.

``offline/capacity-profile.yaml`` lists, per handler, the calls one invocation makes; ``make capacity``
prices and times them. Each case below runs a handler's happy path once on moto and counts the calls
its clients really make (botocore's public ``before-call`` event), per service.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import yaml
from botocore.client import BaseClient

from offline.order_path import DEFAULT_PROFILE
from tests.handlers.handlers_testkit import (
    ALICE,
    VALID_ORDER_BODY,
    AwsWorld,
    LambdaContext,
    correlated,
    eventbridge_event,
    http_event,
    import_handler,
    new_order_id,
    order_request,
)

# The profile's call kinds, by the botocore service name of the client that makes them.
SERVICE_OF: dict[str, str] = {"dynamodb": "dynamodb", "events": "events", "sns": "sns", "iot": "iot-data"}


def profiled_calls(package: str) -> Counter[str]:
    spec = yaml.safe_load(DEFAULT_PROFILE.read_text())["functions"][package]
    counted: Counter[str] = Counter()
    for call in spec.get("calls") or []:
        kind = next(key for key in call if key in SERVICE_OF)
        counted[SERVICE_OF[kind]] += int(call.get("requests", 1))
    return counted


def clients_of(module: ModuleType) -> list[BaseClient]:
    """The boto3 clients a handler module created at import (module globals and one level into objects)."""
    found: dict[int, BaseClient] = {}
    for value in vars(module).values():
        candidates = [value, *getattr(value, "__dict__", {}).values()]
        for candidate in candidates:
            if isinstance(candidate, BaseClient):
                found[id(candidate)] = candidate
    return list(found.values())


def count_calls(module: ModuleType, invoke: Callable[[], Any]) -> Counter[str]:
    counted: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        counted[model.service_model.service_name] += 1

    clients = clients_of(module)
    for client in clients:
        client.meta.events.register("before-call.*.*", record, unique_id="capacity-profile")
    try:
        invoke()
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", unique_id="capacity-profile")
    return counted


def test_handlers_capacity_profile_create_order(aws: AwsWorld, context: LambdaContext) -> None:
    app = import_handler("create_order")
    counted = count_calls(app, lambda: app.lambda_handler(order_request(VALID_ORDER_BODY, key=new_order_id()), context))
    assert counted == profiled_calls("create_order")


def test_handlers_capacity_profile_notify(aws: AwsWorld, context: LambdaContext) -> None:
    app = import_handler("notify")
    event = eventbridge_event("OrderAccepted", correlated(new_order_id()) | {"tier": "NEW"})
    assert count_calls(app, lambda: app.lambda_handler(event, context)) == profiled_calls("notify")


def test_handlers_capacity_profile_customer_status(aws: AwsWorld, context: LambdaContext) -> None:
    app = import_handler("customer_status")
    request = {"orderId": new_order_id(), "customerId": ALICE, "correlationId": "c-1"}
    assert count_calls(app, lambda: app.lambda_handler(request, context)) == profiled_calls("customer_status")


def test_handlers_capacity_profile_get_order(aws: AwsWorld, context: LambdaContext) -> None:
    create = import_handler("create_order")
    reply = create.lambda_handler(order_request(VALID_ORDER_BODY, key=new_order_id()), context)
    order_id = json.loads(reply["body"])["orderId"]
    app = import_handler("get_order")
    event = http_event("GET", f"/orders/{order_id}", path_parameters={"orderId": order_id})
    assert count_calls(app, lambda: app.lambda_handler(event, context)) == profiled_calls("get_order")


@pytest.mark.parametrize("package", ["create_order", "notify", "customer_status", "get_order"])
def test_handlers_capacity_profile_lists_the_handler(package: str) -> None:
    assert profiled_calls(package), f"{package} has no calls in the capacity profile"
