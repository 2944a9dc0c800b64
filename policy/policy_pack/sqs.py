"""Amazon SQS: encryption at rest (queue DLQs, visibility and alarms are stack rules in ``stack``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

QUEUE: Final = "aws:sqs/queue:Queue"
REDRIVE_POLICY: Final = "aws:sqs/redrivePolicy:RedrivePolicy"
QUEUE_POLICY: Final = "aws:sqs/queuePolicy:QueuePolicy"

SERVICE: Final = "sqs"

DEFAULT_VISIBILITY_TIMEOUT_SECONDS: Final = 30
DEFAULT_RETENTION_SECONDS: Final = 345_600


def _encrypted(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # SSE-SQS is on by default for new queues; only an explicit opt-out without a KMS key is unencrypted.
    if props.flag("sqsManagedSseEnabled", True) is False and not props.has("kmsMasterKeyId"):
        yield "sqsManagedSseEnabled is false and no kmsMasterKeyId is set: messages are stored unencrypted"


def _fix_encrypted(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    if props.flag("sqsManagedSseEnabled", True) is False and not props.has("kmsMasterKeyId"):
        return {"sqsManagedSseEnabled": True}
    return None


RULES: Final = [
    ResourceRule(
        name="sqs-encryption-at-rest",
        summary="SQS queues encrypt messages at rest (SSE-SQS, free, or a KMS key)",
        anchors=("cdk-nag AwsSolutions-SQS2", "checkov CKV_AWS_27", "Pulumi NIST sqs-encryption"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(QUEUE,),
        check=_encrypted,
        fix=_fix_encrypted,
    ),
]
