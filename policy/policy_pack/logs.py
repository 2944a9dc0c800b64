"""Amazon CloudWatch: bounded log retention, alarms that notify someone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM: Final = "aws:cloudwatch/compositeAlarm:CompositeAlarm"

SERVICE: Final = "logs"

# SQS metrics that show messages arriving in a queue: what a dead-letter-queue alarm watches.
ALARM_METRICS_FOR_DLQ: Final = frozenset(
    {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent"}
)


def _retention(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    days = props.number("retentionInDays", 0)
    low, high = config["minimumDays"], config["maximumDays"]
    if days == 0:
        yield f"retentionInDays is not set: logs are kept forever; keep them {low:g} to {high:g} days"
    elif not low <= days <= high:
        yield f"retentionInDays is {days:g}, outside the configured {low:g}..{high:g} days"


def _alarm_actions(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("actionsEnabled", True) is False:
        yield "actionsEnabled is false: the alarm changes state without telling anyone"
    elif not props.seq("alarmActions"):
        yield "alarmActions is empty: the alarm goes off without telling anyone"


RULES: Final = [
    ResourceRule(
        name="log-group-retention",
        summary="CloudWatch log groups keep logs for a bounded, configured number of days",
        anchors=(
            "cdk-nag Serverless-CloudWatchLogGroupRetentionPeriod",
            "checkov CKV_AWS_66",
            "Pulumi BP cloudwatch-log-retention",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(LOG_GROUP,),
        check=_retention,
        config={
            "minimumDays": {"type": "integer", "default": 1, "minimum": 1},
            "maximumDays": {"type": "integer", "default": 3653, "minimum": 1},
        },
    ),
    ResourceRule(
        name="cloudwatch-alarm-actions",
        summary="CloudWatch alarms have actions enabled and notify at least one target",
        anchors=(
            "checkov CKV_AWS_319",
            "cdk-nag CloudWatchAlarmAction",
            "Pulumi NIST cloudwatch-alarms-actions-required",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(METRIC_ALARM, COMPOSITE_ALARM),
        check=_alarm_actions,
    ),
]
