"""The emulator's delivery semantics (``offline/emulator``), each as the AWS page it cites documents it.

Each test pins a behaviour that changed for ``make local`` or the tests when their two emulations merged:
retries that used to run at once now wait their documented backoff on the virtual clock, a failed SQS
message waits out its visibility timeout, and the kinds of delivery one copy lacked (input transformers,
SNS filter policies, on-success destinations, reserved concurrency) exist once for both.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from offline.emulator.clock import VirtualClock
from offline.emulator.lambdas import CallFaultKind, FaultInjector, FaultKind, LambdaRuntime
from offline.emulator.recorded import SubscriptionSpec
from offline.emulator.router import transform_input
from tests.workflows.flowkit import OrderFlow, RecordedSystem, aws_client, running_flow
from tests.workflows.flowkit_orders import api_request, claims_for, new_customer, place_order

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


class TimeOutEveryInvocation(FaultInjector):
    """Every invocation of one function is killed by its timeout at its first AWS call (a function error)."""

    def __init__(self, package: str) -> None:
        self.package = package

    def call_fault(self, package: str, call_site: str, request: Mapping[str, Any]) -> CallFaultKind | None:
        return "timeout" if package == self.package else None


class LoseResponses(FaultInjector):
    """The first ``times`` invocations of one function on each event run, then Lambda loses their response."""

    def __init__(self, package: str, times: int) -> None:
        self.package = package
        self.times = times
        self.lost: Counter[str] = Counter()

    def decide(self, package: str, event: Any) -> FaultKind | None:
        if package != self.package or self.lost[event["id"]] >= self.times:
            return None
        self.lost[event["id"]] += 1
        return "lost-response"


def test_a_failing_async_event_is_retried_a_minute_then_two_later_then_sent_to_its_destination(
    flow: OrderFlow,
) -> None:
    # Before: local retried at once, the tests in the next round. Lambda waits about 1 and 2 minutes.
    flow.runtime.faults = TimeOutEveryInvocation("notify")
    notify = flow.system.function("notify")
    destination = flow.system.queue_by_arn(str(flow.system.async_invokes[notify.name].on_failure_destination))
    started = flow.clock.now()

    place_order(flow, new_customer(), {"MUG-BLK": 1})

    assert flow.clock.now() - started >= 60 + 120
    records = [message["body"] for message in flow.peek_queue(destination.name)]
    assert records, "no on-failure record"
    assert {record["requestContext"]["condition"] for record in records} == {"RetriesExhausted"}
    assert {record["requestContext"]["approximateInvokeCount"] for record in records} == {3}
    assert all(record["responseContext"]["functionError"] == "Unhandled" for record in records)


def test_an_async_event_whose_responses_the_service_loses_is_retried_without_using_up_its_attempts(
    flow: OrderFlow,
) -> None:
    # A lost response is a system error (500-series): Lambda puts the event back on its queue and retries it
    # with backoff for up to the maximum event age, without counting an attempt. Before: three lost responses
    # used up the three attempts and sent a delivered notification to the on-failure destination.
    faults = LoseResponses("notify", times=3)
    flow.runtime.faults = faults
    notify = flow.system.function("notify")
    destination = flow.system.queue_by_arn(str(flow.system.async_invokes[notify.name].on_failure_destination))

    order_id = place_order(flow, new_customer(), {"MUG-BLK": 1})["orderId"]

    assert faults.lost and set(faults.lost.values()) == {3}
    assert flow.peek_queue(destination.name) == []
    told = sorted(payload["type"] for _, payload in flow.iot_publishes() if payload["orderId"] == order_id)
    assert told == ["OrderAccepted", "OrderFulfilled", "ReceiptReady"]


def test_a_failed_sqs_message_comes_back_only_after_its_visibility_timeout(flow: OrderFlow) -> None:
    # Before: the tests made a failed message visible at once; local waited the timeout in real time.
    audit_queue = flow.system.queue_by_arn(flow.system.queue_consumers[0].queue_arn)
    flow.runtime.throttle("audit", "PutItem", times=1)
    started = flow.clock.now()

    place_order(flow, new_customer(), {"MUG-BLK": 1})

    audit_runs = flow.runtime.of("audit")
    retried = [
        run
        for run in audit_runs
        if any(r["attributes"]["ApproximateReceiveCount"] != "1" for r in run.event["Records"])
    ]
    assert retried, "the throttled record was never received again"
    assert flow.clock.now() - started >= audit_queue.visibility_timeout_seconds
    assert flow.queue_depths([audit_queue.name]) == {audit_queue.name: 0}


def test_a_target_that_keeps_failing_is_retried_with_backoff_then_dead_lettered(flow: OrderFlow) -> None:
    # Before: both copies retried in a tight loop. EventBridge backs off, then writes the DLQ.
    rule = next(r for r in flow.system.rules if r.name.endswith("order-placed"))
    target = rule.targets[0]
    flow.router.delivery_fault = lambda failing_rule, *_: failing_rule.name == rule.name
    started = flow.clock.now()

    place_order(flow, new_customer(), {"MUG-BLK": 1})

    [dead] = [d for d in flow.router.deliveries if d.rule == rule.name]
    assert (dead.outcome, dead.attempts) == ("dead-lettered", target.maximum_retry_attempts + 1)
    # 1 + 2 + 4 + ... seconds between the attempts
    assert flow.clock.now() - started >= sum(2**n for n in range(target.maximum_retry_attempts))
    [message] = flow.peek_queue(flow.system.queue_by_arn(str(target.dead_letter_arn)).name)
    assert message["attributes"]["RETRY_ATTEMPTS"]["StringValue"] == str(target.maximum_retry_attempts)
    assert message["attributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttempts"


def test_the_api_passes_every_jwt_claim_as_a_string(flow: OrderFlow) -> None:
    # Before: the tests' API passed claims as given; local's (and API Gateway's) pass strings.
    claims = claims_for(flow.system, new_customer(), "GET /orders/{orderId}") | {"auth_time": 1_700_000_000}
    api_request(flow, "GET", "/orders/none", claims=claims)

    event = flow.runtime.of("get_order")[-1].event
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["auth_time"] == "1700000000"
    assert "body" not in event  # API Gateway sends no body for a request without one


def test_input_transformers_shape_what_the_target_receives() -> None:
    # Before: local refused to start and the tests raised on a target with an input transformation.
    event = {"id": "e-1", "detail-type": "OrderPlaced", "detail": {"orderId": "o-1", "totalCents": 1299}}

    assert transform_input({}, event) == event
    assert transform_input({"inputPath": "$.detail"}, event) == event["detail"]
    assert transform_input({"input": '{"fixed": true}'}, event) == {"fixed": True}
    transformer = {
        "inputPaths": {"order": "$.detail.orderId", "cents": "$.detail.totalCents"},
        "inputTemplate": '{"id": <order>, "text": "order <order> costs <cents>", "cents": <cents>}',
    }
    assert transform_input({"inputTransformer": transformer}, event) == {
        "id": "o-1",
        "text": "order o-1 costs 1299",
        "cents": 1299,
    }


def queue_subscription(system: RecordedSystem, filter_policy: str | None) -> tuple[str, str, Any, SubscriptionSpec]:
    """The program's first topic (name, ARN), a queue, and a raw-delivery subscription of the queue to the topic."""
    topic_name, topic_arn = next(iter(system.topics.items()))
    target = next(iter(system.dead_letter_queues.values()))
    subscription = SubscriptionSpec(
        arn=f"{topic_arn}:sub-1",
        topic_arn=topic_arn,
        protocol="sqs",
        endpoint=target.arn,
        filter_policy=filter_policy,
        filter_policy_scope=None,
        raw_message_delivery=True,
        dead_letter_arn=None,
    )
    return topic_name, topic_arn, target, subscription


