"""``redrive-execution`` and ``reconcile``: stuck orders joined to their executions, each with its next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.stub import ANY

from offline.recording import ProgramRun
from orderflow.ops.executions import EXECUTION_NAME_PREFIX, execution_arn
from tests.ops.opskit import Throttled, ops, place_orders, stubbed, with_clients
from tests.workflows.flowkit import OrderFlow

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_the_execution_name_joins_orders_and_executions(recorded_program: ProgramRun) -> None:
    # customer-status starts fulfillment under the name the ops tool looks up.
    [machine] = [
        r for r in recorded_program.of_type("aws:sfn/stateMachine:StateMachine") if "customer-status" in r.name
    ]
    assert f"States.Format('{EXECUTION_NAME_PREFIX}{{}}', $.detail.orderId)" in machine.inputs["definition"]


def failed_fulfillment(flow: OrderFlow) -> tuple[str, Throttled]:
    """An order whose fulfillment failed and whose compensation failed too: ACCEPTED, execution FAILED."""
    faults = Throttled("process_payment", "release_inventory")
    flow.runtime.faults = faults
    [order_id] = place_orders(flow, 1)
    return order_id, faults


def test_a_failed_fulfillment_is_redriven_by_step_functions(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # moto 5.2.5 has no RedriveExecution (nor time limits): Step Functions' answers are the execution as moto
    # ran it, timed out, plus the redrive fields and response the Step Functions API reference documents.
    [order_id] = place_orders(flow, 1)
    arn = execution_arn(recorded_program.outputs["fulfillmentStateMachineArn"], f"order-{order_id}")
    described = flow.sfn.describe_execution(executionArn=arn)
    described.pop("ResponseMetadata")
    described |= {"status": "TIMED_OUT", "error": "States.Timeout"}
    sfn, stubber = stubbed("stepfunctions", flow.system.region)
    stubber.add_response("describe_execution", {**described, "redriveStatus": "REDRIVABLE"}, {"executionArn": arn})
    redriven_at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    stubber.add_response(
        "redrive_execution",
        {"redriveDate": redriven_at},
        {"executionArn": arn, "clientToken": ANY},
    )

    run = ops(capsys, outputs, "redrive-execution", order_id, "--json", connect=with_clients(stepfunctions=sfn))

    assert run.code == 0, run.err
    stubber.assert_no_pending_responses()
    assert run.json["redriven"] is True
    assert run.json["redriveDate"] == redriven_at.isoformat()
    assert run.json["error"] == described.get("error")


def test_an_execution_that_cannot_be_redriven_says_why(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    [fulfilled] = place_orders(flow, 1)

    unknown = ops(capsys, outputs, "redrive-execution", "no-such-order")
    succeeded = ops(capsys, outputs, "redrive-execution", fulfilled)

    assert unknown.code == 1
    assert "order no-such-order has no fulfillment execution (order-no-such-order)" in unknown.err
    assert succeeded.code == 1
    assert f"order {fulfilled}'s execution is SUCCEEDED: only a failed" in succeeded.err

    order_id, _ = failed_fulfillment(flow)
    arn = execution_arn(recorded_program.outputs["fulfillmentStateMachineArn"], f"order-{order_id}")
    described = flow.sfn.describe_execution(executionArn=arn)
    described.pop("ResponseMetadata")
    sfn, stubber = stubbed("stepfunctions", flow.system.region)
    too_old = {
        **described,
        "status": "TIMED_OUT",
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is older than 14 days",
    }
    stubber.add_response("describe_execution", too_old, {"executionArn": arn})
    stubber.add_response("describe_execution", too_old, {"executionArn": arn})

    refused = ops(capsys, outputs, "redrive-execution", order_id, connect=with_clients(stepfunctions=sfn))

    assert refused.code == 1
    assert f"order {order_id}'s execution cannot be redriven: Execution is older than 14 days" in refused.err


def test_reconcile_gives_each_stuck_order_its_next_safe_action(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    failed, faults = failed_fulfillment(flow)
    faults.packages = {"customer_status"}
    [parked] = place_orders(flow, 1)
    faults.heal()
    [done] = place_orders(flow, 1)
    # An order whose OrderPlaced never reached customer-status and is parked nowhere (e.g. its rule's
    # retries ran out before the DLQ existed): only the archive still has it.
    placed = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    lost = {
        "orderId": "lost-order",
        "customerId": "someone",
        "status": "PENDING",
        "createdAt": placed.isoformat().replace("+00:00", "Z"),
        "updatedAt": placed.isoformat().replace("+00:00", "Z"),
    }
    flow.put_item("orders", lost)

    run = ops(capsys, outputs, "reconcile", "--stuck-after", "0", "--json")

    assert run.code == 0, run.err
    actions = {order["orderId"]: order["action"]["command"] for order in run.json["orders"]}
    assert done not in actions
    # Parked for an operator: resumed from the attention queue, not redriven into its Fail state.
    assert actions[failed] == "dlq redrive fulfillment-attention"
    assert actions[parked] == "dlq redrive customer-status-failures"
    start, end = placed - timedelta(minutes=1), placed + timedelta(minutes=2)
    window = f"--from {start:%Y-%m-%dT%H:%M:%SZ} --to {end:%Y-%m-%dT%H:%M:%SZ}"
    assert actions["lost-order"] == f"replay {window} --detail-type OrderPlaced"
    # Reconciling read the parked queue without consuming it.
    status = ops(capsys, outputs, "status", "--json").json
    assert {queue["queue"]: queue["visible"] for queue in status["failureQueues"]}["customer-status-failures"] == 1

    text = ops(capsys, outputs, "reconcile", "--stuck-after", "0")
    assert 'run: make ops ARGS="dlq redrive fulfillment-attention --stack dev"' in text.out

    # Each suggested command, run, moves its order on.
    faults.heal()
    assert ops(capsys, outputs, "dlq", "redrive", "customer-status-failures").code == 0
    flow.router.pump()
    assert flow.item("orders", {"orderId": parked})["status"] == "FULFILLED"
    later = ops(capsys, outputs, "reconcile", "--stuck-after", "0", "--json")
    assert {order["orderId"] for order in later.json["orders"]} == {failed, "lost-order"}
