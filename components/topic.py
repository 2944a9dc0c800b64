"""``Topic``: an SNS topic, encrypted and TLS-only, whose every subscription has a DLQ.

SNS retries a failed delivery and then drops the message unless the subscription has a redrive
policy. Each subscription here gets its own dead-letter queue, with a queue policy that lets only
this topic deliver to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.children import invoke_permission, tags_input
from components.policies import allow_service_from_source, deny_insecure_transport, policy_document
from components.queue import FOURTEEN_DAYS, Queue, QueueArgs, QueueSender

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
SUBSCRIPTION_PROTOCOLS = frozenset({"sqs", "lambda", "email"})
FILTER_POLICY_SCOPES = ("MessageAttributes", "MessageBody")


def topic_policy(topic_arn: Any, publishers: Sequence[TopicPublisher]) -> dict[str, Any]:
    """Resource policy: publish over TLS only, and ``sns:Publish`` for each service scoped by source ARN."""
    statements: list[dict[str, Any]] = [deny_insecure_transport("sns:Publish", [topic_arn])]
    for index, publisher in enumerate(publishers):
        statements.append(
            allow_service_from_source(
                f"AllowPublish{index}", publisher.service, "sns:Publish", topic_arn, publisher.source_arn
            )
        )
    return policy_document(statements)


def subscription_redrive_policy(dead_letter_arn: str) -> str:
    """The subscription's ``RedrivePolicy`` JSON."""
    return json.dumps({"deadLetterTargetArn": dead_letter_arn})


@dataclass
class TopicPublisher:
    """An AWS service allowed to publish on behalf of one source."""

    service: str
    """Service principal, e.g. ``events.amazonaws.com``."""
    source_arn: pulumi.Input[str]
    """The resource the service acts for (``aws:SourceArn``)."""


@dataclass
class SubscriptionArgs:
    """One subscription of a :class:`Topic`."""

    protocol: str
    """``sqs``, ``lambda`` or ``email``."""
    endpoint: pulumi.Input[str]
    """Queue ARN, function ARN or e-mail address."""
    filter_policy: Mapping[str, Any] | None = None
    """Filter policy: which messages this subscriber gets (on their attributes, or on their body: see scope)."""
    filter_policy_scope: str | None = None
    """``MessageAttributes`` (AWS's default) or ``MessageBody`` (the message must then be a JSON object)."""
    raw_message_delivery: bool = False
    """Deliver the bare message to SQS (no SNS envelope)."""


@dataclass
class SubscriptionDeadLetterArgs:
    """The dead-letter queue each subscription gets (SNS redrives once: there is no receive count)."""

    message_retention_seconds: int = FOURTEEN_DAYS
    """How long an undeliverable message is kept for inspection and redrive."""


@dataclass
class TopicArgs:
    """Inputs of :class:`Topic`."""

    subscriptions: Mapping[str, SubscriptionArgs] = field(default_factory=dict)
    """Subscriptions by role name (used in child names)."""
    publishers: Sequence[TopicPublisher] = ()
    """AWS services allowed to publish (SourceArn-scoped); IAM principals publish through their roles."""
    kms_master_key_id: str | None = AWS_MANAGED_SNS_KEY
    """SSE key; the AWS-managed key is free. ``None`` opts out and stays visible."""
    dead_letter: SubscriptionDeadLetterArgs = field(default_factory=SubscriptionDeadLetterArgs)
    """The subscriptions' DLQs."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (topic, DLQs), on top of the provider's default tags."""


class Topic(pulumi.ComponentResource):
    """An SNS topic with SSE, a TLS-only policy and a DLQ per subscription."""

    topic: aws.sns.Topic
    subscriptions: dict[str, aws.sns.TopicSubscription]
    dead_letter_queues: dict[str, Queue]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: TopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:messaging:Topic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic", kms_master_key_id=args.kms_master_key_id, tags=tags_input(args.tags), opts=child
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.json_dumps(topic_policy(self.topic.arn, args.publishers)),
            opts=child,
        )

        self.subscriptions = {}
        self.dead_letter_queues = {}
        for role, subscription in args.subscriptions.items():
            if subscription.protocol not in SUBSCRIPTION_PROTOCOLS:
                raise ValueError(f"{name}: subscription {role!r} has unsupported protocol {subscription.protocol!r}")
            if subscription.filter_policy_scope not in (None, *FILTER_POLICY_SCOPES):
                raise ValueError(
                    f"{name}: subscription {role!r} has filter policy scope {subscription.filter_policy_scope!r}, "
                    f"not one of {', '.join(FILTER_POLICY_SCOPES)}"
                )
            dead_letter = Queue(
                f"{name}-{role}-dlq",
                QueueArgs(
                    dead_letter=None,
                    message_retention_seconds=args.dead_letter.message_retention_seconds,
                    senders=[QueueSender("sns.amazonaws.com", self.topic.arn)],
                    tags=args.tags,
                ),
                opts=child,
            )
            self.dead_letter_queues[role] = dead_letter
            depends_on: list[pulumi.Resource] = [dead_letter]
            if subscription.protocol == "lambda":
                depends_on.append(
                    invoke_permission(
                        f"{name}-{role}-invoke", subscription.endpoint, "sns.amazonaws.com", self.topic.arn, child
                    )
                )
            self.subscriptions[role] = aws.sns.TopicSubscription(
                f"{name}-{role}",
                topic=self.topic.arn,
                protocol=subscription.protocol,
                endpoint=subscription.endpoint,
                raw_message_delivery=subscription.raw_message_delivery if subscription.protocol == "sqs" else None,
                filter_policy=json.dumps(subscription.filter_policy) if subscription.filter_policy else None,
                filter_policy_scope=subscription.filter_policy_scope if subscription.filter_policy else None,
                redrive_policy=dead_letter.arn.apply(subscription_redrive_policy),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        self.arn = self.topic.arn
        self.register_outputs({"arn": self.arn})
