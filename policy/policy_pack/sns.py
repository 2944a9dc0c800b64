"""Amazon SNS: a dead-letter queue on every subscription, encrypted topics, no unconditioned cross-account grants."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, CannotEvaluateError, Props, ResourceRule, must_be_set
from policy_pack.iam import principal_values, resource_documents, restricting_conditions, statements

TOPIC: Final = "aws:sns/topic:Topic"
SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"

# The account an AWS principal belongs to: a bare account id, or the account field of an IAM/STS ARN.
_PRINCIPAL_ACCOUNT: Final = re.compile(r"^(?:(\d{12})|arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):.+)$")
_TOPIC_ACCOUNT: Final = re.compile(r"^arn:aws[a-z-]*:sns:[^:]*:(\d{12}):")

SERVICE: Final = "sns"


def _subscription_redrive(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    policy = props.json("redrivePolicy")
    if policy is ABSENT:
        yield "redrivePolicy is not set: messages SNS cannot deliver are dropped; redrive them to an SQS DLQ"
    elif not isinstance(policy, Mapping) or not policy.get("deadLetterTargetArn"):
        yield "redrivePolicy has no deadLetterTargetArn"


def _topic_accounts(props: Props, document: Any) -> set[str] | None:
    """The accounts that own the topic: from a topic policy's ``arn`` and the statements' SNS ``Resource`` ARNs.

    ``None`` when the topic's ARN is unknown until the update runs (a first preview).
    """
    accounts: set[str] = set()
    try:
        arn = props.get("arn")
    except CannotEvaluateError:
        return None
    for value in [arn, *(r for statement in statements(document) for r in statement.resources)]:
        match = _TOPIC_ACCOUNT.match(value) if isinstance(value, str) else None
        if match:
            accounts.add(match[1])
    return accounts


def _no_cross_account(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    for path, document in resource_documents(props, resource_type):
        owners = _topic_accounts(props, document)
        for statement in statements(document):
            if statement.effect != "Allow" or restricting_conditions(statement.condition):
                continue
            foreign = []
            for kind, value in principal_values(statement.principal):
                match = _PRINCIPAL_ACCOUNT.match(value) if kind == "AWS" else None
                account = (match[1] or match[2]) if match else None
                if account is None or (owners and account in owners):
                    continue
                if owners is None:
                    raise CannotEvaluateError(f"{path} (the topic's account, to compare with {value!r})")
                foreign.append(repr(value))
            if foreign:
                yield (
                    f"{path} {statement.label} grants {', '.join(foreign)} of another account with no condition: "
                    "scope it with aws:PrincipalArn, aws:PrincipalOrgID or aws:SourceArn, or grant it from that "
                    "account's own role"
                )


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
    ResourceRule(
        name="sns-topic-policy-no-cross-account",
        summary=(
            "SNS topic policies grant principals of other accounts only under a condition that narrows the caller "
            "(aws:PrincipalArn, aws:PrincipalOrgID, aws:SourceArn…)"
        ),
        anchors=("checkov CKV_AWS_385",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TOPIC_POLICY, TOPIC),
        check=_no_cross_account,
    ),
]
