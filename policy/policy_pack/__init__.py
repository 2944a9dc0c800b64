"""The ``serverless-well-architected`` CrossGuard pack: Well-Architected serverless guardrails for pulumi_aws.

Rules are grouped by service, one module each, and every module exports its rules as ``RULES``. To add
a service, write ``policy_pack/<service>.py`` with its ``RULES`` and list the module in
:data:`SERVICE_MODULES`: that tuple is the only registration point. Shared reference helpers (reading
properties, resolving references between resources, waivers) live in :mod:`policy_pack._core`.

:data:`ALL_RULES` is the pack in a stable order (resource rules first, then stack rules); each rule
carries a :class:`policy_pack._core.RuleInfo` with its anchors (the public rule ids it covers), severity,
default enforcement level and config schema. :data:`ALL_POLICIES` adds the two ``pack-notes`` policies
that report waived findings and undecidable checks as advisory, after every rule has run.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from pulumi_policy import Policy

from policy_pack import (
    apigateway,
    appsync,
    capacity,
    cloudfront,
    compute,
    cost,
    dlq_alarms,
    dynamodb,
    ec2,
    ecr,
    ecs,
    eks,
    eventbridge,
    iam,
    iot,
    kms,
    lambda_,
    loadbalancing,
    logs,
    rds,
    redshift,
    runtimes,
    s3,
    secretsmanager,
    sns,
    sqs,
    stepfunctions,
)
from policy_pack._core import PACK_NAME, PACK_VERSION, PackNotes, PackStackNotes, ResourceRule, RuleInfo, StackRule

__all__ = ["ALL_POLICIES", "ALL_RULES", "PACK_DESCRIPTION", "PACK_NAME", "PACK_VERSION", "rule", "rule_infos"]

PACK_DESCRIPTION: Final = (
    "Well-Architected serverless guardrails for pulumi_aws programs: failure paths on every asynchronous hop "
    "that really work, bounded scaling, no servers, high availability, least privilege, and a zero-traffic "
    "cost budget."
)

SERVICE_MODULES: Final[tuple[ModuleType, ...]] = (
    lambda_,
    sqs,
    sns,
    eventbridge,
    stepfunctions,
    apigateway,
    appsync,
    cloudfront,
    dynamodb,
    s3,
    logs,
    iam,
    iot,
    kms,
    compute,
    cost,
    capacity,
    runtimes,
    dlq_alarms,
    secretsmanager,
    ecs,
    loadbalancing,
    rds,
    eks,
    ec2,
    ecr,
    redshift,
)
"""Every module whose ``RULES`` make up the pack: the one registration point."""

ALL_RULES: Final[list[ResourceRule | StackRule]] = [
    *[rule for module in SERVICE_MODULES for rule in module.RULES if isinstance(rule, ResourceRule)],
    *[rule for module in SERVICE_MODULES for rule in module.RULES if isinstance(rule, StackRule)],
]

# The SDK runs policies in list order within each Analyze / AnalyzeStack call: the notes come last.
ALL_POLICIES: Final[list[Policy]] = [
    *[rule for rule in ALL_RULES if isinstance(rule, ResourceRule)],
    PackNotes(),
    *[rule for rule in ALL_RULES if isinstance(rule, StackRule)],
    PackStackNotes(),
]


def rule_infos() -> list[RuleInfo]:
    """Metadata of every rule, in pack order."""
    return [rule.info for rule in ALL_RULES]


def rule(name: str) -> ResourceRule | StackRule:
    """The rule called ``name``.

    Raises
    ------
    KeyError
        When the pack has no such rule.
    """
    for candidate in ALL_RULES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no rule named {name!r} in {PACK_NAME}")
