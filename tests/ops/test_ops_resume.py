"""Parked fulfillments are resumed once, at the right stage (issue 20, item 6).

``ParkForOperator`` ends the execution in a Fail state: Step Functions' redrive would restart at that Fail
state and fail again, and starting the fulfillment with the parked message as input used to park it again.
``dlq redrive fulfillment-attention`` now starts one execution per parking (``order-<id>-resume-<n>``) that
enters the workflow at the parked stage; a shipped order is only ever finished, never refunded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from offline.recording import ProgramRun
from orderflow.ops.executions import resume_execution_name
from orderflow.workflows import FulfillmentStates, ResumeStage, resume_stage
from tests.ops.opskit import Throttled, ops, visible
from tests.workflows.flowkit import OrderFlow
from tests.workflows.flowkit_faults import ScriptedServiceFaults
from tests.workflows.flowkit_orders import events_of, new_customer, place_order

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

S = FulfillmentStates
ATTENTION = "fulfillment-attention"


def attention_url(program: ProgramRun) -> str:
    return str(program.outputs["failureQueues"][ATTENTION]["url"])


def fulfilments(flow: OrderFlow) -> dict[str, Any]:
    return {execution.name: execution for execution in flow.executions("fulfillment")}


def steps_of(flow: OrderFlow, fulfilment: str) -> Any:
    """The run of the fulfillment steps (EXPRESS) a fulfillment execution started first (``<name>-0``)."""
    [run] = [execution for execution in flow.executions("fulfillment-steps") if execution.name == f"{fulfilment}-0"]
    return run


def test_an_order_parked_after_booking_is_finished_once_by_the_redrive(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    flow.seams.service_faults = ScriptedServiceFaults({"s3:PutObject": "error"})
    order_id = place_order(flow, new_customer(), {"CAP-01": 1})["orderId"]
    parked = fulfilments(flow)[f"order-{order_id}"]
    assert (parked.status, parked.final_state) == ("FAILED", S.PARKED_FOR_OPERATOR)
    [message] = flow.peek_queue(flow.system.queue_by_url(attention_url(recorded_program)).name)

    # The cause is fixed (the bucket is back); the operator redrives what is parked.
    flow.seams.service_faults = ScriptedServiceFaults({})
    dry = ops(capsys, outputs, "dlq", "redrive", ATTENTION, "--dry-run", "--json")
    assert dry.code == 0, dry.err
    [would] = dry.json["wouldMove"]
    assert would["deliverTo"] == recorded_program.outputs["fulfillmentStateMachineArn"]
    assert would["failure"]["resumeAt"] == ResumeStage.FINISH
    run = ops(capsys, outputs, "dlq", "redrive", ATTENTION)
    flow.router.pump()

    assert run.code == 0, run.err
    assert visible(flow, attention_url(recorded_program)) == 0
    resumed = fulfilments(flow)[f"order-{order_id}-resume-1"]
    assert (resumed.status, resumed.states) == ("SUCCEEDED", (S.RUN_STEPS,))
    # Its steps entered at the receipt: nothing reserved, charged or booked again.
    assert steps_of(flow, resumed.name).states[:3] == (S.START_OR_RESUME, S.RESUME_AT_STAGE, S.BUILD_RECEIPT)
    order = flow.item("orders", {"orderId": order_id})
    assert (order["status"], order["shipment"]["status"]) == ("FULFILLED", "BOOKED")
    assert flow.item("payments", {"orderId": order_id})["status"] == "CHARGED"
    assert events_of(flow, order_id)["OrderFulfilled"] == 1

    # The same parked message delivered again (a second operator, a copy): nothing new starts.
    flow.sqs.send_message(QueueUrl=attention_url(recorded_program), MessageBody=json.dumps(message["body"]))
    again = ops(capsys, outputs, "dlq", "redrive", ATTENTION)
    flow.router.pump()
    assert again.code == 0, again.err
    assert visible(flow, attention_url(recorded_program)) == 0
    assert sorted(fulfilments(flow)) == [f"order-{order_id}", f"order-{order_id}-resume-1"]


def test_an_order_parked_in_compensation_is_compensated_and_failed_once(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # The payment step keeps failing, and so does releasing the stock: the order is parked mid-compensation.
    faults = Throttled("process_payment", "release_inventory")
    flow.runtime.faults = faults
    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]
    assert fulfilments(flow)[f"order-{order_id}"].final_state == S.PARKED_FOR_OPERATOR
    assert flow.item("orders", {"orderId": order_id})["status"] == "ACCEPTED"

    faults.heal()
    run = ops(capsys, outputs, "dlq", "redrive", ATTENTION)
    flow.router.pump()

    assert run.code == 0, run.err
    resumed = steps_of(flow, f"order-{order_id}-resume-1")
    assert resumed.states[:3] == (S.START_OR_RESUME, S.RESUME_AT_STAGE, S.CANCEL_SHIPMENT)
    assert S.PROCESS_PAYMENT not in resumed.states
    order = flow.item("orders", {"orderId": order_id})
    assert (order["status"], order["reason"]) == ("FAILED", "FULFILLMENT_ERROR")
    assert events_of(flow, order_id)["OrderFailed"] == 1
    assert visible(flow, attention_url(recorded_program)) == 0


def test_redrive_execution_refuses_a_parked_order_and_says_what_resumes_it(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    flow.runtime.faults = Throttled("process_payment", "release_inventory")
    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]

    run = ops(capsys, outputs, "redrive-execution", order_id)

    assert run.code == 1
    assert "parked it for an operator (ParkedForOperator)" in run.err
    assert "`dlq redrive fulfillment-attention` resumes it" in run.err
    reconciled = ops(capsys, outputs, "reconcile", "--stuck-after", "0", "--json")
    actions = {order["orderId"]: order["action"]["command"] for order in reconciled.json["orders"]}
    assert actions[order_id] == "dlq redrive fulfillment-attention"


def test_a_target_outside_the_stack_is_refused_unless_allowed(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    flow.runtime.faults = Throttled("customer_status")
    place_order(flow, new_customer(), {"MUG-BLK": 1})
    parked = recorded_program.outputs["failureQueues"]["customer-status-failures"]
    foreign = flow.sqs.create_queue(QueueName="someone-elses-queue")["QueueUrl"]
    foreign_arn = flow.sqs.get_queue_attributes(QueueUrl=foreign, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    refused = ops(capsys, outputs, "dlq", "redrive", "customer-status-failures", "--to", foreign_arn)
    assert refused.code == 2
    assert "is not a resource of stack 'dev'" in refused.err
    assert "--allow-foreign-target" in refused.err
    assert visible(flow, parked["url"]) == 1

    allowed = ops(
        capsys, outputs, "dlq", "redrive", "customer-status-failures", "--to", foreign_arn, "--allow-foreign-target"
    )
    assert allowed.code == 0, allowed.err
    assert visible(flow, parked["url"]) == 0
    assert visible(flow, foreign) == 1


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        ({"shipment": {"shipmentId": "s"}, "error": {"Error": "x"}}, ResumeStage.FINISH),
        ({"failure": {"reason": "OUT_OF_STOCK"}, "error": {"Error": "OutOfStock"}}, ResumeStage.RECORD_FAILURE),
        ({"error": {"Error": "TransientDependencyError"}}, ResumeStage.COMPENSATE),
        # The steps stopped where nothing says (the 5-minute limit): the order runs them again from the top.
        ({"orderId": "o-1", "attention": {"Error": "States.Timeout"}}, ResumeStage.RESTART),
    ],
)
def test_the_stage_comes_from_the_parked_state_and_a_booked_shipment_always_means_finish(
    state: dict[str, Any], stage: str
) -> None:
    assert resume_stage(state) == stage


def test_each_parking_is_resumed_by_its_own_execution_name() -> None:
    machine = "arn:aws:states:eu-west-1:123456789012:execution:orderflow-dev-fulfillment"
    assert resume_execution_name("o-1", f"{machine}:order-o-1") == "order-o-1-resume-1"
    assert resume_execution_name("o-1", f"{machine}:order-o-1-resume-1") == "order-o-1-resume-2"


def test_an_order_the_attention_queue_refused_too_is_resumed_once_from_its_history(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # The receipt bucket is down after booking, and the attention queue refuses the order too: the execution
    # ends NotParked, and its state is only in the execution's history. Before: redrive-execution asked Step
    # Functions to redrive it, which would restart at the NotParked Fail state and fail again.
    flow.seams.service_faults = ScriptedServiceFaults({"s3:PutObject": "error", "sqs:SendMessage": "error"})
    order_id = place_order(flow, new_customer(), {"TEE-M": 1})["orderId"]
    failed = fulfilments(flow)[f"order-{order_id}"]
    assert (failed.status, failed.final_state) == ("FAILED", S.NOT_PARKED)
    assert visible(flow, attention_url(recorded_program)) == 0

    flow.seams.service_faults = ScriptedServiceFaults({})
    run = ops(capsys, outputs, "redrive-execution", order_id, "--json")
    flow.router.pump()

    assert run.code == 0, run.err
    assert (run.json["resumedAs"], run.json["resumeAt"], run.json["started"]) == (
        f"order-{order_id}-resume-1",
        ResumeStage.FINISH,
        True,
    )
    resumed = fulfilments(flow)[f"order-{order_id}-resume-1"]
    assert resumed.status == "SUCCEEDED"
    assert steps_of(flow, resumed.name).states[:3] == (S.START_OR_RESUME, S.RESUME_AT_STAGE, S.BUILD_RECEIPT)
    assert flow.item("orders", {"orderId": order_id})["status"] == "FULFILLED"
    assert events_of(flow, order_id)["OrderFulfilled"] == 1

    # A second operator runs it again: the resume exists, nothing new starts.
    again = ops(capsys, outputs, "redrive-execution", order_id, "--json")
    flow.router.pump()
    assert again.code == 0, again.err
    assert again.json["started"] is False
    assert sorted(fulfilments(flow)) == [f"order-{order_id}", f"order-{order_id}-resume-1"]
