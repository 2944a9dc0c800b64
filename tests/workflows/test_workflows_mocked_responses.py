"""Workflow paths driven by ``MockConfigFile.json`` (Step Functions Local's mocked service integrations).

Each test case of the file names the Task states whose responses are mocked; every other state runs for
real against moto (DynamoDB updates, PutEvents, S3), so the recorded definitions are exercised end to end
on the paths that are hard to reach with real handlers: exhausted compensations, a failure that cannot be
recorded, an event that cannot be published, a tier outside the contract.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from orderflow.workflows import CustomerStatusStates, FulfillmentStates, ResumeStage, resume_stage
from tests.workflows.flowkit import OrderFlow, RecordedSystem
from tests.workflows.flowkit_mocks import (
    MOCK_CONFIG_PATH,
    MockConfig,
    MockConfigError,
    load_mock_config,
    parse_mock_config,
    run_test_case,
)
from tests.workflows.flowkit_orders import (
    events_of,
    expected_waits,
    fulfillment_input,
    new_customer,
    retrier_for,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

FULFILLMENT = "fulfillment-steps"
CUSTOMER_STATUS = "customer-status-workflow"
F = FulfillmentStates
C = CustomerStatusStates


@dataclass(frozen=True)
class Expected:
    """What one test case of the file must produce."""

    component: str
    status: str
    final_state: str
    order_status: str
    events: tuple[str, ...]
    task_failures: tuple[tuple[str, str], ...] | None = None
    order_before: str = ""
    """The order row's status before the run (default: ACCEPTED for the fulfillment, PENDING otherwise)."""
    resume: str | None = None
    """The run's ``resume.stage``, if any."""


EXPECTED = {
    "HappyPath": Expected(FULFILLMENT, "SUCCEEDED", F.FULFILLED, "FULFILLED", ("OrderFulfilled",)),
    "OutOfStock": Expected(FULFILLMENT, "SUCCEEDED", F.FAILED_AND_COMPENSATED, "FAILED", ("OrderFailed",)),
    "PaymentDeclined": Expected(FULFILLMENT, "SUCCEEDED", F.FAILED_AND_COMPENSATED, "FAILED", ("OrderFailed",)),
    "TransientPaymentRecovers": Expected(
        FULFILLMENT,
        "SUCCEEDED",
        F.FULFILLED,
        "FULFILLED",
        ("OrderFulfilled",),
        ((F.PROCESS_PAYMENT, "TransientDependencyError"),) * 2,
    ),
    "LambdaServiceErrorRetried": Expected(
        FULFILLMENT,
        "SUCCEEDED",
        F.FULFILLED,
        "FULFILLED",
        ("OrderFulfilled",),
        ((F.RESERVE_INVENTORY, "Lambda.ServiceException"),),
    ),
    "ShipmentRetriesExhausted": Expected(FULFILLMENT, "FAILED", F.FAILED_UNEXPECTEDLY, "FAILED", ("OrderFailed",)),
    # A compensation or a failure that cannot be recorded is parked for an operator, the order left as it is.
    "RefundKeepsFailing": Expected(FULFILLMENT, "FAILED", F.NEEDS_OPERATOR, "ACCEPTED", ()),
    "FailureRecordingParked": Expected(
        FULFILLMENT,
        "FAILED",
        F.NEEDS_OPERATOR,
        "ACCEPTED",
        (),
        ((F.RESERVE_INVENTORY, "OutOfStock"),)
        + ((F.MARK_FAILED, "DynamoDB.ProvisionedThroughputExceededException"),) * 4,
    ),
    # After the shipment is booked: parked, never compensated.
    "FulfilledEventParked": Expected(FULFILLMENT, "FAILED", F.NEEDS_OPERATOR, "FULFILLED", ()),
    "ReceiptParkedNeverRefunded": Expected(
        FULFILLMENT,
        "FAILED",
        F.NEEDS_OPERATOR,
        "ACCEPTED",
        (),
        ((F.WRITE_RECEIPT, "S3.InternalErrorException"),) * 4,
    ),
    "ReceiptWriteRetried": Expected(
        FULFILLMENT,
        "SUCCEEDED",
        F.FULFILLED,
        "FULFILLED",
        ("OrderFulfilled",),
        ((F.WRITE_RECEIPT, "S3.InternalErrorException"),),
    ),
    # A restart (after a lost start) finds the failure an earlier run recorded: nothing runs forward again.
    "RestartAfterRecordedFailure": Expected(
        FULFILLMENT, "SUCCEEDED", F.ALREADY_FAILED, "FAILED", (), (), order_before="FAILED", resume=ResumeStage.RESTART
    ),
    "BlockedCustomer": Expected(CUSTOMER_STATUS, "SUCCEEDED", C.REJECTED, "REJECTED", ("OrderRejected",)),
    "LateDuplicate": Expected(
        CUSTOMER_STATUS,
        "SUCCEEDED",
        C.DUPLICATE_IGNORED,
        "PENDING",
        (),
        ((C.MARK_ACCEPTED, "DynamoDB.ConditionalCheckFailedException"),),
    ),
    "TierOutsideTheContract": Expected(CUSTOMER_STATUS, "FAILED", C.PARKED, "PENDING", ()),
    "ClassificationKeepsFailing": Expected(
        CUSTOMER_STATUS,
        "FAILED",
        C.PARKED,
        "PENDING",
        (),
        ((C.CLASSIFY_CUSTOMER, "TransientDependencyError"),) * 4,
    ),
    "ParkingRefused": Expected(CUSTOMER_STATUS, "FAILED", C.PARKING_FAILED, "PENDING", ()),
    # The execution exists (ours, started before a lost response, or a duplicate's): announce anyway.
    "FulfillmentAlreadyStarted": Expected(
        CUSTOMER_STATUS,
        "SUCCEEDED",
        C.ACCEPTED,
        "ACCEPTED",
        ("OrderAccepted",),
        ((C.START_FULFILLMENT, "StepFunctions.ExecutionAlreadyExistsException"),),
    ),
    "ClassificationThrottledOnce": Expected(
        CUSTOMER_STATUS,
        "SUCCEEDED",
        C.ACCEPTED,
        "ACCEPTED",
        ("OrderAccepted",),
        ((C.CLASSIFY_CUSTOMER, "Lambda.TooManyRequestsException"),),
    ),
}


