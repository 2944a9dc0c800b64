"""Amazon DynamoDB: on-demand capacity, point-in-time recovery, deletion protection."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule, must_be_true, plain

TABLE: Final = "aws:dynamodb/table:Table"

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
]
