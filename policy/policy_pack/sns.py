"""Amazon SNS: a dead-letter queue on every subscription, encrypted topics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule, must_be_set

TOPIC: Final = "aws:sns/topic:Topic"
SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"

SERVICE: Final = "sns"


def _subscription_redrive(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    policy = props.json("redrivePolicy")
    if policy is ABSENT:
        yield "redrivePolicy is not set: messages SNS cannot deliver are dropped; redrive them to an SQS DLQ"
    elif not isinstance(policy, Mapping) or not policy.get("deadLetterTargetArn"):
        yield "redrivePolicy has no deadLetterTargetArn"


RULES: Final = [
    ResourceRule(
        name="sns-subscription-redrive-policy",
        summary="SNS subscriptions redrive undeliverable messages to a dead-letter queue",
        anchors=(
            "serverless-rules ES7000 / aws_sns_topic_subscription_redrive_policy",
            "cdk-nag Serverless-SNSRedrivePolicy",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(SUBSCRIPTION,),
        check=_subscription_redrive,
    ),
    ResourceRule(
        name="sns-topic-encryption",
        summary="SNS topics encrypt messages at rest with KMS",
        anchors=("checkov CKV_AWS_26", "cdk-nag SNSEncryptedKMS", "Pulumi NIST sns-kms-encryption-enabled"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(TOPIC,),
        check=must_be_set(
            "kmsMasterKeyId",
            "messages are stored unencrypted; use a KMS key whose policy lets the publishing services "
            "(CloudWatch, EventBridge, S3) use it",
        ),
    ),
]
