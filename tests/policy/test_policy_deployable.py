"""Remediations can never make ``pulumi up`` fail, and the old offenders now report instead of fixing.

For each remediating rule: a resource the rule fixes, run through the remediation, then through the
checks AWS makes when it creates that resource (the constraints and permissions the create API verifies).
A meta-test keeps the list complete: a new remediation without a deployability case fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from policy_cases import BASELINES, FUNCTION, GRAPHQL, QUEUE, REST_STAGE, STATE_MACHINE, TABLE
from policy_stack_cases import traced
from policy_testkit import DELETE, patched, stack_findings
from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack import ALL_RULES, rule
from policy_pack._core import Props


def _sqs_create(props: Mapping[str, Any]) -> list[str]:
    # CreateQueue: SSE-SQS and SSE-KMS exclude each other; KMS data key reuse is 60..86400 s.
    problems = []
    if props.get("sqsManagedSseEnabled") is True and str(props.get("kmsMasterKeyId") or ""):
        problems.append("SqsManagedSseEnabled cannot be combined with KmsMasterKeyId")
    reuse = props.get("kmsDataKeyReusePeriodSeconds")
    if reuse is not None and not 60 <= reuse <= 86_400:
        problems.append("KmsDataKeyReusePeriodSeconds out of range")
    return problems


def _dynamodb_create(props: Mapping[str, Any]) -> list[str]:
    # UpdateContinuousBackups: the recovery period is 1..35 days; PITR needs nothing else from the caller.
    period = (props.get("pointInTimeRecovery") or {}).get("recoveryPeriodInDays")
    return [] if period is None or 1 <= period <= 35 else ["RecoveryPeriodInDays must be 1..35"]


def _rest_stage_create(props: Mapping[str, Any]) -> list[str]:
    # API Gateway sends traces through its own service-linked role: no permission of the caller's roles.
    return [] if isinstance(props.get("xrayTracingEnabled"), bool) else ["xrayTracingEnabled must be a boolean"]


def _appsync_create(props: Mapping[str, Any]) -> list[str]:
    # AppSync also traces through a service-linked role.
    return [] if isinstance(props.get("xrayEnabled"), bool) else ["xrayEnabled must be a boolean"]


@dataclass(frozen=True)
class Deployable:
    rule: str
    type: str
    props: dict[str, Any]
    aws_create: Callable[[Mapping[str, Any]], list[str]]


CASES = [
    Deployable(
        "sqs-encryption-at-rest", QUEUE, patched(BASELINES[QUEUE], {"sqsManagedSseEnabled": False}), _sqs_create
    ),
    Deployable(
        "sqs-encryption-at-rest",
        QUEUE,
        patched(BASELINES[QUEUE], {"sqsManagedSseEnabled": False, "kmsMasterKeyId": ""}),
        _sqs_create,
    ),
    Deployable(
        "dynamodb-point-in-time-recovery",
        TABLE,
        patched(BASELINES[TABLE], {"pointInTimeRecovery": {"enabled": False, "recoveryPeriodInDays": 7}}),
        _dynamodb_create,
    ),
    Deployable(
        "apigateway-rest-tracing",
        REST_STAGE,
        patched(BASELINES[REST_STAGE], {"xrayTracingEnabled": DELETE}),
        _rest_stage_create,
    ),
    Deployable("appsync-tracing", GRAPHQL, patched(BASELINES[GRAPHQL], {"xrayEnabled": False}), _appsync_create),
]


def _remediated(case: Deployable) -> dict[str, Any]:
    target = rule(case.rule)
    fix = getattr(target, "_fix", None)
    assert fix is not None, f"{case.rule} no longer remediates"
    changes = fix(Props(unknown_checking_proxy(dict(case.props))), {}, case.type) or {}
    return {**case.props, **changes}


def test_policy_every_remediating_rule_has_a_deployability_case() -> None:
    remediating = {r.name for r in ALL_RULES if r.info.remediates}
    assert remediating == {case.rule for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}[{c.props.get('kmsMasterKeyId', '-')}]")
def test_policy_remediated_resource_is_accepted_by_aws_at_create(case: Deployable) -> None:
    fixed = _remediated(case)
    assert case.aws_create(fixed) == [], fixed
    # Whatever the remediation leaves is either fixed or still reported: never silently broken.
    remaining = rule(case.rule).findings(fixed, case.type)
    assert remaining == [] or fixed == case.props


def test_policy_sqs_remediation_leaves_an_empty_key_to_the_program() -> None:
    # sqsManagedSseEnabled=true next to kmsMasterKeyId="" could be refused; report it instead of guessing.
    case = CASES[1]
    assert _remediated(case) == case.props
    assert rule("sqs-encryption-at-rest").findings(case.props, QUEUE)


# ---- the old offenders: tracing fixes that broke deploys ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "type_", "off"),
    [
        ("lambda-tracing-active", FUNCTION, {"tracingConfig.mode": "PassThrough"}),
        ("sfn-tracing-enabled", STATE_MACHINE, {"tracingConfiguration.enabled": False}),
    ],
)
def test_policy_tracing_rules_report_the_permissions_instead_of_remediating(
    name: str, type_: str, off: dict[str, Any]
) -> None:
    target = rule(name)
    assert not target.info.remediates and target.info.enforcement_level.value == "advisory"
    [message] = target.findings(patched(BASELINES[type_], off), type_)
    assert "xray:PutTraceSegments" in message and "role" in message


def test_policy_tracing_without_permissions_is_caught_before_aws_rejects_it() -> None:
    found = dict(stack_findings("lambda-tracing-permissions", *traced()))
    assert "AWS rejects the function at create" in found["traced"]
    found = dict(stack_findings("sfn-tracing-permissions", *traced()))
    assert "xray:GetSamplingTargets" in found["flow"]
