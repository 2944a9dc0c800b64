"""Every stack rule against a compliant stack and one mutation per case (see ``policy_stack_cases``)."""

from __future__ import annotations

import pytest
from policy_stack_cases import STACK_CASES, StackCase, baseline, preview_stack, replace
from policy_testkit import UNKNOWN, Res, stack_findings, stack_of

from policy_pack import rule
from policy_pack._core import CannotEvaluateError


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda case: f"{case.rule}[{case.id}]")
def test_policy_stack_rule_case(case: StackCase) -> None:
    found = stack_findings(case.rule, *case.build(), config=case.config, stack_config=case.stack_config)
    if case.fails:
        assert found, f"{case.rule} stayed silent on {case.id}"
        assert any(case.contains in message for _, message in found), found
    else:
        assert found == [], found


def test_policy_stack_findings_name_the_resource() -> None:
    found = stack_findings(
        "lambda-unique-execution-role", *replace(baseline(), "notify", role="arn:aws:iam::123456789012:role/audit")
    )
    assert sorted(name for name, _ in found) == ["audit", "notify"]


def test_policy_stack_rule_reports_cannot_evaluate_after_findings() -> None:
    # The invoke config's function is unknown and nothing records where it came from: the rule must
    # say it cannot decide rather than guess, and only after reporting what it could decide.
    resources = [
        *[r for r in preview_stack() if r.name != "notify-async"],
        Res(
            "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "orphan-config", {"functionName": UNKNOWN}
        ),
    ]
    with pytest.raises(CannotEvaluateError, match="cannot evaluate: function of orphan-config"):
        rule("lambda-async-failure-destination").findings(stack_of(*resources))


def test_policy_workflow_queue_with_unknown_definition_is_cannot_evaluate_not_a_violation() -> None:
    failures = Res("aws:sqs/queue:Queue", "flow-failures", {"name": UNKNOWN, "arn": UNKNOWN})
    machine = Res("aws:sfn/stateMachine:StateMachine", "flow", {"definition": UNKNOWN}, {"definition": [failures.urn]})
    target = rule("sqs-redrive-policy")
    with pytest.raises(CannotEvaluateError, match="whether flow-failures is a workflow's failure queue"):
        target.findings(stack_of(failures, machine))
