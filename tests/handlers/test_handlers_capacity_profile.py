"""The capacity profile's AWS calls per invocation are the handlers' own: counted on moto, not guessed.

``offline/capacity-profile.yaml`` lists, per handler, the calls one invocation makes; ``make capacity``
prices and times them. Two kinds of check:

* each handler's happy path run once on moto (the handler test kit's world), its clients' calls counted
  through botocore's public ``before-call`` event;
* whole orders, one per outcome (fulfilled, out of stock, payment declined, customer rejected), through
  the recorded prod stack on moto with the real handlers (``tests/workflows/flowkit``): every AWS call
  every handler makes is counted, and compared with what the profile charges for the invocations that
  really ran (``failedCalls`` for an invocation that raised the outcome's business error). The same runs
  measure the customer-status EXPRESS workflow's log volume, the figure ``logs.stateMachineBytesPerState``
  must carry.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, Final

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
from tests.recorded import recorded_program
from tests.workflows.flowkit import FaultInjector, OrderFlow, RecordedSystem, running_flow
from tests.workflows.flowkit_orders import claims_for, history_for_tier, new_customer, place_order

# A rejected or failed order leaves some handlers with no business metric to flush.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# The profile's call kinds, by the botocore service name of the client that makes them.
SERVICE_OF: Final[dict[str, str]] = {
    "dynamodb": "dynamodb",
    "events": "events",
    "sns": "sns",
    "iot": "iot-data",
    "s3": "s3",
    "sqs": "sqs",
}
CUSTOMER_STATUS_WORKFLOW: Final = "customer-status-workflow"
# Measured EXPRESS log bytes per state may differ from the profile's figure by this share (payload sizes
# vary with ids and timestamps); a bigger gap means the profile's figure is stale.
LOG_BYTES_TOLERANCE: Final = 0.10


def profile_document() -> dict[str, Any]:
    return dict(yaml.safe_load(DEFAULT_PROFILE.read_text()))


def requests_of(calls: list[dict[str, Any]] | None) -> Counter[str]:
    """Requests per service of a profile's list of calls."""
    counted: Counter[str] = Counter()
    for call in calls or []:
        kind = next(name for name in call if name in SERVICE_OF)
        counted[SERVICE_OF[kind]] += int(call.get("requests", 1))
    return counted


def profiled_calls(package: str, key: str = "calls") -> Counter[str]:
    """Requests per service that the profile charges one invocation of ``package`` (``key``: which list)."""
    return requests_of(profile_document()["functions"].get(package, {}).get(key))


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


# ---- whole orders, per outcome, on the recorded prod stack ------------------------------------------


# The flow's runtime names a call's service by its hyphenised service id; the profile by the client's name.
SERVICE_NAME_OF_ID: Final[dict[str, str]] = {"eventbridge": "events", "iot-data-plane": "iot-data"}


