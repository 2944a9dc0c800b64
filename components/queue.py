"""``Queue``: an SQS queue with encryption, a TLS-only policy, a dead-letter queue and an optional consumer.

A buffer queue gets its own DLQ (``maxReceiveCount`` from config, DLQ retention at least the source's,
so a message never expires in the DLQ sooner than it would have upstream). A queue that *is* a DLQ
(``dead_letter=None``) needs none. With a Lambda consumer the visibility timeout is derived from the
consumer's timeout, as AWS recommends, so it cannot be typed in wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.children import tags_input
from components.function import Function
from components.policies import allow_service_from_source, deny_insecure_transport, policy_document

FOUR_DAYS = 4 * 24 * 3600
FOURTEEN_DAYS = 14 * 24 * 3600  # SQS maximum retention
DEFAULT_VISIBILITY_SECONDS = 30


def consumer_visibility_timeout(function_timeout_seconds: int, batching_window_seconds: int) -> int:
    """Visibility timeout for a queue consumed by Lambda: 6 × the function timeout plus the batching window.

    AWS's guidance for SQS event sources: a message must stay invisible while Lambda retries a
    throttled or failed batch, or it is processed twice.
    """
    if function_timeout_seconds < 1:
        raise ValueError("function timeout must be at least 1 second")
    if batching_window_seconds < 0:
        raise ValueError("batching window cannot be negative")
    return 6 * function_timeout_seconds + batching_window_seconds


def redrive_policy(dead_letter_arn: str, max_receive_count: int) -> str:
    """The queue's ``RedrivePolicy`` JSON."""
    if max_receive_count < 1:
        raise ValueError("max_receive_count must be at least 1")
    return json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count})


def queue_policy(queue_arn: Any, senders: Sequence[QueueSender]) -> dict[str, Any]:
    """Resource policy: TLS only, and ``sqs:SendMessage`` for each sender service scoped by source ARN."""
    statements = [deny_insecure_transport("sqs:*", [queue_arn])]
    for index, sender in enumerate(senders):
        statements.append(
            allow_service_from_source(
                f"AllowSend{index}", sender.service, "sqs:SendMessage", queue_arn, sender.source_arn
            )
        )
    return policy_document(statements)


def consumer_statements(queue_arn: Any) -> list[dict[str, Any]]:
    """What a Lambda event source mapping needs on its queue."""
    return [
        {
            "Sid": "ConsumeQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": queue_arn,
        }
    ]


@dataclass
class QueueSender:
    """An AWS service allowed to send to the queue on behalf of one source."""

    service: str
    """Service principal, e.g. ``events.amazonaws.com`` or ``sns.amazonaws.com``."""
    source_arn: pulumi.Input[str]
    """The rule, topic or bucket ARN the service acts for (``aws:SourceArn``)."""


@dataclass
class DeadLetterArgs:
    """The dead-letter queue of a buffer queue."""

    max_receive_count: int = 5
    """Receives before a message moves to the DLQ."""
    message_retention_seconds: int = FOURTEEN_DAYS
    """DLQ retention; must be at least the source queue's."""


@dataclass
class QueueConsumerArgs:
    """A Lambda function consuming the queue in batches."""

    function: Function
    """The consumer; its timeout sets the visibility timeout."""
    maximum_concurrency: int
    """Ceiling on concurrent batches (2–1000): bounded scaling for what sits behind the consumer."""
    batch_size: int = 10
    """Messages per batch."""
    maximum_batching_window_seconds: int = 1
    """How long Lambda gathers a batch."""


@dataclass
class QueueArgs:
    """Inputs of :class:`Queue`."""

    dead_letter: DeadLetterArgs | None = field(default_factory=DeadLetterArgs)
    """The queue's DLQ; ``None`` for a queue that is itself a DLQ (it needs none)."""
    message_retention_seconds: int = FOUR_DAYS
    """How long an unconsumed message is kept."""
    consumer: QueueConsumerArgs | None = None
    """Optional Lambda consumer (event source mapping with partial batch failures)."""
    visibility_timeout_seconds: int | None = None
    """Only for queues without a consumer; with one it is derived and must not be given."""
    senders: Sequence[QueueSender] = ()
    """AWS services allowed to send (SourceArn-scoped)."""
    sqs_managed_sse: bool = True
    """SSE-SQS encryption at rest (free); ``False`` opts out and stays visible."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (queue, DLQ, event source mapping), on top of the provider's default tags."""


