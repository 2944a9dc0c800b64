"""The ops tool builds ARNs in the stack's own partition (``aws-cn`` and ``aws-us-gov`` stacks work too)."""

from __future__ import annotations

import pytest

from orderflow.ops.outputs import StackOutputs
from orderflow.ops.queues import resolve_destination


def stack_outputs(partition: str, region: str) -> StackOutputs:
    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:123456789012:{resource}"

    return StackOutputs.parse(
        {
            "stack": "dev",
            "failureQueues": {},
            "ordersTableName": "orders",
            "fulfillmentStateMachineArn": arn("states", "stateMachine:fulfillment"),
            "customerStatusStateMachineArn": arn("states", "stateMachine:customer-status"),
            "eventBusArn": arn("events", "event-bus/orders"),
            "eventArchiveArn": arn("events", "archive/orders"),
            "eventRules": {},
            "functions": {"notify": arn("lambda", "function:notify")},
        },
        source="test outputs",
    )


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws", "eu-west-1", "sqs.eu-west-1.amazonaws.com"),
        ("aws-cn", "cn-north-1", "sqs.cn-north-1.amazonaws.com.cn"),
        ("aws-us-gov", "us-gov-west-1", "sqs.us-gov-west-1.amazonaws.com"),
    ],
)
def test_a_queue_url_becomes_an_arn_in_the_stacks_partition(partition: str, region: str, host: str) -> None:
    outputs = stack_outputs(partition, region)

    url = f"https://{host}/123456789012/orders-dev-replay"
    destination = resolve_destination(outputs, url, allow_foreign_target=True)

    assert outputs.partition == partition
    assert destination == f"arn:{partition}:sqs:{region}:123456789012:orders-dev-replay"