class CallCounter(FaultInjector):
    """Injects nothing; counts every call the runtime checks (each of every handler's module-level clients)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def throttle_call(self, package: str, service: str, operation: str, request: Mapping[str, Any]) -> bool:
        self.calls[(package, SERVICE_NAME_OF_ID.get(service, service))] += 1
        return False


@contextmanager
def counting_calls(flow: OrderFlow) -> Iterator[Counter[tuple[str, str]]]:
    """Count every AWS call of every recorded handler, as ``(package, service)``, for the block.

    The runtime asks its fault injector about each call of a handler's module-level clients, in every
    execution environment; a client held one level down (create_order's event publisher) is hooked here
    in the function's first environment. A call made elsewhere would go uncounted and fail the
    comparison, never pass it.
    """
    counter = CallCounter()
    hooked: list[BaseClient] = []
    for package in sorted({spec.package for spec in flow.system.functions.values()}):
        module = flow.runtime.module(package)
        module_level = {id(value) for value in vars(module).values() if isinstance(value, BaseClient)}
        for client in clients_of(module):
            if id(client) in module_level:
                continue

            def record(model: Any, _package: str = package, **_: Any) -> None:
                counter.calls[(_package, model.service_model.service_name)] += 1

            client.meta.events.register("before-call.*.*", record, unique_id="capacity-profile-outcome")
            hooked.append(client)
    injector, flow.runtime.faults = flow.runtime.faults, counter
    try:
        yield counter.calls
    finally:
        flow.runtime.faults = injector
        for client in hooked:
            client.meta.events.unregister("before-call.*.*", unique_id="capacity-profile-outcome")


@dataclass(frozen=True)
class OrderOutcome:
    """One kind of order: who places it, what, and the business error a step raises (if any)."""

    name: str
    tier: str
    lines: Mapping[str, int]
    error: str | None = None


# Prices, limits and stock come from the handlers and the catalogue (flowkit_orders): a RETURNING
# customer's two mugs go through; six desk lamps are one more than the initial stock; nine hoodies are over
# a NEW customer's charge limit; a BLOCKED customer is rejected before fulfilment.
OUTCOMES: Final = (
    OrderOutcome("fulfilled", "RETURNING", {"MUG-BLK": 2}),
    OrderOutcome("out of stock", "RETURNING", {"LAMP-DESK": 6, "MUG-BLK": 1}, error="OutOfStock"),
    OrderOutcome("payment declined", "NEW", {"HOOD-L": 9}, error="PaymentDeclined"),
    OrderOutcome("customer rejected", "BLOCKED", {"MUG-WHT": 1}),
)


@pytest.fixture(scope="module")
def prod_system() -> RecordedSystem:
    return RecordedSystem.from_program(recorded_program("prod"))


@pytest.fixture
def prod_flow(prod_system: RecordedSystem) -> Iterator[OrderFlow]:
    with running_flow(prod_system) as flow:
        yield flow


@dataclass(frozen=True)
class OrderRun:
    """What one order did: the calls each handler made, and the calls the profile charges for its invocations."""

    counted: Counter[tuple[str, str]]
    charged: Counter[tuple[str, str]]
    invocations: Counter[str]
    flow: OrderFlow


def run_order(flow: OrderFlow, outcome: OrderOutcome) -> OrderRun:
    """Place one order of ``outcome`` through the API, let it finish, and read it back as the page does."""
    customer = new_customer()
    history_for_tier(flow, customer, outcome.tier)
    already = len(flow.runtime.invocations)
    with counting_calls(flow) as counted:
        order_id = place_order(flow, customer, outcome.lines)["orderId"]
        # What the page reads per order (web/public/js/main.js): the order once, the order list twice.
        for path, route in ((f"/orders/{order_id}", "GET /orders/{orderId}"), ("/orders", "GET /orders")):
            reply = flow.api.request("GET", path, claims=claims_for(flow.system, customer, route))
            assert reply["statusCode"] == 200, reply
        flow.router.pump()
    document = profile_document()
    route_calls = {entry["route"]: entry["calls"] for entry in document["page"]["requests"] if "calls" in entry}
    charged: Counter[tuple[str, str]] = Counter()
    invocations: Counter[str] = Counter()
    for invocation in flow.runtime.invocations[already:]:
        invocations[invocation.package] += 1
        spec = document["functions"].get(invocation.package, {})
        event = invocation.event if isinstance(invocation.event, dict) else {}
        failed = invocation.error_type is not None and invocation.error_type == outcome.error
        if event.get("routeKey") in route_calls:
            calls = requests_of(route_calls[event["routeKey"]])
        else:
            calls = requests_of(spec.get("failedCalls" if failed and "failedCalls" in spec else "calls"))
        calls.update(
            {
                service: n * len(event.get("Records", []))
                for service, n in requests_of(spec.get("perRecordCalls")).items()
            }
        )
        for service, requests in calls.items():
            charged[(invocation.package, service)] += requests
    return OrderRun(counted, charged, invocations, flow)


@pytest.mark.parametrize("outcome", OUTCOMES, ids=[o.name for o in OUTCOMES])
def test_handlers_capacity_profile_calls_match_every_handler_per_outcome(
    prod_flow: OrderFlow, outcome: OrderOutcome
) -> None:
    run = run_order(prod_flow, outcome)
    # The order went the way the outcome says (else the comparison would be about another path).
    if outcome.error is not None:
        assert any(i.error_type == outcome.error for i in prod_flow.runtime.invocations), outcome
    if outcome.tier == "BLOCKED":
        assert "reserve_inventory" not in run.invocations
    assert dict(run.counted) == dict(run.charged), f"{outcome.name}: handlers' calls differ from the profile"


def test_handlers_capacity_profile_declined_payment_writes_nothing(prod_flow: OrderFlow) -> None:
    # The profile charged a PutItem for every process_payment invocation; a declined one raises first.
    run = run_order(prod_flow, OUTCOMES[2])
    assert run.invocations["process_payment"] == 1
    assert run.counted[("process_payment", "dynamodb")] == 0
    assert profiled_calls("process_payment", "failedCalls") == Counter()
    assert profiled_calls("process_payment")["dynamodb"] == 1


# ---- the EXPRESS workflow's log volume -------------------------------------------------------------


def _log_details(event: Mapping[str, Any]) -> dict[str, Any]:
    return next((dict(value) for key, value in event.items() if key.endswith("EventDetails")), {})


def log_record(event: Mapping[str, Any], execution_arn: str) -> dict[str, Any]:
    """The CloudWatch Logs record Step Functions writes for one history event (level ALL, execution data).

    The fields of the documented record: ``id``, ``type``, ``details`` (with inputs and outputs when
    execution data is included), ``previous_event_id``, ``event_timestamp`` (epoch milliseconds, as a
    string), ``execution_arn`` and ``redrive_count``
    (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
    """
    timestamp = event["timestamp"]
    millis = int(timestamp.timestamp() * 1000) if isinstance(timestamp, datetime) else int(timestamp)
    return {
        "id": str(event["id"]),
        "type": event["type"],
        "details": _log_details(event),
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": str(millis),
        "execution_arn": execution_arn,
        "redrive_count": "0",
    }


@dataclass(frozen=True)
class LogVolume:
    """Log bytes of one execution: the records' UTF-8 JSON, and the states it entered."""

    log_bytes: int
    events: int
    states: int

    @property
    def bytes_per_state(self) -> float:
        return self.log_bytes / self.states


def express_log_volume(flow: OrderFlow, component: str = CUSTOMER_STATUS_WORKFLOW) -> list[LogVolume]:
    """Log volume of every execution of ``component`` so far, from the execution history moto kept."""
    volumes = []
    for listed in flow.list_executions(component):
        arn = listed["executionArn"]
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = flow.sfn.get_execution_history(executionArn=arn, **({"nextToken": token} if token else {}))
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
        records = [json.dumps(log_record(event, arn), separators=(",", ":")).encode() for event in events]
        states = sum(1 for event in events if event["type"].endswith("StateEntered"))
        volumes.append(LogVolume(sum(len(record) for record in records), len(records), states))
    return volumes


def test_handlers_capacity_profile_express_log_bytes_are_measured(
    prod_flow: OrderFlow, prod_system: RecordedSystem
) -> None:
    machine = prod_system.machine(CUSTOMER_STATUS_WORKFLOW)
    recorded = recorded_program("prod").named(f"{CUSTOMER_STATUS_WORKFLOW}-state-machine").inputs
    logging = recorded["loggingConfiguration"]
    assert (machine.type, logging["level"], logging["includeExecutionData"]) == ("EXPRESS", "ALL", True)
    for outcome in (OUTCOMES[0], OUTCOMES[3]):
        run_order(prod_flow, outcome)
    volumes = express_log_volume(prod_flow)
    assert len(volumes) == 2
    measured = sum(v.log_bytes for v in volumes) / sum(v.states for v in volumes)
    profiled = profile_document()["logs"]["stateMachineBytesPerState"]["ALL"]
    assert profiled == pytest.approx(measured, rel=LOG_BYTES_TOLERANCE), (
        f"measured {measured:.0f} bytes per state on moto, the profile says {profiled}"
    )
