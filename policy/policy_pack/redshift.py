"""Amazon Redshift: provisioned clusters are not reachable from the internet and stay encrypted at rest.

pulumi_aws 7 follows AWS's defaults for new clusters (publicly inaccessible, encrypted), so an absent key passes
both rules; they catch a program that turns either off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

CLUSTER: Final = "aws:redshift/cluster:Cluster"

SERVICE: Final = "redshift"


def _not_publicly_accessible(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("publiclyAccessible", False) is True:
        yield (
            "publiclyAccessible is true: the cluster gets a public address, so anyone on the internet whom a "
            "security group admits can reach port 5439 and try its credentials; set publiclyAccessible false and "
            "query it from inside the VPC, or through the Redshift Data API"
        )


def _encrypted(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # pulumi_aws 7 types `encrypted` as a string ("true"/"false"); the flag read accepts both forms.
    if props.flag("encrypted", True) is not True:
        yield (
            "encrypted is false: the cluster's data, snapshots and backups are stored unencrypted; remove "
            "encrypted (new clusters are encrypted by default) or set it true, with kmsKeyId for a key of your own"
        )


RULES: Final = [
    ResourceRule(
        name="redshift-not-publicly-accessible",
        summary="Redshift clusters are not publicly accessible (publiclyAccessible false, the default)",
        anchors=("AWS Security Hub Redshift.1", "checkov CKV_AWS_87"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(CLUSTER,),
        check=_not_publicly_accessible,
    ),
    ResourceRule(
        name="redshift-cluster-encrypted",
        summary="Redshift clusters encrypt their data at rest (encrypted not turned off)",
        anchors=("AWS Security Hub Redshift.10", "checkov CKV_AWS_64"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(CLUSTER,),
        check=_encrypted,
    ),
]
