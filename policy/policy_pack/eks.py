"""Amazon EKS: the cluster's API endpoint is not open to the whole internet, and its control plane logs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, CannotEvaluateError, Props, ResourceRule

CLUSTER: Final = "aws:eks/cluster:Cluster"

SERVICE: Final = "eks"

ANYWHERE: Final = frozenset({"0.0.0.0/0", "::/0"})
# EKS defaults: the public endpoint is on, and open to every address (CreateCluster's resourcesVpcConfig).
DEFAULT_PUBLIC_ACCESS: Final = True
DEFAULT_PUBLIC_CIDRS: Final = ("0.0.0.0/0",)
# The control-plane log types EKS can send to CloudWatch Logs (none by default).
LOG_TYPES: Final = ("api", "audit", "authenticator", "controllerManager", "scheduler")


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


def _control_plane_logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    required = [str(log_type) for log_type in config["requiredLogTypes"]]
    listed = props.get("enabledClusterLogTypes")
    enabled: set[str] = set()
    unknown = False
    if listed is not ABSENT:
        several = isinstance(listed, Sequence) and not isinstance(listed, str)
        for path in (
            [f"enabledClusterLogTypes.{i}" for i in range(len(listed))] if several else ["enabledClusterLogTypes"]
        ):
            try:
                enabled.add(str(props.get(path, "")))
            except CannotEvaluateError:
                unknown = True  # one type from an output: the ones known beside it still count
    missing = [log_type for log_type in required if log_type not in enabled]
    if missing and unknown:
        raise CannotEvaluateError("enabledClusterLogTypes")
    if missing:
        unset = " (not set: EKS sends none by default)" if listed is ABSENT else ""
        yield (
            f"enabledClusterLogTypes lacks {', '.join(missing)}{unset}: those control-plane logs are not kept (audit "
            "and authenticator logs record who called the Kubernetes API and what it allowed), and a type turned on "
            "later records nothing of before; add them to enabledClusterLogTypes (they go to the log group "
            "/aws/eks/<cluster>/cluster: declare it with a retention, since CloudWatch Logs bills what is ingested)"
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
    ResourceRule(
        name="eks-control-plane-logging",
        summary="EKS clusters send the control-plane log types in requiredLogTypes (audit included) to CloudWatch Logs",
        anchors=("AWS Security Hub EKS.8", "checkov CKV_AWS_37 (with requiredLogTypes all five)"),
        severity=Severity.MEDIUM,
        # Advisory: audit and API logs are billed per GB ingested, which a cluster with no traffic still produces.
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(CLUSTER,),
        check=_control_plane_logging,
        config={
            "requiredLogTypes": {
                "type": "array",
                "items": {"type": "string", "enum": list(LOG_TYPES)},
                "uniqueItems": True,
                "contains": {"const": "audit"},
                "default": ["api", "audit", "authenticator"],
            }
        },
    ),
]