@pytest.fixture(scope="module")
def mock_config(system: RecordedSystem) -> MockConfig:
    return load_mock_config(system)


def order_row(status: str) -> dict[str, Any]:
    return {
        "orderId": str(uuid.uuid4()),
        "customerId": new_customer(),
        "createdAt": "2026-01-01T12:00:00.000Z",
        "updatedAt": "2026-01-01T12:00:00.000Z",
        "status": status,
        "items": [{"sku": "MUG-BLK", "quantity": 1, "unitPriceCents": 1299}],
        "totalCents": 1299,
        "currency": "EUR",
        "correlationId": f"corr-{uuid.uuid4().hex[:8]}",
    }


def order_placed(order: dict[str, Any], system: RecordedSystem) -> dict[str, Any]:
    detail = {key: value for key, value in fulfillment_input(order, "NEW").items() if key != "tier"}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "OrderPlaced",
        "source": "orderflow.orders",
        "account": system.account,
        "time": "2026-01-01T12:00:00Z",
        "region": system.region,
        "resources": [],
        "detail": detail,
    }


def test_every_test_case_of_the_file_has_an_expectation(system: RecordedSystem, mock_config: MockConfig) -> None:
    defined = {(machine, case) for machine, cases in mock_config.test_cases.items() for case in cases}
    expected = {(system.machine(item.component).name, case) for case, item in EXPECTED.items()}
    assert defined == expected


def test_every_terminal_state_of_both_workflows_is_reached_by_a_case(system: RecordedSystem) -> None:
    for component in (FULFILLMENT, CUSTOMER_STATUS):
        states = system.machine(component).document["States"]
        terminal = {name for name, state in states.items() if state["Type"] in ("Succeed", "Fail")}
        reached = {item.final_state for item in EXPECTED.values() if item.component == component}
        assert terminal <= reached, f"{component}: no case ends in {sorted(terminal - reached)}"


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_mocked_path_ends_where_the_definition_says(flow: OrderFlow, mock_config: MockConfig, case: str) -> None:
    expected = EXPECTED[case]
    order = order_row(expected.order_before or ("ACCEPTED" if expected.component == FULFILLMENT else "PENDING"))
    flow.put_item("orders", order)
    payload = fulfillment_input(order, "NEW") if expected.component == FULFILLMENT else order_placed(order, flow.system)
    if expected.resume is not None:
        payload["resume"] = {"stage": expected.resume}

    execution = run_test_case(flow, mock_config, expected.component, case, payload)

    assert (execution.status, execution.final_state) == (expected.status, expected.final_state)
    stored = flow.item("orders", {"orderId": order["orderId"]})
    assert stored is not None
    assert stored["status"] == expected.order_status
    assert events_of(flow, order["orderId"]) == dict.fromkeys(expected.events, 1)
    if expected.task_failures is not None:
        assert execution.task_failures == expected.task_failures


def test_compensations_run_in_reverse_order_of_the_steps(flow: OrderFlow, mock_config: MockConfig) -> None:
    order = order_row("ACCEPTED")
    flow.put_item("orders", order)

    execution = run_test_case(flow, mock_config, FULFILLMENT, "PaymentDeclined", fulfillment_input(order, "NEW"))

    forward = [state for state in execution.states if state in (F.RESERVE_INVENTORY, F.PROCESS_PAYMENT)]
    undo = [state for state in execution.states if state in (F.REFUND_PAYMENT, F.RELEASE_INVENTORY)]
    assert forward == [F.RESERVE_INVENTORY, F.PROCESS_PAYMENT]
    assert undo == [F.REFUND_PAYMENT, F.RELEASE_INVENTORY]
    stored = flow.item("orders", {"orderId": order["orderId"]})
    assert stored is not None
    assert stored["reason"] == "PAYMENT_DECLINED"


