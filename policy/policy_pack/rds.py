"""Amazon RDS: storage encrypted at rest on DB instances and clusters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule
from policy_pack.compute import RDS_CLUSTER, RDS_INSTANCE

SERVICE: Final = "rds"


def _storage_encrypted(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RDS_INSTANCE and props.is_set("replicateSourceDb"):
        return  # a read replica is encrypted exactly when its source is
    if resource_type == RDS_CLUSTER and props.text("engineMode", "provisioned") == "serverless":
        return  # Aurora Serverless v1 clusters are always encrypted
    if props.flag("storageEncrypted", False) is not True:
        yield (
            "storageEncrypted is not true: the database, its backups, snapshots and replicas are stored "
            "unencrypted, and encryption cannot be turned on later without a copy and a restore"
        )


RULES: Final = [
    ResourceRule(
        name="rds-storage-encrypted",
        summary="RDS DB instances and clusters encrypt their storage at rest",
        anchors=(
            "checkov CKV_AWS_16",
            "checkov CKV_AWS_96",
            "AWS Security Hub RDS.3",
            "AWS Security Hub RDS.27",
            "cdk-nag AwsSolutions-RDS2",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=_storage_encrypted,
    ),
]
