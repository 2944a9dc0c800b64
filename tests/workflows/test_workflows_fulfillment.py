"""The fulfillment workflow as recorded, on moto's interpreter with the real handlers.

Transient failures are real: the handler's own DynamoDB client answers ``ThrottlingException`` (see
``LambdaRuntime.throttle``), the handler maps it to ``TransientDependencyError`` and the recorded Retriers
take over. Waits are recorded by the retry clock instead of slept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orderflow.workflows import TRANSIENT_DEPENDENCY_ERROR, FulfillmentStates
from tests.workflows.flowkit import ExecutionView, FaultInjector, FaultKind, OrderFlow
from tests.workflows.flowkit_orders import (
    CATALOGUE,
    events_of,
    expected_waits,
    new_customer,
    place_order,
    retrier_for,
    stock,
    total_cents,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

FULFILLMENT = "fulfillment"
S = FulfillmentStates


class LoseResponses(FaultInjector):
    """The first invocation of each named step does its work, then Lambda fails the response (HTTP 500)."""

    def __init__(self, *packages: str) -> None:
        self.pending = set(packages)

    def decide(self, package: str, event: Any) -> FaultKind | None:
        if package in self.pending:
            self.pending.discard(package)
            return "lost-response"
        return None


def only_fulfilment(flow: OrderFlow) -> ExecutionView:
    [execution] = flow.executions(FULFILLMENT)
    return execution


def step_calls(flow: OrderFlow) -> list[str]:
    """Handler packages the fulfilment invoked, in order (retries included)."""
    steps = {"reserve_inventory", "process_payment", "create_shipment", "refund_payment", "release_inventory"}
    return [invocation.package for invocation in flow.runtime.invocations if invocation.package in steps]


def test_the_happy_path_reserves_charges_ships_and_writes_the_receipt(flow: OrderFlow) -> None:
    customer = new_customer()
    lines = {"MUG-BLK": 2, "TEE-M": 1}
    before = {sku: stock(flow, sku) for sku in lines}

    order_id = place_order(flow, customer, lines)["orderId"]

    execution = only_fulfilment(flow)
    assert execution.status == "SUCCEEDED"
    assert execution.states == (
        S.RESERVE_INVENTORY,
        S.KEEP_RESERVATION,
        S.PROCESS_PAYMENT,
        S.KEEP_PAYMENT,
        S.CREATE_SHIPMENT,
        S.KEEP_SHIPMENT,
        S.BUILD_RECEIPT,
        S.WRITE_RECEIPT,
        S.MARK_FULFILLED,
        S.PUT_ORDER_FULFILLED,
        S.FULFILLED,
    )
    assert {sku: stock(flow, sku) for sku in lines} == {sku: before[sku] - quantity for sku, quantity in lines.items()}
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None
    assert (payment["status"], payment["amountCents"]) == ("CHARGED", total_cents(lines))
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    receipt_key = f"receipts/{customer}/{order_id}.json"
    assert (order["status"], order["receiptKey"]) == ("FULFILLED", receipt_key)
    assert order["shipmentId"] == order["shipment"]["shipmentId"]
    receipt = json.loads(flow.s3.get_object(Bucket=flow.system.buckets[0], Key=receipt_key)["Body"].read())
    assert receipt["payment"]["paymentId"] == payment["paymentId"]
    assert receipt["shipment"]["shipmentId"] == order["shipmentId"]
    assert receipt["totalCents"] == total_cents(lines)
    [fulfilled] = flow.bus_events("OrderFulfilled")
    assert fulfilled["detail"] == {
        "orderId": order_id,
        "customerId": customer,
        "correlationId": execution.input["correlationId"],
        "shipmentId": order["shipmentId"],
        "receiptKey": receipt_key,
    }


def test_out_of_stock_releases_what_it_holds_and_fails_the_order(flow: OrderFlow) -> None:
    sku = "LAMP-DESK"
    available = stock(flow, sku)
    assert available == CATALOGUE[sku]["initialStock"]

    order_id = place_order(flow, new_customer(), {sku: available + 1, "MUG-BLK": 1})["orderId"]

    execution = only_fulfilment(flow)
    # A business failure, compensated and announced: the execution itself succeeds.
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FAILED_AND_COMPENSATED)
    assert step_calls(flow) == ["reserve_inventory", "release_inventory"]
    assert (stock(flow, sku), stock(flow, "MUG-BLK")) == (available, CATALOGUE["MUG-BLK"]["initialStock"])
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["reason"]) == ("FAILED", "OutOfStock")
    [failed] = flow.bus_events("OrderFailed")
    assert failed["detail"]["reason"] == "OutOfStock"
    assert "LAMP-DESK" in json.loads(failed["detail"]["error"])["errorMessage"]
    assert flow.item("payments", {"orderId": order_id}) is None


def test_a_declined_payment_is_compensated_in_reverse_order(flow: OrderFlow) -> None:
    lines = {"HOOD-L": 9}  # over the NEW customer's charge limit
    before = stock(flow, "HOOD-L")

    order_id = place_order(flow, new_customer(), lines)["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FAILED_AND_COMPENSATED)
    assert step_calls(flow) == ["reserve_inventory", "process_payment", "refund_payment", "release_inventory"]
    [refund, release] = [flow.runtime.of("refund_payment")[0], flow.runtime.of("release_inventory")[0]]
    assert (refund.result, release.result) == ({"outcome": "NOTHING_TO_UNDO"}, {"outcome": "DONE"})
    assert stock(flow, "HOOD-L") == before
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["reason"]) == ("FAILED", "PaymentDeclined")
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderAccepted": 1, "OrderFailed": 1}


def test_transient_errors_are_retried_with_the_configured_backoff(flow: OrderFlow) -> None:
    definition = flow.system.machine(FULFILLMENT).document
    retrier = retrier_for(definition, S.PROCESS_PAYMENT, TRANSIENT_DEPENDENCY_ERROR)
    assert retrier["MaxAttempts"] >= 2
    flow.runtime.throttle("process_payment", "PutItem", times=2)

    order_id = place_order(flow, new_customer(), {"BAG-TOTE": 1})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FULFILLED)
    assert execution.task_failures == ((S.PROCESS_PAYMENT, TRANSIENT_DEPENDENCY_ERROR),) * 2
    waits = flow.seams.retry_clock.waits
    assert [wait.ceiling for wait in waits] == expected_waits(retrier, 2)
    assert all(0 <= wait.seconds <= wait.ceiling for wait in waits)
    # Retried, not repeated: one charge for the order.
    assert [invocation.succeeded for invocation in flow.runtime.of("process_payment")] == [False, False, True]
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None
    assert payment["status"] == "CHARGED"


def test_exhausted_retries_compensate_in_reverse_and_fail_the_execution(flow: OrderFlow) -> None:
    definition = flow.system.machine(FULFILLMENT).document
    retrier = retrier_for(definition, S.CREATE_SHIPMENT, TRANSIENT_DEPENDENCY_ERROR)
    attempts = retrier["MaxAttempts"] + 1
    flow.runtime.throttle("create_shipment", "GetItem", times=attempts)
    before = stock(flow, "CAP-01")

    order_id = place_order(flow, new_customer(), {"CAP-01": 2})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.error) == ("FAILED", TRANSIENT_DEPENDENCY_ERROR)
    assert execution.final_state == S.FAILED_UNEXPECTEDLY
    assert step_calls(flow) == [
        "reserve_inventory",
        "process_payment",
        *["create_shipment"] * attempts,
        "refund_payment",
        "release_inventory",
    ]
    assert [wait.ceiling for wait in flow.seams.retry_clock.waits] == expected_waits(retrier, attempts - 1)
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None
    assert payment["status"] == "REFUNDED"
    assert stock(flow, "CAP-01") == before
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["reason"]) == ("FAILED", TRANSIENT_DEPENDENCY_ERROR)
    assert "shipment" not in order
    [failed] = flow.bus_events("OrderFailed")
    assert failed["detail"]["reason"] == TRANSIENT_DEPENDENCY_ERROR


def test_a_lost_response_is_retried_without_doing_the_step_twice(flow: OrderFlow) -> None:
    flow.runtime.faults = LoseResponses("reserve_inventory", "process_payment", "create_shipment")
    before = stock(flow, "TEE-M")

    order_id = place_order(flow, new_customer(), {"TEE-M": 3})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FULFILLED)
    assert execution.task_failures == (
        (S.RESERVE_INVENTORY, "Lambda.ServiceException"),
        (S.PROCESS_PAYMENT, "Lambda.ServiceException"),
        (S.CREATE_SHIPMENT, "Lambda.ServiceException"),
    )
    # Each step ran twice and answered the same thing twice: the retry found the work already done.
    for package in ("reserve_inventory", "process_payment", "create_shipment"):
        first, second = flow.runtime.of(package)
        assert (first.fault, second.fault) == ("lost-response", None)
        assert first.result == second.result
    assert stock(flow, "TEE-M") == before - 3
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert order["shipment"]["shipmentId"] == flow.runtime.of("create_shipment")[0].result["shipmentId"]
