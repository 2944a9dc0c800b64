"""OperatorNotices: one notice per failed order on the operators' topic, and to the e-mail only the digests."""

from __future__ import annotations

import json
from typing import Any

from components.operator_notices import (
    DIGEST_FILTER,
    OperatorNotices,
    OperatorNoticesArgs,
    failure_digest,
    failure_notice_transformer,
    parked_digest,
)
from offline.emulator.router import transform_input
from tests.components.conftest import ACCOUNT, PARTITION, REGION, TAGS, build

RULE_ARN = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/probe-test-orders/probe-test-orders-operator-failures"
DIGESTS = {"failed-orders": failure_digest("probe-test-orders", "rule-name"), "parked": parked_digest("parked-queue")}


def publishers(policy: str) -> dict[str, Any]:
    allows = [s for s in json.loads(policy)["Statement"] if s["Effect"] == "Allow"]
    return {s["Principal"]["Service"]: s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in allows}


def test_without_an_address_only_the_topic_the_rule_may_publish_to() -> None:
    built = build(lambda: OperatorNotices("operators", OperatorNoticesArgs(RULE_ARN, digests=DIGESTS, tags=TAGS)))

    assert built.component.type == "orderflow:observability:OperatorNotices"
    assert built.kinds() == {("orderflow:messaging:Topic", "operators-notices")}
    assert publishers(built.run.named("operators-notices-policy").inputs["policy"]) == {
        "events.amazonaws.com": RULE_ARN
    }
    assert not built.run.of_type("aws:sns/topicSubscription:TopicSubscription")


def test_with_an_address_the_email_gets_alarm_digests_only_and_each_digest_alarms_to_the_topic() -> None:
    args = OperatorNoticesArgs(RULE_ARN, email="ops@example.com", digests=DIGESTS, period_seconds=60, tags=TAGS)
    built = build(lambda: OperatorNotices("operators", args))

    email = built.run.named("operators-notices-email").inputs
    assert (email["protocol"], email["endpoint"], email["filterPolicyScope"]) == (
        "email",
        "ops@example.com",
        "MessageBody",
    )
    assert json.loads(email["filterPolicy"]) == DIGEST_FILTER
    assert publishers(built.run.named("operators-notices-policy").inputs["policy"]) == {
        "events.amazonaws.com": RULE_ARN,
        "cloudwatch.amazonaws.com": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:*",
    }
    topic_arn = built.run.named("operators-notices-topic").outputs["arn"]
    alarms = {child.name: child.inputs for child in built.children if child.type.endswith("MetricAlarm")}
    assert {name: (a["namespace"], a["metricName"], a["dimensions"]) for name, a in alarms.items()} == {
        "operators-failed-orders": (
            "AWS/Events",
            "MatchedEvents",
            {"EventBusName": "probe-test-orders", "RuleName": "rule-name"},
        ),
        "operators-parked": ("AWS/SQS", "NumberOfMessagesSent", {"QueueName": "parked-queue"}),
    }
    for alarm in alarms.values():
        assert (alarm["statistic"], alarm["period"], alarm["threshold"]) == ("Sum", 60, 0)
        assert alarm["alarmActions"] == alarm["okActions"] == [topic_arn]


def test_the_notice_is_a_json_object_with_the_order_and_reason_and_no_customer() -> None:
    event = {
        "id": "e1",
        "detail-type": "OrderFailed",
        "source": "orderflow.orders",
        "time": "2026-12-06T22:00:00Z",
        "detail": {
            "orderId": "o-1",
            "customerId": "c-1",
            "correlationId": "corr-1",
            "reason": "FULFILLMENT_ERROR",
            "message": "We couldn't complete your order.",
        },
    }
    transformer = failure_notice_transformer()

    notice = transform_input(
        {
            "inputTransformer": {
                "inputPaths": transformer["input_paths"],
                "inputTemplate": transformer["input_template"],
            }
        },
        event,
    )

    assert notice == {
        "notice": "order-failed",
        "orderId": "o-1",
        "reason": "FULFILLMENT_ERROR",
        "detailType": "OrderFailed",
        "occurredAt": "2026-12-06T22:00:00Z",
        "correlationId": "corr-1",
        "text": "Order o-1 failed (FULFILLMENT_ERROR) at 2026-12-06T22:00:00Z: "
        "python -m orderflow.ops status lists the failed executions",
    }
    assert "c-1" not in json.dumps(notice)