def test_sns_delivers_to_a_subscription_only_what_its_filter_policy_selects(system: RecordedSystem) -> None:
    # Before: neither copy delivered SNS subscriptions (the program declares none yet).
    topic_name, topic_arn, target, subscription = queue_subscription(system, json.dumps({"kind": ["refund"]}))
    with running_flow(dataclasses.replace(system, subscriptions=(subscription,))) as flow:
        sns = aws_client("sns", system.region)
        for kind in ("refund", "shipment"):
            sns.publish(
                TopicArn=topic_arn,
                Message=json.dumps(kind),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
            )
        flow.router.pump()

        assert [message["body"] for message in flow.peek_queue(target.name)] == ["refund"]
        assert len(flow.sns_messages()) == 2, topic_name


def test_a_faulted_sns_delivery_is_counted_on_its_hop_and_delivered_by_the_retry(system: RecordedSystem) -> None:
    # The fault run's hook reaches SNS deliveries whenever the program subscribes something (dev has none yet).
    topic_name, topic_arn, target, subscription = queue_subscription(system, None)
    with running_flow(dataclasses.replace(system, subscriptions=(subscription,))) as flow:
        flow.router.hop_fault = lambda hop, delivered, attempt: hop.startswith("sns:") and attempt == 1
        aws_client("sns", system.region).publish(TopicArn=topic_arn, Message=json.dumps("hello"))
        flow.router.pump()

        hop = f"sns:{topic_name}:sqs"
        assert (flow.router.faulted_hops[hop], flow.router.hop_deliveries[hop]) == (1, 2)
        assert [message["body"] for message in flow.peek_queue(target.name)] == ["hello"]


