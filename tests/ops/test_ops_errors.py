"""What an operator is told when the call cannot be made: a missing permission, the wrong stack, region,
account or profile, no outputs; and ``make ops`` as a newcomer runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from orderflow.ops.cli import main
from tests.offline.newcomer import PROJECT_DIR, run_make
from tests.ops.opskit import ops, stubbed, with_clients
from tests.workflows.flowkit import OrderFlow


def test_a_refused_call_names_the_iam_action_aws_names(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    cloudwatch, stubber = stubbed("cloudwatch", flow.system.region)
    stubber.add_client_error(
        "get_metric_statistics",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::123456789012:user/ops is not authorized to perform: "
        "cloudwatch:GetMetricStatistics because no identity-based policy allows the cloudwatch:GetMetricStatistics "
        "action",
        http_status_code=403,
    )

    run = ops(capsys, outputs, "status", connect=with_clients(cloudwatch=cloudwatch))

    assert run.code == 3
    assert run.err.startswith("error: missing permission cloudwatch:GetMetricStatistics (User: arn:aws:iam::")


def test_a_refused_call_without_the_action_in_its_message_is_named_from_the_operation(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    for service, operation, action, args in (
        ("sqs", "receive_message", "sqs:ReceiveMessage", ("dlq", "show", "order-audit")),
        ("stepfunctions", "describe_execution", "states:DescribeExecution", ("redrive-execution", "o-1")),
    ):
        client, stubber = stubbed(service, flow.system.region)
        stubber.add_client_error(operation, service_error_code="AccessDenied", service_message="Access denied.")

        run = ops(capsys, outputs, *args, connect=with_clients(**{service: client}))

        assert run.code == 3
        assert f"error: missing permission {action} (Access denied.)" in run.err


def test_outputs_of_another_stack_or_project_are_refused(
    flow: OrderFlow, tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    wrong_stack = ops(capsys, outputs, "status", "--stack", "prod")
    assert wrong_stack.code == 2
    assert f"{outputs} are stack 'dev''s, not 'prod': wrong stack" in wrong_stack.err

    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"bucketName": "b", "stack": "dev"}))
    not_ours = ops(capsys, foreign, "status")
    assert not_ours.code == 2
    assert "lacks failureQueues, ordersTableName" in not_ours.err and "not an orderflow stack" in not_ours.err

    wrong_region = ops(capsys, outputs, "status", "--region", "us-east-1")
    assert wrong_region.code == 2
    assert "stack 'dev' lives in eu-west-1, not us-east-1: wrong region" in wrong_region.err

    unknown_queue = ops(capsys, outputs, "dlq", "show", "audit")
    assert unknown_queue.code == 2
    assert (
        "no failure queue 'audit' in stack 'dev'; known: notify-failures, customer-status-failures" in unknown_queue.err
    )


def test_credentials_of_another_account_are_refused(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, outputs: Path
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")

    run = ops(capsys, outputs, "status")

    assert run.code == 2
    assert "these credentials act in account 210987654321, but stack 'dev' is in account 123456789012" in run.err


def test_the_outputs_come_from_the_pulumi_cli_for_the_named_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["status", "--stack", "dev"]) == 2
    assert "no pulumi CLI on PATH: give the stack's outputs with --outputs FILE" in capsys.readouterr().err

    pulumi = tmp_path / "pulumi"
    pulumi.write_text("#!/bin/sh\n")
    pulumi.chmod(0o755)
    commands: list[list[str]] = []

    def unknown_stack(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 255, "", "error: no stack named 'nope' found\n")

    assert main(["status", "--stack", "nope"], run=unknown_stack) == 2
    assert commands == [["pulumi", "stack", "output", "--json", "--stack", "nope"]]
    assert "stack nope: `pulumi stack output --json --stack nope` failed: error: no stack named 'nope' found" in (
        capsys.readouterr().err
    )


def test_make_ops_runs_the_tool_and_keeps_its_message(outputs: Path) -> None:
    no_credentials: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    result = run_make(PROJECT_DIR, "ops", f"ARGS=status --outputs {outputs}", env=no_credentials)

    assert result.returncode == 2
    assert "error: no AWS credentials found: pass --profile NAME, or set AWS_PROFILE or AWS_ACCESS_KEY_ID" in (
        result.stderr
    )
    assert "ops] Error 2" in result.stderr
