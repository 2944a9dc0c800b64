"""``RealtimeChannel``: per-user real-time updates to browsers over AWS IoT Core (MQTT over WebSocket).

An IoT Core custom authorizer backed by a Lambda function validates the caller's token (our Cognito
JWT) and returns a policy scoped to that caller's own topics, so there is no per-identity
``AttachPolicy`` step and no broad ``topic/*`` grant. Publishers get ``iot:Publish`` on the topic prefix
only. Browsers connect to the account's ATS data endpoint with
``?x-amz-customauthorizer-name=<authorizer_name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import build_arn, in_account
from components.children import invoke_permission, tags_input
from components.function import Function
from components.naming import iot_name


def publish_statement(region: str, account: str, topic_prefix: str, partition: str = "aws") -> dict[str, Any]:
    """IAM statement letting a publisher send to ``<topic_prefix>/*`` and nothing else.

    Raises
    ------
    ValueError
        When the prefix is empty or contains MQTT wildcards.
    """
    if not topic_prefix or any(c in topic_prefix for c in "#+*"):
        raise ValueError(f"topic prefix {topic_prefix!r} must be a literal topic level")
    return {
        "Sid": "PublishRealtimeUpdates",
        "Effect": "Allow",
        "Action": "iot:Publish",
        "Resource": build_arn(partition, "iot", region, account, f"topic/{topic_prefix}/*"),
    }


@dataclass
class RealtimeChannelArgs:
    """Inputs of :class:`RealtimeChannel`."""

    authorizer_function: Function
    """Lambda that validates the browser's token and returns the IoT policy."""
    topic_prefix: str = "orders"
    """First topic level of every update topic (``<prefix>/<userId>/<resourceId>``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the authorizer, on top of the provider's default tags."""


class RealtimeChannel(pulumi.ComponentResource):
    """An IoT Core custom authorizer, the ATS data endpoint, and the publisher grant."""

    authorizer: aws.iot.Authorizer
    endpoint: pulumi.Output[str]
    authorizer_name: pulumi.Output[str]
    topic_prefix: str
    publish_resource: pulumi.Output[str]

    def __init__(self, name: str, args: RealtimeChannelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:realtime:RealtimeChannel", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic_prefix = args.topic_prefix
        self.authorizer = aws.iot.Authorizer(
            f"{name}-authorizer",
            name=iot_name(pulumi.get_project(), pulumi.get_stack(), name),
            authorizer_function_arn=args.authorizer_function.arn,
            # Browsers cannot sign a token with a key IoT knows; the function verifies the JWT's own signature.
            signing_disabled=True,
            status="ACTIVE",
            enable_caching_for_http=False,
            tags=tags_input(args.tags),
            opts=child,
        )
        invoke_permission(
            f"{name}-authorizer-invoke", args.authorizer_function.name, "iot.amazonaws.com", self.authorizer.arn, child
        )
        self.endpoint = aws.iot.get_endpoint_output(
            endpoint_type="iot:Data-ATS", opts=pulumi.InvokeOutputOptions(parent=self)
        ).endpoint_address
        self.publish_resource = in_account(
            lambda aws_: str(
                publish_statement(aws_.region, aws_.account, args.topic_prefix, aws_.partition)["Resource"]
            ),
            self,
        )
        self.authorizer_name = self.authorizer.name
        self.register_outputs({"endpoint": self.endpoint, "authorizerName": self.authorizer_name})

    def publisher_statement(self) -> dict[str, Any]:
        """The ``iot:Publish`` statement for a publisher's role (resource resolved at deploy time)."""
        return {
            "Sid": "PublishRealtimeUpdates",
            "Effect": "Allow",
            "Action": "iot:Publish",
            "Resource": self.publish_resource,
        }
