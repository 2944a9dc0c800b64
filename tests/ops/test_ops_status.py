"""``status`` and ``dlq show`` on a stack where things went wrong: parked events, a failed execution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from offline.recording import ProgramRun
from tests.ops.opskit import Throttled, ops, place_orders, visible
from tests.workflows.flowkit import OrderFlow

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def queue_url(program: ProgramRun, role: str) -> str:
    return str(program.outputs["failureQueues"][role]["url"])


def test_status_shows_every_failure_queue_failed_executions_and_stuck_orders(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # customer-status cannot classify (its order stays PENDING, its event parked); fulfillment cannot charge
    # nor release stock (the compensation fails: the order stays ACCEPTED, parked for an operator, the
    # execution FAILED).
    faults = Throttled("customer_status")
    flow.runtime.faults = faults
    [parked] = place_orders(flow, 1)
    faults.packages = {"process_payment", "release_inventory"}
    [failed] = place_orders(flow, 1)

    run = ops(capsys, outputs, "status", "--stuck-after", "0", "--json")

    assert run.code == 0, run.err
    depths = {queue["queue"]: queue for queue in run.json["failureQueues"]}
    assert set(depths) == set(recorded_program.outputs["failureQueues"])
    parked_on = ("customer-status-failures", "fulfillment-attention")
    assert [depths[role]["visible"] for role in parked_on] == [1, 1]
    assert all(depth["visible"] == 0 for role, depth in depths.items() if role not in parked_on)
    [execution] = run.json["failedExecutions"]["executions"]
    assert (execution["orderId"], execution["status"]) == (failed, "FAILED")
    assert execution["execution"] == f"order-{failed}"
    stuck = {order["orderId"]: order["status"] for order in run.json["stuckOrders"]["orders"]}
    assert stuck == {parked: "PENDING", failed: "ACCEPTED"}

    text = ops(capsys, outputs, "status", "--stuck-after", "0")
    assert "customer-status-failures        1          0       —  <- dlq show customer-status-failures" in text.out
    assert f"order-{failed}  FAILED" in text.out
    assert "Next: `reconcile`" in text.out


def test_status_reads_the_age_of_the_oldest_message_from_cloudwatch(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # moto does not publish SQS's metrics: the datapoint SQS would publish is put here, as SQS names it.
    name = recorded_program.outputs["failureQueues"]["notify-failures"]["name"]
    boto3.client("cloudwatch", region_name=flow.system.region).put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": name}],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
                "Value": 5400,
                "Unit": "Seconds",
            }
        ],
    )

    run = ops(capsys, outputs, "status", "--json")

    depths = {queue["queue"]: queue for queue in run.json["failureQueues"]}
    assert depths["notify-failures"]["oldestAgeSeconds"] == 5400
    assert depths["order-audit"]["oldestAgeSeconds"] is None
    assert "notify-failures" in ops(capsys, outputs, "status").out


def test_dlq_show_decodes_without_consuming(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    flow.runtime.faults = Throttled("customer_status")
    flow.router.delivery_fault = lambda rule, target, event, attempt: rule.name.endswith("-audit")
    [order_id] = place_orders(flow, 1)

    parked = ops(capsys, outputs, "dlq", "show", "customer-status-failures", "--json")
    [message] = parked.json["messages"]
    assert message["event"]["detailType"] == "OrderPlaced"
    assert message["event"]["orderId"] == order_id
    assert message["failure"]["error"] == "TransientDependencyError"
    assert message["target"] == recorded_program.outputs["customerStatusStateMachineArn"]

    rule = ops(capsys, outputs, "dlq", "show", "rule-audit", "--json")
    assert [m["event"]["detailType"] for m in rule.json["messages"]] == ["OrderPlaced"]
    [audit] = rule.json["messages"]
    assert audit["failure"]["ERROR_CODE"] == "ThrottlingException"
    assert audit["target"] == recorded_program.outputs["failureQueues"]["order-audit"]["redriveTo"]

    # Nothing was consumed: both queues hold their messages, visible at once.
    assert visible(flow, queue_url(recorded_program, "customer-status-failures")) == 1
    assert visible(flow, queue_url(recorded_program, "rule-audit")) == 1
    again = ops(capsys, outputs, "dlq", "show", "customer-status-failures")
    assert "event OrderPlaced from orderflow.orders" in again.out
    assert f"order {order_id}" in again.out
    assert "error: TransientDependencyError" in again.out
    assert "none consumed" in again.out
