"""``OperatorNotices``: failed and parked orders, told to operators at any order rate.

An operators' topic gets two kinds of message:

* one **notice per failed order**, put there by an EventBridge rule (the caller's bus rule targets
  :attr:`OperatorNotices.arn` with :func:`failure_notice_transformer`): a JSON object with the order id, the
  reason code and a sentence, never customer data;
* the state changes of the **digest alarms**: orders failed, and orders parked for an operator, in the
  last period.

Its e-mail subscriber (when an address is given) gets only the digest alarms, through a filter policy on
the message body. SNS delivers about 10 e-mails a second (AWS default quota), so it never gets
one e-mail per order: an alarm changes state at most once per evaluation period, so an outage that fails
every order sends one ALARM e-mail (with the period's count) and one OK e-mail once it is over. The
per-order notices are for subscribers that take any rate (an SQS work queue, a chat or paging integration,
with :data:`NOTICE_FILTER`); without one, SNS drops them after counting them, and the orders themselves are
listed by ``python -m orderflow.ops status`` and ``reconcile``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec, above_zero_alarm
from components.aws_context import in_account
from components.topic import SubscriptionArgs, Topic, TopicArgs, TopicPublisher

FAILURE_NOTICE: str = "order-failed"
"""``notice`` of the per-order message."""
DIGEST_FILTER: dict[str, Any] = {"AlarmName": [{"exists": True}]}
"""Body filter of the e-mail subscription: CloudWatch alarm notifications only (they carry ``AlarmName``)."""
NOTICE_FILTER: dict[str, Any] = {"notice": [FAILURE_NOTICE]}
"""Body filter for a subscriber of the per-order notices (a chat or paging integration, a work queue)."""


def failure_notice_transformer() -> dict[str, Any]:
    """EventBridge input transformer turning an ``OrderFailed`` event into the operators' notice.

    Placeholders outside quotes are inserted as JSON values, inside quotes as text (EventBridge input
    transformation), so the notice is one JSON object a body filter policy can read.

    Returns
    -------
    dict
        ``{"input_paths": ..., "input_template": ...}`` for :class:`components.event_bus.RuleTarget`.
    """
    return {
        "input_paths": {
            "orderId": "$.detail.orderId",
            "reason": "$.detail.reason",
            "correlationId": "$.detail.correlationId",
            "detailType": "$.detail-type",
            "time": "$.time",
        },
        "input_template": (
            f'{{"notice": "{FAILURE_NOTICE}", "orderId": <orderId>, "reason": <reason>, '
            '"detailType": <detailType>, "occurredAt": <time>, "correlationId": <correlationId>, '
            '"text": "Order <orderId> failed (<reason>) at <time>: '
            'python -m orderflow.ops status lists the failed executions"}'
        ),
    }


@dataclass(frozen=True)
class DigestAlarm(AlarmSpec):
    """A "more than zero in one period" count (a ``Sum``), sent to the operators' topic."""

    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The metric's dimensions (``dimension`` names the one that names the resource)."""


def failure_digest(bus_name: pulumi.Input[str], rule_name: pulumi.Input[str]) -> DigestAlarm:
    """Orders failed in a period: the events a custom bus's rule matched (``AWS/Events`` ``MatchedEvents``)."""
    return DigestAlarm(
        "AWS/Events",
        "MatchedEvents",
        "Sum",
        "RuleName",
        "Orders failed on our side (OrderFailed other than a decline or a stock-out) in the period shown: each one "
        "is a notice on the operators' topic; see docs/operations.md, Who is told what.",
        {"EventBusName": bus_name, "RuleName": rule_name},
    )


def parked_digest(queue_name: pulumi.Input[str]) -> DigestAlarm:
    """Orders parked for an operator in a period: messages sent to a parking queue (``NumberOfMessagesSent``)."""
    return DigestAlarm(
        "AWS/SQS",
        "NumberOfMessagesSent",
        "Sum",
        "QueueName",
        "Orders were parked for an operator in the period shown: python -m orderflow.ops status lists them; "
        "see docs/operations.md.",
        {"QueueName": queue_name},
    )


@dataclass
class OperatorNoticesArgs:
    """Inputs of :class:`OperatorNotices`."""

    failure_rule_arn: pulumi.Input[str]
    """The EventBridge rule that puts one notice per failed order on the topic (``aws:SourceArn``)."""
    email: str | None = None
    """Who gets the digests by e-mail (confirmed once); ``None``: no e-mail and no alarms (the topic stays)."""
    digests: Mapping[str, DigestAlarm] = field(default_factory=dict)
    """Digest alarms by role name (child ``<name>-<role>``); created only with an ``email``."""
    period_seconds: int = 300
    """The digests' period: at most one e-mail per alarm state change, evaluated this often."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child, on top of the provider's default tags."""


class OperatorNotices(pulumi.ComponentResource):
    """The operators' topic, its e-mail digest subscriber and the digest alarms."""

    topic: Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: OperatorNoticesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:observability:OperatorNotices", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        publishers = [TopicPublisher("events.amazonaws.com", args.failure_rule_arn)]
        subscriptions: dict[str, SubscriptionArgs] = {}
        if args.email:
            subscriptions["email"] = SubscriptionArgs(
                protocol="email", endpoint=args.email, filter_policy=DIGEST_FILTER, filter_policy_scope="MessageBody"
            )
            alarm_arns = in_account(lambda aws_: aws_.arn("cloudwatch", "alarm:*"), self)
            publishers.append(TopicPublisher("cloudwatch.amazonaws.com", alarm_arns))
        self.topic = Topic(
            f"{name}-notices",
            TopicArgs(
                subscriptions=subscriptions,
                publishers=publishers,
                # EventBridge and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key,
                # and a customer-managed key bills $1/month; notices carry ids and reason codes, no customer data.
                kms_master_key_id=None,
                tags=args.tags,
            ),
            opts=child,
        )
        self.alarms = {}
        for role, digest in args.digests.items() if args.email else ():
            self.alarms[role] = above_zero_alarm(
                f"{name}-{role}", digest, digest.dimensions, args.period_seconds, self.topic.arn, args.tags, child
            )
        self.arn = self.topic.arn
        self.register_outputs({"arn": self.arn})
