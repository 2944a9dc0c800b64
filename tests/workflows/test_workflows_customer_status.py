"""The customer-status workflow as recorded, on moto's interpreter with the real handlers.

Orders enter through the recorded HTTP API, so every execution starts the way production starts it: an
``OrderPlaced`` event routed by the recorded rule to the EXPRESS state machine.
"""

from __future__ import annotations

import json

import pytest

from orderflow.workflows import CUSTOMER_BLOCKED, EXECUTION_ALREADY_EXISTS, CustomerStatusStates, FulfillmentStates
from tests.workflows.flowkit import OrderFlow
from tests.workflows.flowkit_faults import ScriptedServiceFaults
from tests.workflows.flowkit_orders import (
    events_of,
    history_for_tier,
    new_customer,
    place_order,
    retrier_for,
    total_cents,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CUSTOMER_STATUS = "customer-status-workflow"
FULFILLMENT = "fulfillment"


@pytest.mark.parametrize("tier", ["NEW", "RETURNING", "VIP"])
def test_each_accepted_tier_is_recorded_announced_and_handed_to_fulfilment(flow: OrderFlow, tier: str) -> None:
    customer = new_customer()
    history_for_tier(flow, customer, tier)

    reply = place_order(flow, customer, {"MUG-BLK": 2})
    order_id = reply["orderId"]

    [classification] = flow.executions(CUSTOMER_STATUS)
    assert classification.status == "SUCCEEDED"
    assert classification.final_state == CustomerStatusStates.ACCEPTED
    assert classification.input["detail-type"] == "OrderPlaced"
    [accepted] = flow.bus_events("OrderAccepted")
    assert accepted["detail"] == {
        "orderId": order_id,
        "customerId": customer,
        "correlationId": classification.input["detail"]["correlationId"],
        "tier": tier,
    }
    [fulfilment] = flow.executions(FULFILLMENT)
    assert fulfilment.name == f"order-{order_id}"
    assert fulfilment.input == {**classification.input["detail"], "tier": tier}
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["tier"]) == ("FULFILLED", tier)
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderAccepted": 1, "OrderFulfilled": 1}


@pytest.mark.parametrize(("tier", "outcome"), [("NEW", "FAILED"), ("VIP", "FULFILLED")])
def test_the_tier_reaches_the_payment_step(flow: OrderFlow, tier: str, outcome: str) -> None:
    # Over the NEW charge limit, within the VIP one: only the tier decides.
    limits = flow.runtime.module("process_payment").CHARGE_LIMIT_CENTS
    lines = {"HOOD-L": 9}
    assert limits["NEW"] < total_cents(lines) <= limits["VIP"]
    customer = new_customer()
    history_for_tier(flow, customer, tier)

    order_id = place_order(flow, customer, lines)["orderId"]

    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert order["status"] == outcome


def test_a_blocked_customer_is_rejected_and_never_fulfilled(flow: OrderFlow) -> None:
    customer = new_customer()
    history_for_tier(flow, customer, "BLOCKED")

    order_id = place_order(flow, customer, {"MUG-WHT": 1})["orderId"]

    [classification] = flow.executions(CUSTOMER_STATUS)
    assert (classification.status, classification.final_state) == ("SUCCEEDED", CustomerStatusStates.REJECTED)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["reason"], order["message"]) == (
        "REJECTED",
        CUSTOMER_BLOCKED.code,
        CUSTOMER_BLOCKED.message,
    )
    [rejected] = flow.bus_events("OrderRejected")
    assert (rejected["detail"]["reason"], rejected["detail"]["message"]) == (
        CUSTOMER_BLOCKED.code,
        CUSTOMER_BLOCKED.message,
    )
    assert flow.executions(FULFILLMENT) == []
    assert flow.runtime.of("reserve_inventory") == []
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderRejected": 1}


def test_a_duplicated_order_placed_fulfils_once(flow: OrderFlow) -> None:
    flow.router.deliveries_per_event = 2  # EventBridge delivers at least once: here, always twice.
    customer = new_customer()

    order_id = place_order(flow, customer, {"CAP-01": 1})["orderId"]

    # Both copies run side by side: each accepts (one starts the fulfilment, the other finds it) or, when
    # the order has moved on, ignores itself.
    classifications = flow.executions(CUSTOMER_STATUS)
    assert len(classifications) == 2
    assert {execution.final_state for execution in classifications} <= {
        CustomerStatusStates.ACCEPTED,
        CustomerStatusStates.DUPLICATE_IGNORED,
    }
    assert all(execution.status == "SUCCEEDED" for execution in classifications)
    assert len(flow.executions(FULFILLMENT)) == 1
    assert len(flow.runtime.of("process_payment")) == 1
    assert once_each(flow, order_id) == ["OrderAccepted", "OrderFulfilled", "OrderPlaced"]
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None
    assert payment["status"] == "CHARGED"


