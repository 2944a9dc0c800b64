"""Amazon RDS: storage encrypted at rest, no database reachable from the internet, deletion protection, backups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule, must_be_true
from policy_pack.compute import RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE

SERVICE: Final = "rds"

# The subnet group a DB cluster gets when it names none, or names this one: AWS then makes a Multi-AZ DB
# cluster publicly accessible unless told otherwise (pulumi_aws rds.Cluster, publicly_accessible).
DEFAULT_SUBNET_GROUP: Final = "default"


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


def _not_publicly_accessible(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RDS_CLUSTER:
        if not props.is_set("dbClusterInstanceClass"):
            return  # an Aurora cluster: its instances say whether they are public, each checked on its own
        if not props.has("publiclyAccessible"):
            # Not set: AWS decides from the subnet group, which may itself be unknown in a preview.
            public = props.text("dbSubnetGroupName", DEFAULT_SUBNET_GROUP) == DEFAULT_SUBNET_GROUP
            unset = " (not set, and the cluster has no subnet group of its own, so AWS makes it public)"
        else:
            public, unset = props.flag("publiclyAccessible"), ""
    else:
        public, unset = props.flag("publiclyAccessible", False), ""
    if public is True:
        yield (
            f"publiclyAccessible is true{unset}: the database gets a public address, so anyone on the internet "
            "whom a security group admits can reach its port and try its credentials; set publiclyAccessible "
            "false and reach it from inside the VPC (the application's subnets, a bastion through SSM Session "
            "Manager, a VPN)"
        )


def _automated_backups(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.is_set("replicateSourceDb"):
        return  # a read replica keeps no automated backups of its own; its source does
    minimum = int(config["minimumDays"])
    # AWS keeps 1 day when the API is not told (pulumi_aws's "Default is 0" is the provider's doc, not AWS's).
    days = props.number("backupRetentionPeriod", 1)
    if days < minimum:
        plural = "" if days == 1 else "s"
        what = "automated backups are off" if days == 0 else f"automated backups are kept {days:g} day{plural}"
        yield (
            f"backupRetentionPeriod is {days:g}: {what}, so the database cannot be restored to a point in time "
            f"before that; set backupRetentionPeriod to at least {minimum} (up to 35)"
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
    ResourceRule(
        name="rds-not-publicly-accessible",
        summary=(
            "RDS DB instances, Aurora instances and Multi-AZ DB clusters are not publicly accessible "
            "(publiclyAccessible false): reached from inside the VPC only"
        ),
        anchors=("AWS Security Hub RDS.2", "checkov CKV_AWS_17", "AWS Config rds-instance-public-access-check"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER_INSTANCE, RDS_CLUSTER),
        check=_not_publicly_accessible,
    ),
    ResourceRule(
        name="rds-deletion-protection",
        summary=(
            "RDS DB instances and clusters have deletion protection on (advisory by default; mandatory where a "
            "stack says so)"
        ),
        anchors=(
            "AWS Security Hub RDS.7",
            "AWS Security Hub RDS.8",
            "checkov CKV_AWS_139",
            "checkov CKV_AWS_293",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=must_be_true(
            "deletionProtection", "one mistaken delete (or a replacing change) destroys the database and its data"
        ),
    ),
    ResourceRule(
        name="rds-automated-backups",
        summary=(
            "RDS DB instances keep automated backups for at least minimumDays days (backupRetentionPeriod; "
            "read replicas aside)"
        ),
        anchors=("AWS Security Hub RDS.11 (with minimumDays 7)", "checkov CKV_AWS_133 (instances)"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE,),
        check=_automated_backups,
        config={"minimumDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 1}},
    ),
]
