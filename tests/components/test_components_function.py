"""Function: its own role, log group and JSON logs, traced, packaged with the shared library; opt-outs visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.function import AsyncInvokeArgs, Function, FunctionArgs
from tests.components.conftest import ACCOUNT, PARTITION, PREFIX, PROJECT, REGION, TAGS, Built, build

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FUNCTION = "aws:lambda/function:Function"
ASYNC_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
FAILURES_ARN = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:failures"


def worker(handlers: Path, **overrides: Any) -> Function:
    args: dict[str, Any] = {"reserved_concurrency": 5, "log_retention_days": 14, "handlers_dir": handlers}
    return Function("worker", FunctionArgs("worker", **(args | overrides), tags=TAGS))


def policy_statements(built: Built) -> list[dict[str, Any]]:
    return list(json.loads(built.inputs("worker-policy")["policy"])["Statement"])


def test_defaults_arm64_traced_json_logs_into_its_own_log_group(handlers: Path) -> None:
    built = build(lambda: worker(handlers))

    assert built.component.type == "orderflow:lambda:Function"
    assert built.kinds() == {
        (LOG_GROUP, "worker-logs"),
        (ROLE, "worker-role"),
        (ROLE_POLICY, "worker-policy"),
        (FUNCTION, "worker-function"),
    }
    assert built.inputs("worker-logs") == {"name": f"/aws/lambda/{PREFIX}-worker", "retentionInDays": 14}
    function = built.inputs("worker-function")
    code = function.pop("code")
    assert isinstance(code, pulumi.AssetArchive)
    assert sorted(code.assets) == ["shared/__init__.py", "worker/app.py"]
    assert function == {
        "name": f"{PREFIX}-worker",
        "description": "",
        "runtime": "python3.13",
        "architectures": ["arm64"],
        "handler": "worker.app.lambda_handler",
        "role": built.child("worker-role").outputs["arn"],
        "memorySize": 256,
        "timeout": 10,
        "reservedConcurrentExecutions": 5,
        "tracingConfig": {"mode": "Active"},
        "loggingConfig": {
            "logFormat": "JSON",
            "logGroup": f"/aws/lambda/{PREFIX}-worker",
            "applicationLogLevel": "INFO",
            "systemLogLevel": "WARN",
        },
        "layers": [],
        "environment": {
            "variables": {
                "POWERTOOLS_SERVICE_NAME": "worker",
                "POWERTOOLS_METRICS_NAMESPACE": PROJECT,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }
        },
    }
    child = built.child("worker-function")
    assert {built.child("worker-policy").urn, built.child("worker-logs").urn} <= set(child.dependencies)


def test_defaults_the_role_writes_only_its_own_logs_and_traces(handlers: Path) -> None:
    built = build(lambda: worker(handlers))

    role = built.inputs("worker-role")
    assert json.loads(role.pop("assumeRolePolicy"))["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert role == {"description": f"Execution role of {PREFIX}-worker"}
    assert built.inputs("worker-policy")["role"] == built.child("worker-role").id
    log_group_arn = built.child("worker-logs").outputs["arn"]
    assert policy_statements(built) == [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
        {
            "Sid": "WriteTraces",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    assert log_group_arn.startswith(f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:")


def test_opt_outs_unreserved_concurrency_and_pass_through_tracing(handlers: Path) -> None:
    built = build(lambda: worker(handlers, reserved_concurrency=-1, tracing_mode="PassThrough"))

    function = built.inputs("worker-function")
    assert function["reservedConcurrentExecutions"] == -1
    assert function["tracingConfig"] == {"mode": "PassThrough"}


def test_no_reservation_leaves_the_account_pool(handlers: Path) -> None:
    built = build(lambda: worker(handlers, reserved_concurrency=None))

    assert "reservedConcurrentExecutions" not in built.inputs("worker-function")


@pytest.mark.parametrize("reserved", [0, -2])
def test_a_reservation_that_would_stop_the_function_fails_naming_it(handlers: Path, reserved: int) -> None:
    with pytest.raises(ValueError, match="worker: reserved_concurrency"):
        build(lambda: worker(handlers, reserved_concurrency=reserved))


def test_the_powertools_layer_comes_first(handlers: Path) -> None:
    powertools = f"arn:{PARTITION}:lambda:{REGION}:111111111111:layer:private-powertools:4"
    other = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:jwt:1"
    built = build(lambda: worker(handlers, powertools_layer_arn=powertools, layers=[other]))

    assert built.inputs("worker-function")["layers"] == [powertools, other]


def test_environment_log_level_and_name_are_the_callers(handlers: Path) -> None:
    built = build(
        lambda: worker(handlers, environment={"TABLE": "t"}, log_level="DEBUG", function_name="custom-worker")
    )

    function = built.inputs("worker-function")
    assert function["name"] == "custom-worker"
    assert function["environment"]["variables"]["TABLE"] == "t"
    assert function["environment"]["variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert function["loggingConfig"]["applicationLogLevel"] == "DEBUG"
    assert built.inputs("worker-logs")["name"] == "/aws/lambda/custom-worker"


def test_async_invocations_retry_then_go_to_the_on_failure_destination(handlers: Path) -> None:
    built = build(lambda: worker(handlers, async_invoke=AsyncInvokeArgs(FAILURES_ARN)))

    assert (ASYNC_CONFIG, "worker-async") in built.kinds()
    assert built.inputs("worker-async") == {
        "functionName": f"{PREFIX}-worker",
        "maximumRetryAttempts": 2,
        "maximumEventAgeInSeconds": 3600,
        "destinationConfig": {"onFailure": {"destination": FAILURES_ARN}},
    }
    assert built.child("worker-policy").urn in built.child("worker-async").dependencies
    assert policy_statements(built)[-1]["Action"] == "sqs:SendMessage"
    assert policy_statements(built)[-1]["Resource"] == FAILURES_ARN


def test_an_sns_destination_gets_publish(handlers: Path) -> None:
    topic = f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:t"
    built = build(lambda: worker(handlers, async_invoke=AsyncInvokeArgs(topic, destination_service="sns")))

    assert built.inputs("worker-async")["destinationConfig"]["onFailure"]["destination"] == topic
    assert policy_statements(built)[-1]["Action"] == "sns:Publish"