def test_a_function_without_reserved_concurrency_left_is_throttled_before_it_runs(system: RecordedSystem) -> None:
    # Before: neither copy knew reserved concurrency.
    get_order = system.function("get_order")
    functions = dict(system.functions) | {get_order.name: dataclasses.replace(get_order, reserved_concurrency=0)}
    runtime = LambdaRuntime(dataclasses.replace(system, functions=functions))

    invocation = runtime.invoke("get_order", {}, source="test")

    assert (invocation.error_type, invocation.fault) == ("TooManyRequestsException", "refused")
    assert runtime.dispatch(get_order.name, b"{}").service_error == (
        "TooManyRequestsException",
        invocation.error_message,
    )


def test_the_virtual_clock_runs_timers_in_time_order_and_only_skips_when_asked() -> None:
    clock = VirtualClock(start=100)
    ran: list[str] = []
    clock.call_later(120, lambda: ran.append("two minutes"))
    clock.call_later(60, lambda: ran.append("one minute"))

    assert not clock.run_due() and ran == []
    assert clock.skip_to_next() and clock.now() == 160
    clock.run_due()
    assert ran == ["one minute"]
    clock.advance(60)
    clock.run_due()
    assert ran == ["one minute", "two minutes"] and not clock.skip_to_next()


def test_the_local_systems_clock_never_runs_behind_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # make local: a person's requests refill the API's token bucket in real time (it stood still before).
    wall = [1_000.0]
    monkeypatch.setattr("offline.emulator.clock.time.time", lambda: wall[0])
    followed, virtual = VirtualClock(follow_wall_clock=True), VirtualClock()
    ran: list[str] = []
    followed.call_later(5, lambda: ran.append("due"))
    wall[0] += 10
    assert followed.now() == 1_010 and virtual.now() == 1_000
    assert followed.run_due() and ran == ["due"]
    followed.call_later(60, lambda: ran.append("idle"))
    assert followed.skip_to_next() and followed.now() == 1_070  # idle waits still jump ahead


def test_the_sqs_poller_fills_batches_and_waits_out_the_batching_window_for_the_rest(flow: OrderFlow) -> None:
    # Before: local took one batch per round, the tests up to four at once and never waited for a window.
    consumer = flow.system.queue_consumers[0]
    queue = flow.system.queue_by_arn(consumer.queue_arn)
    count = 2 * consumer.batch_size + 3
    for n in range(count):
        event = {
            "version": "0",
            "id": f"e-{n}",
            "detail-type": "OrderNoted",
            "source": "orderflow.orders",
            "account": flow.system.account,
            "time": "2026-12-06T12:00:00Z",
            "region": flow.system.region,
            "resources": [],
            "detail": {"orderId": f"o-{n}"},
        }
        flow.sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps(event))
    started = flow.clock.now()

    flow.router.pump()

    sizes = [len(run.event["Records"]) for run in flow.runtime.of("audit")]
    assert sizes == [consumer.batch_size, consumer.batch_size, 3]
    assert flow.clock.now() - started >= consumer.maximum_batching_window_seconds > 0
    assert len(flow.scan("timeline")) == count


def _waiting_machine(flow: OrderFlow, name: str, kind: str) -> str:
    """A machine whose one Task fails a DynamoDB condition and retries it every 100 s, 4 times (400 s)."""
    definition = {
        "StartAt": "KeepTrying",
        "States": {
            "KeepTrying": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": flow.system.table("orders").name,
                    "Key": {"orderId": {"S": "no-such-order"}},
                    "UpdateExpression": "SET #s = :s",
                    "ConditionExpression": "attribute_exists(orderId)",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "X"}},
                },
                "Retry": [
                    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 100, "BackoffRate": 1.0, "MaxAttempts": 4}
                ],
                "End": True,
            }
        },
    }
    role = aws_client("iam", flow.system.region).create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    machine = flow.sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=role["Role"]["Arn"], type=kind
    )
    return str(machine["stateMachineArn"])


