"""Only the order system's own roles may put order events on the bus (issue 20, item 5).

The recorded bus policy is evaluated the way EventBridge authorises one PutEvents entry in the bus's own
account (IAM policy evaluation: an explicit Deny wins over any Allow): any role of the account that may
call PutEvents at all, with ``orderflow.orders`` as the source, must be refused unless it is one of the
three publishers.
"""

from __future__ import annotations

from typing import Any

import pytest

from offline.recording import ProgramRun
from tests.program.recorded import as_list, statements

BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
ROLE = "aws:iam/role:Role"
ORDER_SOURCE = "orderflow.orders"
PUBLISHERS = ("create-order-role", "customer-status-workflow-role", "fulfillment-steps-role")


def _matches(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """Whether every operator of a condition block holds for ``context`` (the operators the policy uses)."""
    for operator, keys in condition.items():
        for key, values in keys.items():
            actual, wanted = context[key], as_list(values)
            if operator in ("StringEquals", "ArnEquals") and actual not in wanted:
                return False
            if operator in ("StringNotEquals", "ArnNotEquals") and actual in wanted:
                return False
            if operator not in ("StringEquals", "ArnEquals", "StringNotEquals", "ArnNotEquals"):
                raise AssertionError(f"the evaluator does not know {operator}")
    return True


def may_put(run: ProgramRun, principal_arn: str, source: str, detail_type: str) -> bool:
    """Whether the bus policy lets a principal of the bus's own account put one entry."""
    [policy] = run.of_type(BUS_POLICY)
    context = {"aws:PrincipalArn": principal_arn, "events:source": source, "events:detail-type": detail_type}
    account = principal_arn.split(":")[4]
    allowed = denied = False
    for statement in statements(policy.inputs["policy"]):
        principal = statement["Principal"]
        applies = principal == "*" or any(arn.split(":")[4] == account for arn in as_list(principal.get("AWS", [])))
        if applies and _matches(statement.get("Condition", {}), context):
            allowed |= statement["Effect"] == "Allow"
            denied |= statement["Effect"] == "Deny"
    return allowed and not denied


def role_arn(run: ProgramRun, role: str) -> str:
    [found] = [resource for resource in run.of_type(ROLE) if resource.name == role]
    return str(found.outputs["arn"])


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_the_order_systems_roles_may_put_order_events(stack_run: ProgramRun, publisher: str) -> None:
    assert may_put(stack_run, role_arn(stack_run, publisher), ORDER_SOURCE, "OrderFailed")


@pytest.mark.parametrize("intruder", ["notify-role", "audit-role", "a-role-someone-else-created"])
def test_any_other_role_of_the_account_is_refused_our_source(stack_run: ProgramRun, intruder: str) -> None:
    account = role_arn(stack_run, "notify-role").split(":")[4]
    arn = f"arn:aws:iam::{account}:role/{intruder}" if "someone" in intruder else role_arn(stack_run, intruder)

    assert not may_put(stack_run, arn, ORDER_SOURCE, "OrderFailed")
    assert not may_put(stack_run, arn, ORDER_SOURCE, "OrderShippedSomewhereElse")
    # The bus stays open to the account for other sources (IAM decides who may call PutEvents at all).
    assert may_put(stack_run, arn, "partner.inventory", "StockCounted")
