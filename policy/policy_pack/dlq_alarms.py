"""Dead-letter queues in a stack that has no alarms yet: say which alarm each one needs.

``dead-letter-queue-alarmed`` (:mod:`policy_pack.sqs`) checks every dead-letter queue against the stack's
alarms once the stack has any (or always, with ``requireAlarms``). A stack without a single alarm would
pass it silently; this advisory rule reports each of its dead-letter queues with the alarm to add.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Finding, StackRule, StackView, read_str
from policy_pack.logs import METRIC_ALARM
from policy_pack.sqs import QUEUE, dead_letter_links

SERVICE: Final = "sqs"


def _suggest_alarms(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    if stack.of_type(METRIC_ALARM):
        return  # dead-letter-queue-alarmed checks each queue against the alarms that exist
    queues = {link.dlq.urn: link.dlq for link in dead_letter_links(stack)}
    for dlq in queues.values():
        name = read_str(dlq, "name") or f"<{dlq.name}'s name>"
        yield Finding(
            f"dead-letter queue {dlq.name} is not watched (the stack has no CloudWatch alarms yet): add an "
            f"aws.cloudwatch.MetricAlarm with namespace 'AWS/SQS', metricName 'ApproximateNumberOfMessagesVisible', "
            f"dimensions {{'QueueName': '{name}'}}, statistic 'Maximum', period 60, evaluationPeriods 1, "
            "comparisonOperator 'GreaterThanThreshold', threshold 0 and alarmActions naming an SNS topic someone "
            "reads",
            dlq.urn,
        )


RULES: Final = [
    StackRule(
        name="dead-letter-queue-alarm-suggested",
        summary=(
            "In a stack with no CloudWatch alarms yet, every dead-letter queue is reported with the "
            "ApproximateNumberOfMessagesVisible > 0 alarm it needs"
        ),
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(QUEUE, METRIC_ALARM),
        check=_suggest_alarms,
    ),
]
