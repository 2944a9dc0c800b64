"""``Alarms``: the operational alarms of a serverless stack, sent to an ops topic with an e-mail subscriber.

One alarm per failure signal AWS publishes for free: a message in any dead-letter queue, Lambda
errors and throttles, state machine failures and timeouts, and API 5xx responses. Each standard alarm
costs $0.10 a month, so stacks that must idle at $0 (dev) leave this component out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws_context import in_account
from components.children import tags_input
from components.topic import SubscriptionArgs, Topic, TopicArgs, TopicPublisher


@dataclass(frozen=True)
class AlarmSpec:
    """A "greater than zero in five minutes" alarm on one AWS metric."""

    namespace: str
    """CloudWatch namespace, e.g. ``AWS/SQS``."""
    metric_name: str
    """Metric, e.g. ``ApproximateNumberOfMessagesVisible``."""
    statistic: str
    """``Sum`` for counts of events, ``Maximum`` for gauges."""
    dimension: str
    """Dimension naming the resource, e.g. ``QueueName``."""
    description: str
    """What firing means and what to do."""


DEAD_LETTER_DEPTH = AlarmSpec(
    "AWS/SQS",
    "ApproximateNumberOfMessagesVisible",
    "Maximum",
    "QueueName",
    "Messages reached a dead-letter queue: inspect them, fix the cause, then redrive.",
)
FUNCTION_ERRORS = AlarmSpec("AWS/Lambda", "Errors", "Sum", "FunctionName", "The function raised errors.")
FUNCTION_THROTTLES = AlarmSpec(
    "AWS/Lambda", "Throttles", "Sum", "FunctionName", "Invocations were throttled at the concurrency ceiling."
)
WORKFLOW_FAILURES = AlarmSpec("AWS/States", "ExecutionsFailed", "Sum", "StateMachineArn", "Executions failed.")
WORKFLOW_TIMEOUTS = AlarmSpec("AWS/States", "ExecutionsTimedOut", "Sum", "StateMachineArn", "Executions timed out.")
API_SERVER_ERRORS = AlarmSpec("AWS/ApiGateway", "5xx", "Sum", "ApiId", "The API answered with server errors.")


def alarm_plan(
    dead_letter_queues: Mapping[str, object],
    functions: Mapping[str, object],
    state_machines: Mapping[str, object],
    http_apis: Mapping[str, object],
) -> list[tuple[str, AlarmSpec, object]]:
    """Every alarm to create: (child-name role, what to watch, the watched resource's dimension value)."""
    plan: list[tuple[str, AlarmSpec, object]] = []
    plan += [(f"dlq-{role}", DEAD_LETTER_DEPTH, queue) for role, queue in dead_letter_queues.items()]
    for role, function in functions.items():
        plan += [(f"{role}-errors", FUNCTION_ERRORS, function), (f"{role}-throttles", FUNCTION_THROTTLES, function)]
    for role, machine in state_machines.items():
        plan += [(f"{role}-failed", WORKFLOW_FAILURES, machine), (f"{role}-timed-out", WORKFLOW_TIMEOUTS, machine)]
    plan += [(f"{role}-5xx", API_SERVER_ERRORS, api) for role, api in http_apis.items()]
    return plan


def above_zero_alarm(
    name: str,
    spec: AlarmSpec,
    dimensions: Mapping[str, pulumi.Input[str]],
    period_seconds: int,
    topic_arn: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """A "greater than zero in one period" alarm on ``spec``'s metric, telling ``topic_arn`` when it fires and clears.

    Missing data is not breaching: a metric AWS publishes only when non-zero stays OK.
    """
    return aws.cloudwatch.MetricAlarm(
        name,
        namespace=spec.namespace,
        metric_name=spec.metric_name,
        dimensions=dict(dimensions),
        statistic=spec.statistic,
        period=period_seconds,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_description=spec.description,
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags_input(tags),
        opts=opts,
    )


@dataclass
class AlarmsArgs:
    """Inputs of :class:`Alarms`; each mapping is role name → the resource's metric dimension value."""

    email: str
    """Who is told (an e-mail subscription on the ops topic; it must be confirmed once)."""
    dead_letter_queues: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """DLQ names."""
    functions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Lambda function names."""
    state_machines: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """State machine ARNs."""
    http_apis: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """HTTP API ids (``$default`` stage)."""
    period_seconds: int = 300
    """Evaluation period."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (alarms, ops topic and its DLQ), on top of the provider's default tags."""


class Alarms(pulumi.ComponentResource):
    """CloudWatch alarms on every failure signal, with an ops topic and e-mail subscriber."""

    topic: Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:observability:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alarm_arns = in_account(lambda aws_: aws_.arn("cloudwatch", "alarm:*"), self)
        self.topic = Topic(
            f"{name}-ops",
            TopicArgs(
                subscriptions={"email": SubscriptionArgs(protocol="email", endpoint=args.email)},
                # CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a
                # customer-managed key would bill $1/month; alarm texts carry no customer data.
                kms_master_key_id=None,
                publishers=[TopicPublisher("cloudwatch.amazonaws.com", alarm_arns)],
                tags=args.tags,
            ),
            opts=child,
        )
        dead_letters = {
            **args.dead_letter_queues,
            **{f"ops-{role}": queue.name for role, queue in self.topic.dead_letter_queues.items()},
        }
        self.alarms = {}
        for role, spec, dimension_value in alarm_plan(
            dead_letters, args.functions, args.state_machines, args.http_apis
        ):
            dimensions: dict[str, pulumi.Input[str]] = {spec.dimension: dimension_value}  # type: ignore[dict-item]
            if spec.namespace == "AWS/ApiGateway":
                dimensions["Stage"] = "$default"
            self.alarms[role] = above_zero_alarm(
                f"{name}-{role}", spec, dimensions, args.period_seconds, self.topic.arn, args.tags, child
            )
        self.register_outputs({"topicArn": self.topic.arn})