def test_an_express_execution_is_timed_out_at_five_minutes_of_virtual_time_and_its_parent_sees_it(
    flow: OrderFlow,
) -> None:
    # Step Functions quotas: an EXPRESS execution runs at most 5 minutes. Its waits here add up to 400 s.
    child = _waiting_machine(flow, "waits-too-long", "EXPRESS")
    parent = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Name": "child-run", "Input": {}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    role = aws_client("iam", flow.system.region).create_role(RoleName="parent-role", AssumeRolePolicyDocument="{}")
    parent_arn = flow.sfn.create_state_machine(
        name="parent", definition=json.dumps(parent), roleArn=role["Role"]["Arn"]
    )["stateMachineArn"]
    started = flow.sfn.start_execution(stateMachineArn=parent_arn, name="parent-run", input="{}")
    flow.router.pump()

    [run] = [e for e in flow.sfn.list_executions(stateMachineArn=child)["executions"] if e["name"] == "child-run"]
    history = flow.sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    assert run["status"] == "TIMED_OUT"
    [timed_out] = [event["executionTimedOutEventDetails"] for event in history if event["type"] == "ExecutionTimedOut"]
    assert timed_out["error"] == "States.Timeout"
    # Three 100 s waits fit; the fourth would end at 400 s, so the execution stops there, before attempt 5.
    assert [event["type"] for event in history].count("TaskScheduled") == 4
    assert flow.seams.express_limit.timed_out == ["child-run"]
    # What started it is told, as for any failed child: the .sync:2 Task fails with States.TaskFailed.
    described = flow.sfn.describe_execution(executionArn=started["executionArn"])
    output = json.loads(described["output"])
    assert (described["status"], output["error"]["Error"]) == ("SUCCEEDED", "States.TaskFailed")
    assert json.loads(output["error"]["Cause"])["Status"] == "TIMED_OUT"


def _machine(flow: OrderFlow, name: str, kind: str, definition: dict[str, Any]) -> str:
    role = aws_client("iam", flow.system.region).create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    machine = flow.sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=role["Role"]["Arn"], type=kind
    )
    return str(machine["stateMachineArn"])


def test_a_wait_state_takes_virtual_time_only_and_counts_toward_the_express_limit(flow: OrderFlow) -> None:
    waits = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 3_600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    standard = _machine(flow, "waits-an-hour", "STANDARD", waits)
    express = _machine(flow, "waits-an-hour-express", "EXPRESS", waits)

    long_run = flow.sfn.start_execution(stateMachineArn=standard, name="hour", input="{}")
    express_run = flow.sfn.start_execution(stateMachineArn=express, name="hour-express", input="{}")
    flow.router.pump()

    # Done at once in real time (moto alone would block this test for an hour).
    assert flow.sfn.describe_execution(executionArn=long_run["executionArn"])["status"] == "SUCCEEDED"
    assert flow.sfn.describe_execution(executionArn=express_run["executionArn"])["status"] == "TIMED_OUT"
    assert sorted(wait.seconds for wait in flow.seams.waits.waits) == [3_600, 3_600]
    assert flow.seams.express_limit.timed_out == ["hour-express"]


def test_a_stalled_attempt_holds_an_express_execution_past_its_limit_and_only_an_express_one(
    flow: OrderFlow,
) -> None:
    asked: list[tuple[str, str, str]] = []

    def stall(machine: str, execution: str, state: str) -> bool:
        asked.append((machine, execution, state))
        return True

    flow.seams.express_limit.stall = stall
    express = _waiting_machine(flow, "stalls", "EXPRESS")
    standard = _waiting_machine(flow, "never-stalls", "STANDARD")
    express_run = flow.sfn.start_execution(stateMachineArn=express, name="stalled", input="{}")
    standard_run = flow.sfn.start_execution(stateMachineArn=standard, name="not-stalled", input="{}")
    flow.router.pump()

    assert flow.sfn.describe_execution(executionArn=express_run["executionArn"])["status"] == "TIMED_OUT"
    history = flow.sfn.get_execution_history(executionArn=express_run["executionArn"])["events"]
    # Stopped before its first attempt ran: the stall is charged from the execution's thread.
    assert [event["type"] for event in history].count("TaskScheduled") == 0
    assert asked == [("stalls", "stalled", "KeepTrying")]
    assert flow.seams.express_limit.timed_out == ["stalled"]
    described = flow.sfn.describe_execution(executionArn=standard_run["executionArn"])
    assert (described["status"], described.get("error")) == ("FAILED", "DynamoDB.ConditionalCheckFailedException")


def test_a_standard_execution_may_wait_longer_than_five_minutes(flow: OrderFlow) -> None:
    machine = _waiting_machine(flow, "waits-long", "STANDARD")
    started = flow.sfn.start_execution(stateMachineArn=machine, name="long-run", input="{}")
    flow.router.pump()

    described = flow.sfn.describe_execution(executionArn=started["executionArn"])
    assert (described["status"], described.get("error")) == ("FAILED", "DynamoDB.ConditionalCheckFailedException")
    assert flow.seams.express_limit.timed_out == []
