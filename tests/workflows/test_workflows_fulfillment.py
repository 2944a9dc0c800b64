"""The fulfillment workflow as recorded, on moto's interpreter with the real handlers.

Transient failures are real: the handler's own DynamoDB client answers ``ThrottlingException`` (see
``LambdaRuntime.throttle``), the handler maps it to ``TransientDependencyError`` and the recorded Retriers
take over. Waits are recorded by the retry clock instead of slept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orderflow.workflows import (
    FAILED_UNEXPECTEDLY_ERROR,
    FAILURE_REASONS,
    FULFILLMENT_ERROR,
    TRANSIENT_DEPENDENCY_ERROR,
    FulfillmentStates,
    ResumeStage,
)
from tests.workflows.flowkit import ExecutionView, FaultInjector, FaultKind, OrderFlow
from tests.workflows.flowkit_faults import ScriptedServiceFaults
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
STEPS = "fulfillment-steps"
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
    """The order's one run of the fulfillment steps (EXPRESS), after its STANDARD parent's one state."""
    [parent] = flow.executions(FULFILLMENT)
    assert parent.states[0] == S.RUN_STEPS
    [execution] = flow.executions(STEPS)
    return execution


def step_calls(flow: OrderFlow) -> list[str]:
    """Handler packages the fulfilment invoked, in order (retries included)."""
    steps = {
        "reserve_inventory",
        "process_payment",
        "create_shipment",
        "cancel_shipment",
        "refund_payment",
        "release_inventory",
    }
    return [invocation.package for invocation in flow.runtime.invocations if invocation.package in steps]


def execution_history_errors(flow: OrderFlow, execution: ExecutionView) -> list[dict[str, Any]]:
    """The error details of every failed task of an execution (where raw causes belong)."""
    history = flow.sfn.get_execution_history(executionArn=execution.arn)["events"]
    return [event["taskFailedEventDetails"] for event in history if "taskFailedEventDetails" in event]


def attention_messages(flow: OrderFlow) -> list[dict[str, Any]]:
    """What the fulfillment parked for an operator."""
    [url] = flow.system.machine(FULFILLMENT).queue_urls
    return [message["body"] for message in flow.peek_queue(flow.system.queue_by_url(url).name)]


def test_the_happy_path_reserves_charges_ships_and_writes_the_receipt(flow: OrderFlow) -> None:
    customer = new_customer()
    lines = {"MUG-BLK": 2, "TEE-M": 1}
    before = {sku: stock(flow, sku) for sku in lines}

    order_id = place_order(flow, customer, lines)["orderId"]

    execution = only_fulfilment(flow)
    assert execution.status == "SUCCEEDED"
    assert execution.states == (
        S.START_OR_RESUME,
        S.RESERVE_INVENTORY,
        S.KEEP_RESERVATION,
        S.WAS_RESERVATION_RELEASED,
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
    receipt = json.loads(flow.s3.get_object(Bucket=flow.receipts_bucket, Key=receipt_key)["Body"].read())
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
    out_of_stock = FAILURE_REASONS["OutOfStock"]
    assert (order["status"], order["reason"], order["message"]) == ("FAILED", out_of_stock.code, out_of_stock.message)
    [failed] = flow.bus_events("OrderFailed")
    # The customer reads a code and a sentence; the handler's error (SKU, stack trace) stays in the history.
    assert failed["detail"] == {
        "orderId": order_id,
        "customerId": order["customerId"],
        "correlationId": order["correlationId"],
        "reason": out_of_stock.code,
        "message": out_of_stock.message,
    }
    assert "LAMP-DESK" in json.dumps(execution_history_errors(flow, execution))
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
    assert (order["status"], order["reason"]) == ("FAILED", "PAYMENT_DECLINED")
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderAccepted": 1, "OrderFailed": 1}


def test_transient_errors_are_retried_with_the_configured_backoff(flow: OrderFlow) -> None:
    definition = flow.system.machine(STEPS).document
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
    definition = flow.system.machine(STEPS).document
    retrier = retrier_for(definition, S.CREATE_SHIPMENT, TRANSIENT_DEPENDENCY_ERROR)
    attempts = retrier["MaxAttempts"] + 1
    flow.runtime.throttle("create_shipment", "GetItem", times=attempts)
    before = stock(flow, "CAP-01")

    order_id = place_order(flow, new_customer(), {"CAP-01": 2})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.error) == ("FAILED", FAILED_UNEXPECTEDLY_ERROR)
    assert execution.final_state == S.FAILED_UNEXPECTEDLY
    assert json.loads(execution.cause or "{}")["Error"] == TRANSIENT_DEPENDENCY_ERROR
    # Compensated and recorded: the parent fails too (so it alarms) but parks nothing.
    [parent] = flow.executions(FULFILLMENT)
    assert (parent.status, parent.error, parent.final_state) == (
        "FAILED",
        FAILED_UNEXPECTEDLY_ERROR,
        S.FAILED_UNEXPECTEDLY,
    )
    assert attention_messages(flow) == []
    assert step_calls(flow) == [
        "reserve_inventory",
        "process_payment",
        *["create_shipment"] * attempts,
        "cancel_shipment",
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
    assert (order["status"], order["reason"]) == ("FAILED", FULFILLMENT_ERROR.code)
    # Nothing was booked: the cancellation left a marker, so a late booking attempt cannot ship.
    assert order["shipment"] == {"status": "CANCELLED", "cancelledAt": order["shipment"]["cancelledAt"]}
    [failed] = flow.bus_events("OrderFailed")
    assert (failed["detail"]["reason"], failed["detail"]["message"]) == (
        FULFILLMENT_ERROR.code,
        FULFILLMENT_ERROR.message,
    )


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


# ---- after the point of no return, only forward (issue 10, finding 1) --------------------------------


def test_a_lost_response_on_mark_fulfilled_is_a_success_not_a_refund(flow: OrderFlow) -> None:
    # The order is marked FULFILLED, then the response is lost: the retry must find FULFILLED and go on.
    flow.seams.service_faults = faults = ScriptedServiceFaults({"dynamodb:UpdateItem:FULFILLED": ["lost-response"]})

    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]

    execution = only_fulfilment(flow)
    assert faults.injected == [("dynamodb:UpdateItem:FULFILLED", "lost-response")]
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FULFILLED)
    assert step_calls(flow) == ["reserve_inventory", "process_payment", "create_shipment"]
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "CHARGED"
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and order["status"] == "FULFILLED"
    assert events_of(flow, order_id) == {"OrderPlaced": 1, "OrderAccepted": 1, "OrderFulfilled": 1}


def test_a_receipt_that_cannot_be_written_parks_the_order_and_never_refunds_it(flow: OrderFlow) -> None:
    flow.seams.service_faults = ScriptedServiceFaults({"s3:PutObject": "error"})
    retrier = retrier_for(flow.system.machine(STEPS).document, S.WRITE_RECEIPT, "S3.InternalError")
    before = stock(flow, "CAP-01")

    order_id = place_order(flow, new_customer(), {"CAP-01": 1})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("FAILED", S.NEEDS_OPERATOR)
    # The steps' retry budget was spent on the receipt first; then the STANDARD parent parked the run's state.
    assert [state for state, _ in execution.task_failures].count(S.WRITE_RECEIPT) == retrier["MaxAttempts"] + 1
    [parent] = flow.executions(FULFILLMENT)
    assert parent.states == (
        S.RUN_STEPS,
        S.HOW_STEPS_STOPPED,
        S.READ_STOPPED_RUN,
        S.WHY_STEPS_FAILED,
        S.PARK_STEPS_STATE,
        S.KEEP_STEPS_STATE,
        S.PARK_FOR_OPERATOR,
        S.MARK_FOR_ATTENTION,
        S.PARKED_FOR_OPERATOR,
    )
    assert parent.status == "FAILED" and parent.error is not None and parent.error.lower().startswith("s3.")
    assert step_calls(flow) == ["reserve_inventory", "process_payment", "create_shipment"]
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "CHARGED"
    assert stock(flow, "CAP-01") == before - 1
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    assert (order["status"], order["shipment"]["status"]) == ("ACCEPTED", "BOOKED")
    assert order["attention"]["executionArn"] == parent.arn
    [parked] = attention_messages(flow)
    assert (parked["orderId"], parked["executionArn"]) == (order_id, parent.arn)
    assert parked["error"]["Error"].lower().startswith("s3.")
    assert parked["state"]["shipment"]["shipmentId"] == order["shipment"]["shipmentId"]
    assert "OrderFailed" not in events_of(flow, order_id)


def test_a_booking_whose_response_kept_getting_lost_is_cancelled_before_the_refund(flow: OrderFlow) -> None:
    attempts = retrier_for(flow.system.machine(STEPS).document, S.CREATE_SHIPMENT, "Lambda.ServiceException")
    flow.runtime.faults = LoseEvery("create_shipment")

    order_id = place_order(flow, new_customer(), {"MUG-WHT": 1})["orderId"]

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("FAILED", S.FAILED_UNEXPECTEDLY)
    assert step_calls(flow)[-3:] == ["cancel_shipment", "refund_payment", "release_inventory"]
    assert len(flow.runtime.of("create_shipment")) == attempts["MaxAttempts"] + 1
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None
    # The carrier had booked it: it is cancelled, so the refunded order does not ship.
    assert order["shipment"]["status"] == "CANCELLED"
    assert order["shipment"]["shipmentId"] == flow.runtime.of("create_shipment")[0].result["shipmentId"]
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "REFUNDED"
    assert (order["status"], order["reason"]) == ("FAILED", FULFILLMENT_ERROR.code)


# ---- status events follow the table, once (issue 10, findings 2 and 6) ---------------------------------


def test_a_lost_response_on_mark_failed_still_records_and_announces_the_failure(flow: OrderFlow) -> None:
    flow.seams.service_faults = ScriptedServiceFaults({"dynamodb:UpdateItem:FAILED": ["lost-response"]})

    order_id = place_order(flow, new_customer(), {"HOOD-L": 9})["orderId"]  # declined for a NEW customer

    execution = only_fulfilment(flow)
    assert (execution.status, execution.final_state) == ("SUCCEEDED", S.FAILED_AND_COMPENSATED)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and order["status"] == "FAILED"
    assert events_of(flow, order_id)["OrderFailed"] == 1
    assert notifications_of(flow, order_id) == ["OrderAccepted", "OrderFailed"]
    assert timeline_of(flow, order_id) == ["OrderPlaced", "OrderAccepted", "OrderFailed"]


def test_an_order_fulfilled_event_put_twice_is_notified_and_recorded_once(flow: OrderFlow) -> None:
    # PutEvents took the event, the response was lost, the retry put a second one with a new id.
    flow.seams.service_faults = ScriptedServiceFaults({"events:PutEvents:OrderFulfilled": ["lost-response"]})

    order_id = place_order(flow, new_customer(), {"TEE-L": 1})["orderId"]

    assert events_of(flow, order_id)["OrderFulfilled"] == 2
    assert notifications_of(flow, order_id) == ["OrderAccepted", "OrderFulfilled", "ReceiptReady"]
    assert timeline_of(flow, order_id) == ["OrderPlaced", "OrderAccepted", "OrderFulfilled"]


def test_a_receipt_written_twice_is_announced_once(flow: OrderFlow) -> None:
    flow.seams.service_faults = ScriptedServiceFaults({"s3:PutObject": ["lost-response"]})

    order_id = place_order(flow, new_customer(), {"TEE-L": 1})["orderId"]

    receipts = [event for bus, event in flow.router.events if event["detail-type"] == "Object Created"]
    assert len({event["id"] for event in receipts}) >= 2
    assert notifications_of(flow, order_id).count("ReceiptReady") == 1


def notifications_of(flow: OrderFlow, order_id: str) -> list[str]:
    """The notification types the customer's live topic received for an order (sorted: notify runs them
    concurrently, as Lambda does)."""
    return sorted(payload["type"] for _, payload in flow.iot_publishes() if payload["orderId"] == order_id)


def timeline_of(flow: OrderFlow, order_id: str) -> list[str]:
    """The order's timeline as the customer reads it (detail-types, lifecycle order)."""
    rows = [row for row in flow.scan("timeline") if row["orderId"] == order_id]
    lifecycle = ["OrderPlaced", "OrderAccepted", "OrderRejected", "OrderFulfilled", "OrderFailed"]
    return sorted((row["detailType"] for row in rows), key=lifecycle.index)


