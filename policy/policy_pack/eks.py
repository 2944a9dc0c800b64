"""Amazon EKS: the cluster's API endpoint is not open to the whole internet."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

CLUSTER: Final = "aws:eks/cluster:Cluster"

SERVICE: Final = "eks"

ANYWHERE: Final = frozenset({"0.0.0.0/0", "::/0"})
# EKS defaults: the public endpoint is on, and open to every address (CreateCluster's resourcesVpcConfig).
DEFAULT_PUBLIC_ACCESS: Final = True
DEFAULT_PUBLIC_CIDRS: Final = ("0.0.0.0/0",)


def _endpoint_not_open(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    vpc = props.child("vpcConfig")
    if vpc.flag("endpointPublicAccess", DEFAULT_PUBLIC_ACCESS) is not True:
        return
    cidrs = [str(cidr) for cidr in vpc.seq("publicAccessCidrs")] or list(DEFAULT_PUBLIC_CIDRS)
    open_to = sorted(ANYWHERE.intersection(cidrs))
    if open_to:
        defaulted = "" if vpc.has("publicAccessCidrs") else " (the default when publicAccessCidrs is not set)"
        yield (
            f"the Kubernetes API endpoint is public and open to {', '.join(open_to)}{defaulted}: set "
            "vpcConfig.endpointPublicAccess false with endpointPrivateAccess true, or list the CIDRs that may "
            "reach it in vpcConfig.publicAccessCidrs"
        )


RULES: Final = [
    ResourceRule(
        name="eks-endpoint-not-public",
        summary="EKS cluster API endpoints are private, or public only to listed CIDRs (never 0.0.0.0/0)",
        anchors=("checkov CKV_AWS_38", "AWS Security Hub EKS.1 (open-to-anyone part)", "cdk-nag AwsSolutions-EKS1"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(CLUSTER,),
        check=_endpoint_not_open,
    ),
]
