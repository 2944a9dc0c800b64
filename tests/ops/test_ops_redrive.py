"""``dlq redrive``: parked messages delivered again and removed, SQS's own move where it applies, and an
interrupted redrive that loses nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from offline.recording import ProgramRun
from orderflow.ops import queues
from tests.ops.opskit import Throttled, ops, place_orders, stubbed, visible, with_clients
from tests.workflows.flowkit import OrderFlow

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def failure_queue(program: ProgramRun, role: str) -> dict[str, str]:
    return dict(program.outputs["failureQueues"][role])


def audit_rule_fails(flow: OrderFlow) -> None:
    flow.router.delivery_fault = lambda rule, target, event, attempt: rule.name.endswith("-audit")


def audit_rule_heals(flow: OrderFlow) -> None:
    flow.router.delivery_fault = lambda *_: False


def order_event_ids(flow: OrderFlow) -> list[str]:
    """The order events the audit rule routes (the bus also carries S3's Object Created events)."""
    return sorted(event["id"] for event in flow.bus_events() if event["source"] == "orderflow.orders")


def timeline_events(flow: OrderFlow) -> list[str]:
    return sorted(row["eventId"] for row in flow.scan("timeline"))


def test_a_parked_order_placed_is_redriven_into_customer_status_and_the_order_completes(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    faults = Throttled("customer_status")
    flow.runtime.faults = faults
    [order_id] = place_orders(flow, 1)
    parked = failure_queue(recorded_program, "customer-status-failures")
    assert flow.item("orders", {"orderId": order_id})["status"] == "PENDING"

    dry = ops(capsys, outputs, "dlq", "redrive", "customer-status-failures", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    [would] = dry.json["wouldMove"]
    assert would["deliverTo"] == recorded_program.outputs["customerStatusStateMachineArn"]
    assert visible(flow, parked["url"]) == 1

    faults.heal()
    run = ops(capsys, outputs, "dlq", "redrive", "customer-status-failures")
    flow.router.pump()

    assert run.code == 0, run.err
    assert "customer-status-failures: 1 message(s) redriven (receive-deliver-delete)" in run.out
    assert visible(flow, parked["url"]) == 0
    assert flow.item("orders", {"orderId": order_id})["status"] == "FULFILLED"
    # The workflow received the original event, not the parked state with its error.
    [execution] = [e for e in flow.executions("customer-status-workflow") if e.status == "SUCCEEDED"]
    assert "error" not in execution.input and execution.input["detail"]["orderId"] == order_id


def test_rule_dlq_messages_go_back_to_their_own_target_at_the_rate_asked(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    audit_rule_fails(flow)
    place_orders(flow, 4)
    parked = failure_queue(recorded_program, "rule-audit")
    events = order_event_ids(flow)
    assert visible(flow, parked["url"]) == len(events) == 12
    assert timeline_events(flow) == []
    audit_rule_heals(flow)

    run = ops(capsys, outputs, "dlq", "redrive", "rule-audit", "--rate", "500", "--json")
    flow.router.pump()

    assert run.code == 0, run.err
    assert run.json["moved"] == 12
    assert "redriven 10 (" in run.err  # progress
    assert visible(flow, parked["url"]) == 0
    assert timeline_events(flow) == events


def test_notify_failures_are_invoked_again_and_the_customer_is_told(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    faults = Throttled("notify")
    flow.runtime.faults = faults
    [order_id] = place_orders(flow, 1)
    parked = failure_queue(recorded_program, "notify-failures")
    assert visible(flow, parked["url"]) == 3  # OrderAccepted, OrderFulfilled, the receipt's Object Created
    shown = ops(capsys, outputs, "dlq", "show", "notify-failures", "--json").json["messages"]
    assert {message["failure"]["condition"] for message in shown} == {"RetriesExhausted"}
    assert {message["target"] for message in shown} == {recorded_program.outputs["functions"]["notify"]}
    assert flow.iot_publishes() == []

    faults.heal()
    run = ops(capsys, outputs, "dlq", "redrive", "notify-failures")

    assert run.code == 0, run.err
    assert visible(flow, parked["url"]) == 0
    told = sorted(payload["type"] for _, payload in flow.iot_publishes() if payload["orderId"] == order_id)
    assert told == ["OrderAccepted", "OrderFulfilled", "ReceiptReady"]


REAL_DELIVER = queues.deliver


class Interrupt:
    """Delivers for real, then stops the process (Ctrl-C) after the ``after``-th delivery, before its delete."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.delivered = 0

    def __call__(self, aws: Any, message: Any, destination: str) -> None:
        REAL_DELIVER(aws, message, destination)
        self.delivered += 1
        if self.delivered == self.after:
            raise KeyboardInterrupt


def test_an_interrupted_redrive_loses_nothing_and_a_second_run_finishes_it(
    flow: OrderFlow,
    recorded_program: ProgramRun,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    outputs: Path,
) -> None:
    audit_rule_fails(flow)
    place_orders(flow, 2)
    audit_rule_heals(flow)
    parked = failure_queue(recorded_program, "rule-audit")
    target_url = (
        f"https://sqs.{flow.system.region}.amazonaws.com/{flow.system.account}/"
        + (recorded_program.outputs["failureQueues"]["order-audit"]["redriveTo"].rsplit(":", 1)[-1])
    )
    events = order_event_ids(flow)
    assert visible(flow, parked["url"]) == len(events) == 6

    monkeypatch.setattr(queues, "deliver", Interrupt(after=3))
    stopped = ops(capsys, outputs, "dlq", "redrive", "rule-audit", "--json")

    # Two delivered and deleted; the third delivered but not deleted; the rest never left the queue.
    assert stopped.code == 130
    assert stopped.json["moved"] == 2 and stopped.json["stopped"] == "interrupted"
    received = flow.sqs.receive_message(QueueUrl=target_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    bodies = [message["Body"] for message in received["Messages"]]
    assert len(bodies) == 3
    still_parked = visible(flow, parked["url"])
    assert still_parked == 4  # at once, not after the visibility timeout
    assert len(bodies) + still_parked == len(events) + 1  # every event somewhere; one is in both places

    monkeypatch.setattr(queues, "deliver", REAL_DELIVER)
    finished = ops(capsys, outputs, "dlq", "redrive", "rule-audit", "--json")
    flow.router.pump()

    assert finished.code == 0 and finished.json["moved"] == 4
    assert visible(flow, parked["url"]) == 0
    # The event delivered twice is recorded once: audit writes each timeline row only if absent.
    assert timeline_events(flow) == events


def test_a_dlq_of_an_sqs_queue_is_moved_back_by_sqs_itself(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    # moto 5.2.5 has no StartMessageMoveTask (see test_moto_lacks_the_apis_recorded_responses_stand_in_for):
    # the SQS client answers with responses shaped as the SQS API reference documents them.
    dlq = failure_queue(recorded_program, "order-audit")
    sqs, stubber = stubbed("sqs", flow.system.region)
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "eyJ0YXNrSWQiOiJkYjFhZGU1YiJ9"},
        {"SourceArn": dlq["arn"], "DestinationArn": dlq["redriveTo"], "MaxNumberOfMessagesPerSecond": 50},
    )
    for status, moved in (("RUNNING", 2), ("COMPLETED", 5)):
        stubber.add_response(
            "list_message_move_tasks",
            {
                "Results": [
                    {
                        "TaskHandle": "eyJ0YXNrSWQiOiJkYjFhZGU1YiJ9",
                        "Status": status,
                        "SourceArn": dlq["arn"],
                        "DestinationArn": dlq["redriveTo"],
                        "MaxNumberOfMessagesPerSecond": 50,
                        "ApproximateNumberOfMessagesMoved": moved,
                        "ApproximateNumberOfMessagesToMove": 5,
                        "StartedTimestamp": 1764500000000,
                    }
                ]
            },
            {"SourceArn": dlq["arn"], "MaxResults": 1},
        )
    slept: list[float] = []
    monkeypatch_sleep = pytest.MonkeyPatch()
    monkeypatch_sleep.setattr(queues.time, "sleep", slept.append)
    try:
        run = ops(capsys, outputs, "dlq", "redrive", "order-audit", "--rate", "50", connect=with_clients(sqs=sqs))
    finally:
        monkeypatch_sleep.undo()

    assert run.code == 0, run.err
    stubber.assert_no_pending_responses()
    assert "order-audit: 5 message(s) redriven (StartMessageMoveTask)" in run.out
    assert "RUNNING: moved 2 of 5" in run.err and "COMPLETED: moved 5 of 5" in run.err
    # One pause between the two looks at the task.
    assert slept.count(queues.MOVE_TASK_POLL_SECONDS) == 1


def test_moto_lacks_the_apis_recorded_responses_stand_in_for(flow: OrderFlow) -> None:
    # If moto gains them, these tests can run against moto instead of the recorded responses.
    with pytest.raises(NotImplementedError, match="start_message_move_task"):
        flow.sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:{flow.system.region}:123456789012:any")
    with pytest.raises(NotImplementedError, match="redrive_execution"):
        flow.sfn.redrive_execution(executionArn=f"arn:aws:states:{flow.system.region}:123456789012:execution:a:b")


def test_an_aws_event_cannot_be_put_back_on_a_bus(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    parked = failure_queue(recorded_program, "rule-forward-receipts")
    s3_event = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": flow.system.account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": flow.system.region,
        "resources": [],
        "detail": {"bucket": {"name": "receipts"}, "object": {"key": "receipts/c/o.json"}},
    }
    flow.sqs.send_message(
        QueueUrl=parked["url"],
        MessageBody=json.dumps(s3_event),
        MessageAttributes={
            "TARGET_ARN": {"DataType": "String", "StringValue": recorded_program.outputs["eventBusArn"]},
            "ERROR_CODE": {"DataType": "String", "StringValue": "ThrottlingException"},
        },
    )

    refused = ops(capsys, outputs, "dlq", "redrive", "rule-forward-receipts")
    assert refused.code == 1
    assert "AWS reserves aws.* sources" in refused.out
    assert visible(flow, parked["url"]) == 1

    to_notify = ops(capsys, outputs, "dlq", "redrive", "rule-forward-receipts", "--to", "notify", "--json")
    assert to_notify.code == 0, to_notify.err
    assert to_notify.json["destination"] == recorded_program.outputs["functions"]["notify"]
    assert visible(flow, parked["url"]) == 0
