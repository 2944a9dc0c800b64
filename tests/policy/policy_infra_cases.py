"""Compliant baselines and one mutation per case for the rules on ECS tasks with public addresses and EKS
control-plane logs.

Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases run and count
with the others.
"""

from __future__ import annotations

from policy_cases import ECS_SERVICE, Case, bad, ok
from policy_coverage_cases import EKS_CLUSTER

PUBLIC_IP = "ecs-service-no-public-ip"
LOGGING = "eks-control-plane-logging"

# Tasks in private subnets behind the service's own security group (the shared ECS baseline has no network block).
PRIVATE = {"networkConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}}
ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# The shared EKS baseline serves the endpoint rule too: these cases add the log types.
LOGGED = {"enabledClusterLogTypes": ["api", "audit", "authenticator"]}

INFRA_CASES: list[Case] = [
    # ---- ecs public task addresses
    ok(PUBLIC_IP, ECS_SERVICE, "no-network-configuration"),
    ok(PUBLIC_IP, ECS_SERVICE, "private-subnets", PRIVATE),
    ok(PUBLIC_IP, ECS_SERVICE, "public-ip-said-off", {**PRIVATE, "networkConfiguration.assignPublicIp": False}),
    bad(
        PUBLIC_IP,
        ECS_SERVICE,
        "public-ip",
        {**PRIVATE, "networkConfiguration.assignPublicIp": True},
        "networkConfiguration.assignPublicIp is true: every task gets a public address",
    ),
    bad(
        PUBLIC_IP,
        ECS_SERVICE,
        "public-ip-as-a-string",
        {**PRIVATE, "networkConfiguration.assignPublicIp": "true"},
        "assignPublicIp is true",
    ),
    bad(
        PUBLIC_IP,
        ECS_SERVICE,
        "malformed",
        {**PRIVATE, "networkConfiguration.assignPublicIp": "ENABLED"},
        "networkConfiguration.assignPublicIp should be a boolean",
    ),
    # ---- eks control-plane logs
    ok(LOGGING, EKS_CLUSTER, "api-audit-authenticator", LOGGED),
    ok(LOGGING, EKS_CLUSTER, "all-five", {"enabledClusterLogTypes": ALL_LOG_TYPES}),
    ok(
        LOGGING,
        EKS_CLUSTER,
        "audit-only-where-a-stack-asks-only-audit",
        {"enabledClusterLogTypes": ["audit"]},
        config={"requiredLogTypes": ["audit"]},
    ),
    bad(LOGGING, EKS_CLUSTER, "not-set", {}, "enabledClusterLogTypes lacks api, audit, authenticator (not set"),
    bad(LOGGING, EKS_CLUSTER, "audit-missing", {"enabledClusterLogTypes": ["api", "authenticator"]}, "lacks audit:"),
    bad(LOGGING, EKS_CLUSTER, "empty-list", {"enabledClusterLogTypes": []}, "lacks api, audit, authenticator:"),
    bad(
        LOGGING,
        EKS_CLUSTER,
        "checkov-parity-all-five",
        LOGGED,
        "lacks controllerManager, scheduler",
        config={"requiredLogTypes": ALL_LOG_TYPES},
    ),
]
