"""AWS KMS: rotate customer-managed keys, and keep them opt-in (each one bills $1 a month)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

KEY: Final = "aws:kms/key:Key"
REPLICA_KEY: Final = "aws:kms/replicaKey:ReplicaKey"
EXTERNAL_KEY: Final = "aws:kms/externalKey:ExternalKey"

SERVICE: Final = "kms"


def _rotation(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Only symmetric encryption keys can rotate automatically.
    spec = props.text("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    usage = props.text("keyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return
    if props.flag("enableKeyRotation", False) is not True:
        yield "enableKeyRotation is not true: the key material never rotates"


def _opt_in(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not config["allowed"]:
        yield (
            "a customer-managed key costs $1.00 a month even when unused: use the AWS-managed key, or "
            "set allowed: true for this stack"
        )


RULES: Final = [
    ResourceRule(
        name="kms-key-rotation",
        summary="Symmetric customer-managed KMS keys rotate automatically",
        anchors=(
            "cdk-nag AwsSolutions-KMS5",
            "checkov CKV_AWS_7",
            "AWSGuard cmk-backing-key-rotation-enabled",
            "Pulumi CP aws-kms-key-enable-key-rotation",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(KEY,),
        check=_rotation,
    ),
    ResourceRule(
        name="kms-customer-managed-key-opt-in",
        summary="Customer-managed KMS keys appear only in stacks that opt in (each is billed monthly)",
        anchors=(),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(KEY, REPLICA_KEY, EXTERNAL_KEY),
        check=_opt_in,
        config={"allowed": {"type": "boolean", "default": False}},
    ),
]
