"""Workflow: a validated state machine, logged and traced, with a role allowed exactly what it calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.workflow import Workflow, WorkflowArgs
from offline.mocks import AwsMocks
from tests.components.conftest import ACCOUNT, PARTITION, PREFIX, REGION, TAGS, build

FUNCTION_ARN = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:probe-test-step"


def one_step(step_function_arn: str, partition: str) -> dict[str, Any]:
    return {
        "StartAt": "Step",
        "States": {
            "Step": {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::lambda:invoke",
                "Arguments": {"FunctionName": step_function_arn, "Payload": "{% $states.input %}"},
                "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 3}],
                "End": True,
            }
        },
        "QueryLanguage": "JSONata",
    }


def broken(step_function_arn: str, partition: str) -> dict[str, Any]:
    definition = one_step(step_function_arn, partition)
    definition["States"]["Step"] = {**definition["States"]["Step"], "End": False, "Next": "Missing"}
    return definition


def flow(**overrides: Any) -> Workflow:
    args: dict[str, Any] = {
        "definition": one_step,
        "definition_inputs": {"step_function_arn": FUNCTION_ARN},
        "log_retention_days": 14,
    }
    return Workflow("flow", WorkflowArgs(**(args | overrides), tags=TAGS))


def test_defaults_a_standard_machine_logging_errors_with_data_and_traced() -> None:
    built = build(flow)

    assert built.component.type == "orderflow:workflows:Workflow"
    assert built.kinds() == {
        ("aws:cloudwatch/logGroup:LogGroup", "flow-logs"),
        ("aws:iam/role:Role", "flow-role"),
        ("aws:iam/rolePolicy:RolePolicy", "flow-policy"),
        ("aws:sfn/stateMachine:StateMachine", "flow-state-machine"),
    }
    assert built.inputs("flow-logs") == {"name": f"/aws/vendedlogs/states/{PREFIX}-flow", "retentionInDays": 14}
    machine = built.inputs("flow-state-machine")
    assert json.loads(machine.pop("definition")) == one_step(FUNCTION_ARN, PARTITION)
    assert machine == {
        "name": f"{PREFIX}-flow",
        "type": "STANDARD",
        "roleArn": built.child("flow-role").outputs["arn"],
        "loggingConfiguration": {
            "level": "ERROR",
            "includeExecutionData": True,
            "logDestination": f"{built.child('flow-logs').outputs['arn']}:*",
        },
        "tracingConfiguration": {"enabled": True},
    }
    assert built.child("flow-policy").urn in built.child("flow-state-machine").dependencies


def test_defaults_the_role_is_assumed_by_step_functions_for_this_account_only() -> None:
    built = build(flow)

    role = built.inputs("flow-role")
    (trust,) = json.loads(role.pop("assumeRolePolicy"))["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert role == {"description": f"Execution role of the {PREFIX}-flow state machine"}


def test_defaults_the_role_may_invoke_exactly_the_called_function_and_deliver_logs_and_traces() -> None:
    built = build(flow)

    policy = built.inputs("flow-policy")
    assert policy["role"] == built.child("flow-role").id
    granted = {
        statement["Sid"]: (statement["Action"], statement["Resource"])
        for statement in json.loads(policy["policy"])["Statement"]
    }
    invoke = [grant for sid, grant in granted.items() if sid not in {"DeliverLogs", "WriteTraces"}]
    assert invoke == [(["lambda:InvokeFunction"], [FUNCTION_ARN, f"{FUNCTION_ARN}:*"])]
    assert granted["WriteTraces"] == (
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
        "*",
    )
    assert granted["DeliverLogs"][1] == "*"


def test_express_all_levels_and_opt_outs() -> None:
    built = build(lambda: flow(workflow_type="EXPRESS", log_level="ALL", include_execution_data=False, tracing=False))

    machine = built.inputs("flow-state-machine")
    assert machine["type"] == "EXPRESS"
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["loggingConfiguration"]["includeExecutionData"] is False
    assert machine["tracingConfiguration"] == {"enabled": False}


def test_a_broken_state_graph_fails_before_anything_is_created() -> None:
    with pytest.raises(ValueError, match="Missing"):
        build(lambda: flow(definition=broken))


@pytest.mark.parametrize(("field", "value"), [("workflow_type", "BATCH"), ("log_level", "DEBUG")])
def test_an_unknown_type_or_level_fails_naming_the_workflow(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"flow: {field}"):
        build(lambda: flow(**{field: value}))


def test_the_definition_is_built_for_the_deployments_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    china = {
        "id": "aws-cn",
        "partition": "aws-cn",
        "dnsSuffix": "amazonaws.com.cn",
        "reverseDnsPrefix": "cn.com.amazonaws",
    }
    monkeypatch.setattr(AwsMocks, "_get_partition", lambda self, _: china)
    function_arn = f"arn:aws-cn:lambda:{REGION}:{ACCOUNT}:function:probe-test-step"
    built = build(lambda: flow(definition_inputs={"step_function_arn": function_arn}))

    definition = json.loads(built.inputs("flow-state-machine")["definition"])
    assert definition["States"]["Step"]["Resource"] == "arn:aws-cn:states:::lambda:invoke"
    (invoke, *_) = json.loads(built.inputs("flow-policy")["policy"])["Statement"]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Resource"] == [function_arn, f"{function_arn}:*"]
