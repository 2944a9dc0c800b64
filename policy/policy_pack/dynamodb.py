"""Amazon DynamoDB: on-demand capacity, point-in-time recovery, deletion protection, customer-managed keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule, must_be_true, plain

TABLE: Final = "aws:dynamodb/table:Table"
TABLE_REPLICA: Final = "aws:dynamodb/tableReplica:TableReplica"

SERVICE: Final = "dynamodb"

# pulumi_aws (like Terraform) creates tables in PROVISIONED mode unless told otherwise.
DEFAULT_BILLING_MODE: Final = "PROVISIONED"


def _on_demand(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    mode = props.text("billingMode", DEFAULT_BILLING_MODE)
    if mode != "PAY_PER_REQUEST":
        yield (
            f"billingMode is {mode!r}: provisioned read/write capacity is billed every hour even with no "
            "traffic; use 'PAY_PER_REQUEST'"
        )


def _fix_pitr(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    if props.flag("pointInTimeRecovery.enabled", False) is True:
        return None
    return {"pointInTimeRecovery": {**plain(props.get("pointInTimeRecovery", {})), "enabled": True}}


def _customer_managed_key(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    # Tables are always encrypted at rest; without a key ARN they use an AWS owned or AWS managed key, whose
    # use cannot be audited or revoked by the stack's owner.
    if resource_type == TABLE_REPLICA:
        if not props.is_set("kmsKeyArn"):
            yield "kmsKeyArn is not set: the replica is encrypted with an AWS managed key, not the stack's own key"
        return
    if props.flag("serverSideEncryption.enabled", False) is not True or not props.is_set(
        "serverSideEncryption.kmsKeyArn"
    ):
        yield (
            "serverSideEncryption does not name a kmsKeyArn: the table is encrypted with an AWS owned or managed "
            "key; set enabled and a customer-managed key (billed monthly: see kms-customer-managed-key-opt-in)"
        )
    for index, replica in enumerate(props.each("replicas")):
        if not replica.is_set("kmsKeyArn"):
            yield f"replicas.{index}.kmsKeyArn is not set: that replica is encrypted with an AWS managed key"


RULES: Final = [
    ResourceRule(
        name="dynamodb-on-demand",
        summary=(
            "DynamoDB tables use on-demand capacity (PAY_PER_REQUEST), so nothing is billed for capacity "
            "while idle (stricter than autoscaling checks)"
        ),
        anchors=(
            "checkov CKV2_AWS_16",
            "cdk-nag DynamoDBAutoScalingEnabled",
            "Pulumi BP dynamodb-auto-scaling-enabled",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TABLE,),
        check=_on_demand,
    ),
    ResourceRule(
        name="dynamodb-point-in-time-recovery",
        summary="DynamoDB tables have point-in-time recovery on",
        anchors=(
            "cdk-nag AwsSolutions-DDB3",
            "checkov CKV_AWS_28",
            "Pulumi NIST dynamodb-point-in-time-recovery-enabled",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(TABLE,),
        check=must_be_true("pointInTimeRecovery.enabled", "the table cannot be restored to a point in time"),
        fix=_fix_pitr,
    ),
    ResourceRule(
        name="dynamodb-deletion-protection",
        summary="DynamoDB tables have deletion protection on (advisory by default; mandatory where a stack says so)",
        anchors=(),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(TABLE,),
        check=must_be_true("deletionProtectionEnabled", "one mistaken delete destroys the table and its data"),
    ),
    ResourceRule(
        name="dynamodb-customer-managed-key",
        summary=(
            "DynamoDB tables and replicas are encrypted with a customer-managed KMS key (advisory by default: "
            "each key is billed monthly)"
        ),
        anchors=("checkov CKV_AWS_119", "checkov CKV_AWS_271"),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(TABLE, TABLE_REPLICA),
        check=_customer_managed_key,
    ),
]
