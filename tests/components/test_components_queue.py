"""Queue: an encrypted, TLS-only SQS queue with a DLQ only it may redrive into; opt-outs stay visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.queue import DeadLetterArgs, Queue, QueueArgs, QueueConsumerArgs, QueueSender
from tests.components.conftest import ACCOUNT, PARTITION, REGION, TAGS, Built, build, worker_function

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_ALLOW = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"


def url(built: Built, name: str) -> str:
    return str(built.child(name).outputs["url"])


def arn(built: Built, name: str) -> str:
    return str(built.child(name).outputs["arn"])


def tls_only(queue_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": queue_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def statements(built: Built, policy: str) -> list[dict[str, Any]]:
    document = json.loads(built.inputs(policy)["policy"])
    assert document["Version"] == "2012-10-17"
    return list(document["Statement"])


def test_defaults_a_four_day_queue_with_a_fourteen_day_dlq_redriven_after_five_receives() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(tags=TAGS)))

    assert built.component.type == "orderflow:messaging:Queue"
    assert built.kinds() == {
        (QUEUE, "jobs-dlq"),
        (QUEUE, "jobs-queue"),
        (QUEUE_POLICY, "jobs-dlq-policy"),
        (REDRIVE_ALLOW, "jobs-dlq-redrive-allow"),
        (QUEUE_POLICY, "jobs-policy"),
    }
    assert built.inputs("jobs-dlq") == {"messageRetentionSeconds": 14 * 24 * 3600, "sqsManagedSseEnabled": True}
    queue = built.inputs("jobs-queue")
    assert json.loads(queue.pop("redrivePolicy")) == {
        "deadLetterTargetArn": arn(built, "jobs-dlq"),
        "maxReceiveCount": 5,
    }
    assert queue == {
        "messageRetentionSeconds": 4 * 24 * 3600,
        "visibilityTimeoutSeconds": 30,
        "sqsManagedSseEnabled": True,
    }


def test_defaults_both_queues_refuse_plain_http() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(tags=TAGS)))

    assert built.inputs("jobs-policy")["queueUrl"] == url(built, "jobs-queue")
    assert statements(built, "jobs-policy") == [tls_only(arn(built, "jobs-queue"))]
    assert built.inputs("jobs-dlq-policy")["queueUrl"] == url(built, "jobs-dlq")
    assert statements(built, "jobs-dlq-policy") == [tls_only(arn(built, "jobs-dlq"))]
    assert arn(built, "jobs-queue").startswith(f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:")


def test_defaults_only_this_queue_may_redrive_into_its_dlq() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(tags=TAGS)))

    allow = built.inputs("jobs-dlq-redrive-allow")
    assert allow["queueUrl"] == url(built, "jobs-dlq")
    assert json.loads(allow["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [arn(built, "jobs-queue")],
    }


def test_dead_letter_tuned() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(dead_letter=DeadLetterArgs(max_receive_count=2), tags=TAGS)))

    assert json.loads(built.inputs("jobs-queue")["redrivePolicy"])["maxReceiveCount"] == 2


def test_opt_out_no_dead_letter_queue_for_a_queue_that_is_one() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(dead_letter=None, tags=TAGS)))

    assert built.kinds() == {(QUEUE, "jobs-queue"), (QUEUE_POLICY, "jobs-policy")}
    assert "redrivePolicy" not in built.inputs("jobs-queue")


def test_opt_out_sqs_managed_encryption_off_on_both_queues() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(sqs_managed_sse=False, tags=TAGS)))

    assert built.inputs("jobs-queue")["sqsManagedSseEnabled"] is False
    assert built.inputs("jobs-dlq")["sqsManagedSseEnabled"] is False


def test_visibility_timeout_of_an_unconsumed_queue_is_taken_as_given() -> None:
    built = build(lambda: Queue("jobs", QueueArgs(visibility_timeout_seconds=45, tags=TAGS)))

    assert built.inputs("jobs-queue")["visibilityTimeoutSeconds"] == 45


def test_senders_may_send_only_on_behalf_of_their_source() -> None:
    rule = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/bus/r"
    built = build(lambda: Queue("jobs", QueueArgs(senders=[QueueSender("events.amazonaws.com", rule)], tags=TAGS)))

    queue_arn = arn(built, "jobs-queue")
    assert statements(built, "jobs-policy") == [
        tls_only(queue_arn),
        {
            "Sid": "AllowSend0",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
        },
    ]


def test_a_consumer_reads_in_bounded_batches_reporting_item_failures(handlers: Path) -> None:
    def construct() -> Queue:
        consumer = QueueConsumerArgs(function=worker_function(handlers), maximum_concurrency=2, batch_size=5)
        return Queue("jobs", QueueArgs(consumer=consumer, tags=TAGS))

    built = build(construct)

    function = built.run.named("worker-function")
    # Six times the function's timeout (10 s) plus the batching window (1 s), as AWS advises.
    assert built.inputs("jobs-queue")["visibilityTimeoutSeconds"] == 61
    policy = built.inputs("jobs-consumer-policy")
    assert policy["role"] == built.run.named("worker-role").id
    assert json.loads(policy["policy"])["Statement"] == [
        {
            "Sid": "ConsumeQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": arn(built, "jobs-queue"),
        }
    ]
    assert built.inputs("jobs-consumer") == {
        "eventSourceArn": arn(built, "jobs-queue"),
        "functionName": function.outputs["arn"],
        "batchSize": 5,
        "maximumBatchingWindowInSeconds": 1,
        "functionResponseTypes": ["ReportBatchItemFailures"],
        "scalingConfig": {"maximumConcurrency": 2},
    }
    # Lambda checks the role's queue permissions when the mapping is created.
    assert built.child("jobs-consumer-policy").urn in built.child("jobs-consumer").dependencies


def test_a_consumed_queue_refuses_a_visibility_timeout_of_its_own(handlers: Path) -> None:
    def construct() -> Queue:
        consumer = QueueConsumerArgs(function=worker_function(handlers), maximum_concurrency=2)
        return Queue("jobs", QueueArgs(consumer=consumer, visibility_timeout_seconds=30, tags=TAGS))

    with pytest.raises(ValueError, match="jobs: the visibility timeout of a consumed queue is derived"):
        build(construct)
