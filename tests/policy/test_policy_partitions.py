"""The pack reads Step Functions integrations in every partition, not only ``aws``."""

from __future__ import annotations

import pytest

from policy_pack.stepfunctions import failure_queue_urls

QUEUE_URL = "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/parked"


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
@pytest.mark.parametrize("suffix", ["", ".waitForTaskToken"])
def test_a_catch_path_sending_to_sqs_names_its_queue_in_any_partition(partition: str, suffix: str) -> None:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Park"}],
                "End": True,
            },
            "Park": {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::sqs:sendMessage{suffix}",
                "Parameters": {"QueueUrl": QUEUE_URL, "MessageBody.$": "$"},
                "End": True,
            },
        },
    }

    assert failure_queue_urls(definition) == [QUEUE_URL]


def test_another_integration_is_not_a_failure_queue() -> None:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Publish"}],
                "End": True,
            },
            "Publish": {
                "Type": "Task",
                "Resource": "arn:aws-cn:states:::sns:publish",
                "Parameters": {"QueueUrl": QUEUE_URL},
                "End": True,
            },
        },
    }

    assert failure_queue_urls(definition) == []