class Queue(pulumi.ComponentResource):
    """An SQS queue, encrypted and TLS-only, with its DLQ and optional Lambda consumer."""

    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue | None
    event_source_mapping: aws.lambda_.EventSourceMapping | None
    arn: pulumi.Output[str]
    url: pulumi.Output[str]
    name: pulumi.Output[str]
    dead_letter_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: QueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:messaging:Queue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = tags_input(args.tags)

        if args.consumer is not None:
            if args.visibility_timeout_seconds is not None:
                raise ValueError(f"{name}: the visibility timeout of a consumed queue is derived; do not set it")
            visibility = consumer_visibility_timeout(
                args.consumer.function.timeout_seconds, args.consumer.maximum_batching_window_seconds
            )
            if not 2 <= args.consumer.maximum_concurrency <= 1000:
                raise ValueError(f"{name}: consumer maximum_concurrency must be between 2 and 1000")
        else:
            visibility = args.visibility_timeout_seconds or DEFAULT_VISIBILITY_SECONDS

        self.dead_letter_queue = None
        self.dead_letter_arn = None
        redrive: pulumi.Input[str] | None = None
        if args.dead_letter is not None:
            if args.dead_letter.message_retention_seconds < args.message_retention_seconds:
                raise ValueError(f"{name}: DLQ retention must be at least the queue's retention")
            self.dead_letter_queue = aws.sqs.Queue(
                f"{name}-dlq",
                message_retention_seconds=args.dead_letter.message_retention_seconds,
                sqs_managed_sse_enabled=args.sqs_managed_sse,
                tags=tags,
                opts=child,
            )
            self.dead_letter_arn = self.dead_letter_queue.arn
            max_receive = args.dead_letter.max_receive_count
            redrive = self.dead_letter_queue.arn.apply(lambda arn: redrive_policy(arn, max_receive))

        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            message_retention_seconds=args.message_retention_seconds,
            visibility_timeout_seconds=visibility,
            sqs_managed_sse_enabled=args.sqs_managed_sse,
            redrive_policy=redrive,
            tags=tags,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-policy",
            queue_url=self.queue.url,
            policy=pulumi.Output.json_dumps(queue_policy(self.queue.arn, args.senders)),
            opts=child,
        )

        if self.dead_letter_queue is not None:
            aws.sqs.QueuePolicy(
                f"{name}-dlq-policy",
                queue_url=self.dead_letter_queue.url,
                policy=pulumi.Output.json_dumps(queue_policy(self.dead_letter_queue.arn, [])),
                opts=child,
            )
            # Only this queue may redrive into its DLQ: it cannot be used as anyone else's DLQ by mistake.
            aws.sqs.RedriveAllowPolicy(
                f"{name}-dlq-redrive-allow",
                queue_url=self.dead_letter_queue.url,
                redrive_allow_policy=pulumi.Output.json_dumps(
                    {"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}
                ),
                opts=child,
            )

        self.event_source_mapping = None
        if args.consumer is not None:
            consumer = args.consumer
            consume_policy = aws.iam.RolePolicy(
                f"{name}-consumer-policy",
                role=consumer.function.role.id,
                policy=pulumi.Output.json_dumps(policy_document(consumer_statements(self.queue.arn))),
                opts=child,
            )
            self.event_source_mapping = aws.lambda_.EventSourceMapping(
                f"{name}-consumer",
                event_source_arn=self.queue.arn,
                function_name=consumer.function.arn,
                batch_size=consumer.batch_size,
                maximum_batching_window_in_seconds=consumer.maximum_batching_window_seconds,
                function_response_types=["ReportBatchItemFailures"],
                scaling_config={"maximum_concurrency": consumer.maximum_concurrency},
                tags=tags,
                # Lambda checks the role's queue permissions when the mapping is created.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[consume_policy]),
            )

        self.arn = self.queue.arn
        self.url = self.queue.url
        self.name = self.queue.name
        outputs: dict[str, Any] = {"arn": self.arn, "url": self.url}
        if self.dead_letter_arn is not None:
            outputs["deadLetterArn"] = self.dead_letter_arn
        self.register_outputs(outputs)
