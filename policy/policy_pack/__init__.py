"""The ``serverless-well-architected`` CrossGuard pack: Well-Architected serverless guardrails for pulumi_aws.

Rules are grouped by service, one module each; :data:`ALL_RULES` is the pack in a stable order
(resource rules first, then stack rules). Each rule carries a :class:`policy_pack._core.RuleInfo`
with its anchors (the public rule ids it covers), severity, default enforcement level and config schema.
"""

from __future__ import annotations

from typing import Final

from policy_pack import (
    apigateway,
    appsync,
    cloudfront,
    compute,
    cost,
    dynamodb,
    eventbridge,
    iam,
    iot,
    kms,
    lambda_,
    logs,
    s3,
    sns,
    sqs,
    stack,
    stepfunctions,
)
from policy_pack._core import ResourceRule, RuleInfo, StackRule

PACK_NAME: Final = "serverless-well-architected"
PACK_VERSION: Final = "1.0.0"
PACK_DESCRIPTION: Final = (
    "Well-Architected serverless guardrails for pulumi_aws programs: failure paths on every asynchronous hop, "
    "bounded scaling, no servers, high availability, and a zero-traffic cost budget."
)

_MODULES: Final = (
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
    stack,
)

ALL_RULES: Final[list[ResourceRule | StackRule]] = [
    *[rule for module in _MODULES for rule in module.RULES if isinstance(rule, ResourceRule)],
    *[rule for module in _MODULES for rule in module.RULES if isinstance(rule, StackRule)],
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