def test_mocked_retries_wait_the_configured_backoff(flow: OrderFlow, mock_config: MockConfig) -> None:
    order = order_row("ACCEPTED")
    flow.put_item("orders", order)
    retrier = retrier_for(flow.system.machine(FULFILLMENT).document, F.PROCESS_PAYMENT, "TransientDependencyError")

    run_test_case(flow, mock_config, FULFILLMENT, "TransientPaymentRecovers", fulfillment_input(order, "NEW"))

    assert [wait.ceiling for wait in flow.seams.retry_clock.waits] == expected_waits(retrier, 2)


def test_a_tier_outside_the_contract_is_parked_for_redrive(flow: OrderFlow, mock_config: MockConfig) -> None:
    # Before: no Choice default, so States.NoChoiceMatched failed the execution and nothing was parked.
    order = order_row("PENDING")
    flow.put_item("orders", order)

    execution = run_test_case(
        flow, mock_config, CUSTOMER_STATUS, "TierOutsideTheContract", order_placed(order, flow.system)
    )

    assert C.TIER_OUTSIDE_CONTRACT in execution.states
    assert flow.executions(FULFILLMENT) == []
    [failure_queue_url] = flow.system.machine(CUSTOMER_STATUS).queue_urls
    [parked] = flow.peek_queue(flow.system.queue_by_url(failure_queue_url).name)
    assert parked["body"]["detail"]["orderId"] == order["orderId"]
    assert parked["body"]["error"]["Error"] == "UnknownTier"
    assert parked["body"]["classification"] == {"tier": "GOLD"}


def test_a_receipt_that_cannot_be_written_is_never_refunded(flow: OrderFlow, mock_config: MockConfig) -> None:
    order = order_row("ACCEPTED")
    flow.put_item("orders", order)

    execution = run_test_case(
        flow, mock_config, FULFILLMENT, "ReceiptParkedNeverRefunded", fulfillment_input(order, "NEW")
    )

    assert not {F.CANCEL_SHIPMENT, F.REFUND_PAYMENT, F.RELEASE_INVENTORY, F.MARK_FAILED} & set(execution.states)
    assert execution.states[-2:] == (F.WRITE_RECEIPT, F.NEEDS_OPERATOR)
    # The run's state is its cause, for the parent to park: it resumes at the receipt, never a refund.
    parked = json.loads(execution.cause or "{}")
    assert parked["attention"]["Error"] == "S3.InternalErrorException"
    assert resume_stage(parked) == ResumeStage.FINISH


# ---- the loader refuses a malformed file, naming the key at fault --------------------------------------


def _edit(document: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(document)
    node = edited
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return edited


_DELETE = object()
FUL = "orderflow-dev-fulfillment-steps"
BAD_FILES = [
    (["StateMachines", "no-such-machine"], {"TestCases": {}}, "StateMachines.no-such-machine"),
    (["StateMachines", FUL, "TestCases", "HappyPath", "NoSuchState"], "Reserved", "HappyPath.NoSuchState"),
    (["StateMachines", FUL, "TestCases", "HappyPath", "WasBusinessFailure"], "Reserved", "only Task states"),
    (["StateMachines", FUL, "TestCases", "HappyPath", "ReserveInventory"], "Undefined", "'Undefined' is not defined"),
    (["MockedResponses", "AlwaysThrottled", "0-3"], _DELETE, "MockedResponses.AlwaysThrottled: defines no attempt"),
    (["MockedResponses", "ThrottledTwiceThenCharged", "0-1"], _DELETE, "attempt 0 is missing"),
    (["MockedResponses", "Reserved", "first"], {"Return": {}}, 'Reserved["first"]: an attempt is'),
    (["MockedResponses", "Reserved", "0", "Throw"], {"Error": "X", "Cause": "y"}, "exactly one of Return or Throw"),
    (["MockedResponses", "OutOfStock", "0", "Throw", "Cause"], _DELETE, '"Cause" is required'),
    (["MockedResponses", "Reserved", "0", "Return"], {"status": "RESERVED"}, '"StatusCode": 200, "Payload"'),
    (
        ["MockedResponses", "AlwaysThrottled"],
        {"0-2": {"Throw": {"Error": "TransientDependencyError", "Cause": "x"}}},
        "attempt 3 would be retried",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_FILES, ids=[case[2] for case in BAD_FILES])
def test_a_malformed_mock_config_is_refused_naming_the_key(
    system: RecordedSystem, path: list[str], value: Any, message: str
) -> None:
    document = json.loads(MOCK_CONFIG_PATH.read_text())

    with pytest.raises(MockConfigError) as refused:
        parse_mock_config(_edit(document, path, value), system)

    assert message in str(refused.value)
