"""Least privilege on the bus and the tables, read from the recorded role policies (issue 10, finding 5 and 6).

Every principal that may put events on the bus may put only its own source and detail-types; every
function's table grants are the actions and the records its code uses.
"""

from __future__ import annotations

from typing import Any

from offline.recording import ProgramRun
from tests.program.recorded import as_list, statements

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ORDER_SOURCE = "orderflow.orders"


def role_policies(run: ProgramRun) -> dict[str, list[dict[str, Any]]]:
    """Statements of every role policy, by the policy's logical name."""
    return {policy.name: statements(policy.inputs["policy"]) for policy in run.of_type(ROLE_POLICY)}


def granted(policy: list[dict[str, Any]], resource_of: str | None = None) -> set[str]:
    """The actions a policy allows (on resources containing ``resource_of``, when given)."""
    return {
        action
        for statement in policy
        if statement["Effect"] == "Allow"
        and (resource_of is None or any(resource_of in str(resource) for resource in as_list(statement["Resource"])))
        for action in as_list(statement["Action"])
    }


def statement_granting(policy: list[dict[str, Any]], action: str, resource_of: str) -> dict[str, Any]:
    [statement] = [
        s
        for s in policy
        if action in as_list(s["Action"]) and any(resource_of in str(r) for r in as_list(s["Resource"]))
    ]
    return statement


def test_every_publisher_puts_only_its_own_source_and_detail_types(stack_run: ProgramRun) -> None:
    publishers: dict[str, tuple[list[str], list[str]]] = {}
    for name, policy in role_policies(stack_run).items():
        for statement in policy:
            if "events:PutEvents" not in as_list(statement["Action"]):
                continue
            condition = statement["Condition"]["StringEquals"]
            publishers[name] = (
                sorted(as_list(condition["events:source"])),
                sorted(as_list(condition["events:detail-type"])),
            )

    assert publishers == {
        "create-order-policy": ([ORDER_SOURCE], ["OrderPlaced"]),
        "customer-status-workflow-policy": ([ORDER_SOURCE], ["OrderAccepted", "OrderRejected"]),
        "fulfillment-steps-policy": ([ORDER_SOURCE], ["OrderFailed", "OrderFulfilled"]),
        # The default bus forwards the receipts bucket's object events, and nothing else.
        "orders-invoke-policy": (["aws.s3"], ["Object Created"]),
    }


def test_stock_and_payment_steps_get_only_the_writes_they_make(stack_run: ProgramRun) -> None:
    policies = role_policies(stack_run)

    for step in ("reserve-inventory", "release-inventory"):
        assert granted(policies[f"{step}-policy"], ":table/inventory") == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        }, step
    assert granted(policies["process-payment-policy"], ":table/payments") == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert granted(policies["refund-payment-policy"], ":table/payments") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }


def test_each_function_reaches_only_its_own_idempotency_records(stack_run: ProgramRun) -> None:
    policies = role_policies(stack_run)
    holders = {name for name, policy in policies.items() if granted(policy, ":table/idempotency")}

    assert holders == {"create-order-policy", "notify-policy"}
    for function in ("create-order", "notify"):
        statement = statement_granting(policies[f"{function}-policy"], "dynamodb:GetItem", ":table/idempotency")
        # Powertools keys records "<function name>.<decorated function>#<hash>".
        assert statement["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"orderflow-{stack_run.stack}-{function}.*"]}
        }


def test_shipment_steps_touch_only_the_shipment_of_an_order(stack_run: ProgramRun) -> None:
    policies = role_policies(stack_run)
    expected = {
        "create-shipment": ["orderId", "shippingAddress", "shipment"],
        "cancel-shipment": ["orderId", "shipment"],
    }

    for function, attributes in expected.items():
        statement = statement_granting(policies[f"{function}-policy"], "dynamodb:UpdateItem", ":table/orders")
        assert sorted(as_list(statement["Action"])) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        assert statement["Condition"]["ForAllValues:StringEquals"] == {"dynamodb:Attributes": attributes}
        assert statement["Condition"]["StringEqualsIfExists"]["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"


def test_the_fulfillment_writes_only_under_the_receipts_prefix(stack_run: ProgramRun) -> None:
    policy = role_policies(stack_run)["fulfillment-steps-policy"]
    [statement] = [s for s in policy if "s3:PutObject" in as_list(s["Action"])]
    bucket = stack_run.outputs["receiptsBucketName"]

    assert as_list(statement["Resource"]) == [f"arn:aws:s3:::{bucket}/receipts/*"]


def test_the_receipt_link_reader_may_get_receipts_and_nothing_else_of_the_bucket(stack_run: ProgramRun) -> None:
    bucket = str(stack_run.outputs["receiptsBucketName"])
    readers = {
        name: [s for s in policy if any(bucket in str(r) for r in as_list(s["Resource"]))]
        for name, policy in role_policies(stack_run).items()
    }

    [statement] = readers["get-order-policy"]
    assert as_list(statement["Action"]) == ["s3:GetObject"]
    assert as_list(statement["Resource"]) == [f"arn:aws:s3:::{bucket}/receipts/*"]