class LoseEvery(FaultInjector):
    """Every invocation of the named steps does its work, then Lambda fails the response (HTTP 500)."""

    def __init__(self, *packages: str) -> None:
        self.packages = set(packages)

    def decide(self, package: str, event: Any) -> FaultKind | None:
        return "lost-response" if package in self.packages else None


def test_a_run_stopped_where_nothing_says_is_waited_out_and_restarted_then_parked_after_the_last_round(
    flow: OrderFlow,
) -> None:
    # A run that fails before any step (here: a resume stage the steps do not know) tells the parent nothing
    # about where it stopped, as a run cut at the 5-minute limit would. The parent waits it out and restarts
    # it (stage restart: here the restart stage overrides the unknown one, so the first round finishes it).
    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]
    [first] = flow.executions(FULFILLMENT)
    state = dict(first.input) | {"resume": {"stage": "no-such-stage"}}

    again = flow.start_execution(FULFILLMENT, state, name=f"order-{order_id}-resume-1")

    assert again.status == "SUCCEEDED"
    assert again.states == (
        S.RUN_STEPS,
        S.HOW_STEPS_STOPPED,
        S.READ_STOPPED_RUN,
        S.WHY_STEPS_FAILED,
        S.MAY_RESTART,
        S.FIRST_RESTART,
        S.WAIT_OUT_STOPPED_RUN,
        S.RESTART_STEPS,
    )
    # The Wait took virtual time only, and at least the EXPRESS limit.
    assert [wait.seconds for wait in flow.seams.waits.waits] == [
        flow.system.machine(FULFILLMENT).document["States"][S.WAIT_OUT_STOPPED_RUN]["Seconds"]
    ]
    assert attention_messages(flow) == []
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and (order["status"], order["shipment"]["status"]) == ("FULFILLED", "BOOKED")
    # Nothing booked or charged twice: the restart found the reservation, the charge and the shipment.
    assert len(flow.runtime.of("create_shipment")) == 2
    assert {i.result["shipmentId"] for i in flow.runtime.of("create_shipment")} == {order["shipment"]["shipmentId"]}
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "CHARGED"