def test_a_duplicate_while_the_order_is_still_accepted_counts_as_success(flow: OrderFlow) -> None:
    # The first fulfilment ends without settling the order (a refund that keeps failing leaves it ACCEPTED,
    # parked for an operator); the late duplicate must not start a second fulfilment nor announce it twice.
    compensation = flow.system.machine("fulfillment-steps").document["States"]["RefundPayment"]["Retry"][0]
    flow.runtime.throttle("refund_payment", "GetItem", times=compensation["MaxAttempts"] + 1)
    customer = new_customer()
    order_id = place_order(flow, customer, {"HOOD-L": 9})["orderId"]  # declined for a NEW customer
    [first_fulfilment] = flow.executions(FULFILLMENT)
    assert first_fulfilment.final_state == FulfillmentStates.PARKED_FOR_OPERATOR
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert order["status"] == "ACCEPTED"
    [placed] = flow.bus_events("OrderPlaced")

    flow.router.route(flow.system.custom_bus, json.loads(json.dumps(placed)))  # the duplicate delivery
    flow.router.pump()

    duplicate = flow.executions(CUSTOMER_STATUS)[-1]
    assert (duplicate.status, duplicate.final_state) == ("SUCCEEDED", CustomerStatusStates.ACCEPTED)
    assert (CustomerStatusStates.START_FULFILLMENT, EXECUTION_ALREADY_EXISTS) in duplicate.task_failures
    assert [execution.arn for execution in flow.executions(FULFILLMENT)] == [first_fulfilment.arn]
    # Announced again (it cannot know whether the first announcement went out); recorded and notified once.
    assert events_of(flow, order_id)["OrderAccepted"] == 2
    assert once_each(flow, order_id).count("OrderAccepted") == 1


def test_a_classification_that_keeps_failing_is_parked_and_can_be_redriven(flow: OrderFlow) -> None:
    machine = flow.system.machine(CUSTOMER_STATUS)
    retrier = retrier_for(machine.document, CustomerStatusStates.CLASSIFY_CUSTOMER, "TransientDependencyError")
    flow.runtime.throttle("customer_status", "Query", times=retrier["MaxAttempts"] + 1)
    [failure_queue_url] = machine.queue_urls

    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]

    [classification] = flow.executions(CUSTOMER_STATUS)
    assert (classification.status, classification.final_state) == ("FAILED", CustomerStatusStates.PARKED)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert order["status"] == "PENDING"
    assert flow.executions(FULFILLMENT) == []
    [parked] = flow.peek_queue(flow.system.queue_by_url(failure_queue_url).name)
    assert parked["body"]["detail"]["orderId"] == order_id
    assert parked["body"]["error"]["Error"] == "TransientDependencyError"

    # Once the table recovers, an operator redrives the parked input as a new execution.
    redriven = flow.start_execution(CUSTOMER_STATUS, parked["body"])

    assert (redriven.status, redriven.final_state) == ("SUCCEEDED", CustomerStatusStates.ACCEPTED)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert order["status"] == "FULFILLED"
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderAccepted": 1, "OrderFulfilled": 1}


def test_a_lost_response_on_mark_rejected_still_rejects_and_announces_once(flow: OrderFlow) -> None:
    # REJECTED was written, the response lost: the retry finds REJECTED, which is its own target (finding 2).
    flow.seams.service_faults = faults = ScriptedServiceFaults({"dynamodb:UpdateItem:REJECTED": ["lost-response"]})
    customer = new_customer()
    history_for_tier(flow, customer, "BLOCKED")

    order_id = place_order(flow, customer, {"MUG-WHT": 1})["orderId"]

    assert faults.injected == [("dynamodb:UpdateItem:REJECTED", "lost-response")]
    [classification] = flow.executions(CUSTOMER_STATUS)
    assert (classification.status, classification.final_state) == ("SUCCEEDED", CustomerStatusStates.REJECTED)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and order["status"] == "REJECTED"
    assert once_each(flow, order_id) == ["OrderPlaced", "OrderRejected"]
    assert [payload["type"] for _, payload in flow.iot_publishes() if payload["orderId"] == order_id] == [
        "OrderRejected"
    ]


def test_a_lost_start_execution_response_still_announces_the_acceptance(flow: OrderFlow) -> None:
    flow.seams.service_faults = ScriptedServiceFaults({"stepfunctions:StartExecution": ["lost-response"]})

    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]

    [classification] = flow.executions(CUSTOMER_STATUS)
    assert (classification.status, classification.final_state) == ("SUCCEEDED", CustomerStatusStates.ACCEPTED)
    assert len(flow.executions(FULFILLMENT)) == 1
    assert once_each(flow, order_id) == ["OrderAccepted", "OrderFulfilled", "OrderPlaced"]


def once_each(flow: OrderFlow, order_id: str) -> list[str]:
    """The order's timeline rows (detail-types, sorted): each lifecycle event is recorded once."""
    return sorted(row["detailType"] for row in flow.scan("timeline") if row["orderId"] == order_id)
