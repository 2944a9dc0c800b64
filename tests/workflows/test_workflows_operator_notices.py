"""Who hears of an order, on the recorded stack: the customer on the page (IoT), operators only of failures.

The recorded dev stack with an operator address (``orderflow:operatorEmail``) runs on moto. An order that
fails on our side puts one notice on the operators' topic (the ``operator-failures`` rule's input
transformer, delivered by SNS to any subscriber whose filter takes it) and no e-mail: the address gets the
digest alarms only. A fulfilled order, a declined one and a stock-out tell operators nothing, and no order
sends an e-mail to anyone.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from components.operator_notices import NOTICE_FILTER
from offline.emulator.recorded import QueueSpec, SubscriptionSpec
from offline.harness import run_program
from tests.workflows.flowkit import OrderFlow, RecordedSystem, running_flow
from tests.workflows.flowkit_orders import new_customer, place_order

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

OPERATOR = "operators@example.com"
WORK_QUEUE = "operators-work-queue"


@pytest.fixture(scope="module")
def operators_system() -> RecordedSystem:
    """The dev stack with an operator address, and an operator's work queue subscribed to the notices."""
    system = RecordedSystem.from_program(run_program("dev", config_overrides={"orderflow:operatorEmail": OPERATOR}))
    topic_arn = operators_topic(system)
    # Any subscriber that takes any rate (a work queue, a chat or paging integration) filters on the notice.
    sample = next(iter(system.queues.values()))
    work_queue = QueueSpec(
        name=WORK_QUEUE,
        arn=f"{sample.arn.rsplit(':', 1)[0]}:{WORK_QUEUE}",
        url=f"{sample.url.rsplit('/', 1)[0]}/{WORK_QUEUE}",
        visibility_timeout_seconds=30,
        redrive_policy=None,
    )
    subscriber = SubscriptionSpec(
        arn=f"{topic_arn}:operators-work-queue",
        topic_arn=topic_arn,
        protocol="sqs",
        endpoint=work_queue.arn,
        filter_policy=json.dumps(NOTICE_FILTER),
        filter_policy_scope="MessageBody",
        raw_message_delivery=True,
        dead_letter_arn=None,
    )
    return dataclasses.replace(
        system, queues={**system.queues, WORK_QUEUE: work_queue}, subscriptions=(*system.subscriptions, subscriber)
    )


@pytest.fixture
def operators_flow(operators_system: RecordedSystem) -> Iterator[OrderFlow]:
    with running_flow(operators_system) as running:
        yield running


def operators_topic(system: RecordedSystem) -> str:
    [arn] = [arn for name, arn in system.topics.items() if name.startswith("operators-notices-topic")]
    return arn


def operator_notices(flow: OrderFlow) -> list[dict[str, Any]]:
    """What the operators' topic published since the last call, decoded."""
    topic_arn = operators_topic(flow.system)
    return [json.loads(m["Message"]) for m in flow.sns_messages() if m["TopicArn"] == topic_arn]


def work_queue_notices(flow: OrderFlow) -> list[Any]:
    return [message["body"] for message in flow.peek_queue(WORK_QUEUE)]


def test_an_order_that_fails_on_our_side_is_one_notice_to_operators_and_no_email(operators_flow: OrderFlow) -> None:
    flow = operators_flow
    # The payment provider is down: every charge is throttled until the workflow gives up and compensates.
    flow.runtime.throttle("process_payment", "PutItem", times=100)

    order_id = place_order(flow, new_customer(), {"CAP-01": 1})["orderId"]

    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and (order["status"], order["reason"]) == ("FAILED", "FULFILLMENT_ERROR")
    [failed] = flow.bus_events("OrderFailed")
    notice = {
        "notice": "order-failed",
        "orderId": order_id,
        "reason": "FULFILLMENT_ERROR",
        "detailType": "OrderFailed",
        "occurredAt": failed["time"],
        "correlationId": failed["detail"]["correlationId"],
        "text": f"Order {order_id} failed (FULFILLMENT_ERROR) at {failed['time']}: "
        "python -m orderflow.ops status lists the failed executions",
    }
    assert operator_notices(flow) == [notice]
    # The operator's work queue receives it; the customer's id and the raw cause stay out of it.
    assert work_queue_notices(flow) == [notice]
    assert flow.emails() == []


@pytest.mark.parametrize(
    ("lines", "status", "reason"),
    [
        ({"MUG-BLK": 1}, "FULFILLED", None),
        ({"HOOD-L": 9}, "FAILED", "PAYMENT_DECLINED"),  # over a NEW customer's single-charge limit
    ],
    ids=["fulfilled", "declined"],
)
def test_an_order_that_ends_as_the_customer_sees_it_tells_operators_nothing(
    operators_flow: OrderFlow, lines: dict[str, int], status: str, reason: str | None
) -> None:
    flow = operators_flow

    order_id = place_order(flow, new_customer(), lines)["orderId"]

    order = flow.item("orders", {"orderId": order_id})
    assert order is not None and (order["status"], order.get("reason")) == (status, reason)
    assert operator_notices(flow) == []
    assert work_queue_notices(flow) == []
    assert flow.emails() == []
    # The customer was told, on the page's live channel.
    assert {payload["orderId"] for _, payload in flow.iot_publishes()} == {order_id}


def test_an_alarm_digest_reaches_the_operators_email_and_not_the_work_queue(operators_flow: OrderFlow) -> None:
    flow = operators_flow
    alarm = {
        "AlarmName": "operators-failed-orders-1a2b3c4",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [37.0 (06/12/26 22:00:00)] was greater than the threshold",
    }

    flow.sns.publish(TopicArn=operators_topic(flow.system), Message=json.dumps(alarm))

    [(address, envelope)] = flow.emails()
    assert address == OPERATOR and json.loads(envelope["Message"]) == alarm
    assert work_queue_notices(flow) == []