def test_a_child_start_whose_response_is_lost_is_restarted_after_the_wait_and_fulfilled_once(flow: OrderFlow) -> None:
    # 1st StartExecution: customer-status starts the parent; 2nd: the parent starts the steps, which begin,
    # but the parent is told 503. Only a wait past the EXPRESS limit makes a second run safe.
    faults = ScriptedServiceFaults({"stepfunctions:StartExecution": [None, "lost-response"]})
    flow.seams.service_faults = faults

    order_id = place_order(flow, new_customer(), {"TEE-L": 1})["orderId"]

    [parent] = flow.executions(FULFILLMENT)
    assert faults.injected == [("stepfunctions:StartExecution", "lost-response")]
    assert parent.status == "SUCCEEDED", parent.states
    assert parent.states[-4:] == (S.MAY_RESTART, S.FIRST_RESTART, S.WAIT_OUT_STOPPED_RUN, S.RESTART_STEPS)
    lost, restarted = sorted(flow.executions(STEPS), key=lambda run: "restart" in run.name)
    assert lost.status == "SUCCEEDED" and lost.name.endswith("-0")
    assert restarted.status == "SUCCEEDED" and "-restart1-" in restarted.name
    assert attention_messages(flow) == []
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and (order["status"], order["shipment"]["status"]) == ("FULFILLED", "BOOKED")
    assert "attention" not in order
    # Exactly once: the restart began after the lost run ended (it replayed every step), one shipment, one
    # charge; OrderFulfilled is put by both runs and reaches the customer and the timeline once.
    assert step_calls(flow) == ["reserve_inventory", "process_payment", "create_shipment"] * 2
    assert {i.result["shipmentId"] for i in flow.runtime.of("create_shipment")} == {order["shipment"]["shipmentId"]}
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "CHARGED"
    assert notifications_of(flow, order_id).count("OrderFulfilled") == 1
    assert timeline_of(flow, order_id).count("OrderFulfilled") == 1


