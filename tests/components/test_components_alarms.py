"""Alarms: one "above zero in five minutes" alarm per failure signal, told to an ops topic CloudWatch may use."""

from __future__ import annotations

import json
from typing import Any

from components.alarms import Alarms, AlarmsArgs
from tests.components.conftest import ACCOUNT, PARTITION, REGION, TAGS, Built, build

MACHINE_ARN = f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:probe-test-flow"


def alarm(built: Built[Alarms], role: str, namespace: str, metric: str, statistic: str) -> dict[str, Any]:
    """The alarm's inputs, once its fixed part is checked: what it watches is returned."""
    inputs = built.inputs(f"ops-{role}")
    topic_arn = built.run.named("ops-ops-topic").outputs["arn"]
    watched = {"dimensions": inputs.pop("dimensions"), "alarmDescription": inputs.pop("alarmDescription")}
    assert inputs == {
        "namespace": namespace,
        "metricName": metric,
        "statistic": statistic,
        "period": 300,
        "evaluationPeriods": 1,
        "threshold": 0,
        "comparisonOperator": "GreaterThanThreshold",
        "treatMissingData": "notBreaching",
        "actionsEnabled": True,
        "alarmActions": [topic_arn],
        "okActions": [topic_arn],
    }
    return watched


def test_defaults_only_the_ops_topic_and_its_own_dlq_alarm() -> None:
    built = build(lambda: Alarms("ops", AlarmsArgs(email="ops@example.com", tags=TAGS)))

    assert built.component.type == "orderflow:observability:Alarms"
    assert built.kinds() == {
        ("orderflow:messaging:Topic", "ops-ops"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "ops-dlq-ops-email"),
    }
    dlq_name = built.run.named("ops-ops-email-dlq-queue").outputs["name"]
    watched = alarm(built, "dlq-ops-email", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert watched["dimensions"] == {"QueueName": dlq_name}


def test_the_ops_topic_is_unencrypted_for_cloudwatch_and_mails_the_given_address() -> None:
    built = build(lambda: Alarms("ops", AlarmsArgs(email="ops@example.com", tags=TAGS)))

    assert "kmsMasterKeyId" not in built.run.named("ops-ops-topic").inputs
    assert built.run.named("ops-ops-email").inputs["endpoint"] == "ops@example.com"
    publish = json.loads(built.run.named("ops-ops-policy").inputs["policy"])["Statement"][1]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"}
    }


def test_every_signal_gets_its_alarms() -> None:
    args = AlarmsArgs(
        email="ops@example.com",
        dead_letter_queues={"jobs": "jobs-dlq"},
        functions={"worker": "probe-test-worker"},
        state_machines={"flow": MACHINE_ARN},
        http_apis={"api": "a1b2c3"},
        period_seconds=60,
        tags=TAGS,
    )
    built = build(lambda: Alarms("ops", args))

    alarms = {child.name: child.inputs for child in built.children if child.type.endswith("MetricAlarm")}
    assert {name: (a["namespace"], a["metricName"], a["dimensions"]) for name, a in alarms.items()} == {
        "ops-dlq-jobs": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "jobs-dlq"}),
        "ops-dlq-ops-email": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": built.run.named("ops-ops-email-dlq-queue").outputs["name"]},
        ),
        "ops-worker-errors": ("AWS/Lambda", "Errors", {"FunctionName": "probe-test-worker"}),
        "ops-worker-throttles": ("AWS/Lambda", "Throttles", {"FunctionName": "probe-test-worker"}),
        "ops-flow-failed": ("AWS/States", "ExecutionsFailed", {"StateMachineArn": MACHINE_ARN}),
        "ops-flow-timed-out": ("AWS/States", "ExecutionsTimedOut", {"StateMachineArn": MACHINE_ARN}),
        "ops-api-5xx": ("AWS/ApiGateway", "5xx", {"ApiId": "a1b2c3", "Stage": "$default"}),
    }
    assert {a["period"] for a in alarms.values()} == {60}