def test_a_restart_after_a_lost_start_never_runs_forward_an_order_the_lost_run_failed(flow: OrderFlow) -> None:
    # The lost run found the stock short, released and recorded the failure. Stock may be back by the restart:
    # running forward again would charge and ship an order the customer was told failed.
    flow.seams.service_faults = ScriptedServiceFaults({"stepfunctions:StartExecution": [None, "lost-response"]})
    sku = "LAMP-DESK"

    order_id = place_order(flow, new_customer(), {sku: stock(flow, sku) + 1})["orderId"]

    [parent] = flow.executions(FULFILLMENT)
    assert parent.status == "SUCCEEDED" and parent.states[-1] == S.RESTART_STEPS
    [restarted] = [run for run in flow.executions(STEPS) if "-restart1-" in run.name]
    assert restarted.states[-1] == S.ALREADY_FAILED
    assert step_calls(flow) == ["reserve_inventory", "release_inventory"]
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and (order["status"], order["reason"]) == ("FAILED", "OUT_OF_STOCK")
    assert "shipment" not in order and flow.item("payments", {"orderId": order_id}) is None


def test_a_restart_whose_reservation_fails_refunds_what_an_earlier_run_charged(flow: OrderFlow) -> None:
    # An earlier run reserved and charged, then stopped before booking (the 5-minute limit) and said nothing; the
    # restart's reservation fails. Before: a failed reservation only released, so the charge stayed on a FAILED
    # order (fault run seed 20261206). A restart cannot know what ran before it: it compensates every step.
    sku = "LAMP-DESK"
    order_id = place_order(flow, new_customer(), {sku: stock(flow, sku) + 1})["orderId"]
    [first] = flow.executions(FULFILLMENT)
    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and order["status"] == "FAILED"
    stopped = {key: value for key, value in order.items() if key not in ("reason", "message")}
    flow.put_item("orders", stopped | {"status": "ACCEPTED"})
    flow.put_item("payments", {"orderId": order_id, "status": "CHARGED", "amountCents": order["totalCents"]})

    restarted = flow.start_execution(
        FULFILLMENT, dict(first.input) | {"resume": {"stage": ResumeStage.RESTART}}, name=f"order-{order_id}-resume-1"
    )

    [_, restart_run] = flow.executions(STEPS)
    assert S.REFUND_PAYMENT in restart_run.states and S.CANCEL_SHIPMENT in restart_run.states, restart_run.states
    payment = flow.item("payments", {"orderId": order_id})
    assert payment is not None and payment["status"] == "REFUNDED", (restarted.status, payment)
    order = flow.item("orders", {"orderId": order_id})
    # cancel_shipment leaves its marker (nothing was booked), so no later run can book one.
    assert order is not None and order["status"] == "FAILED" and order["shipment"]["status"] != "BOOKED"
