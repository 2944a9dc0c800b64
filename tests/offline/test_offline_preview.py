"""``make preview``'s offline plan, run as a newcomer runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from offline import preview
from orderflow.config import StackConfigError

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEED_SERVICES = [
    "aws:apigatewayv2/",
    "aws:lambda/function:Function",
    "aws:cloudwatch/eventBus:EventBus",
    "aws:sfn/stateMachine:StateMachine",
    "aws:sqs/queue:Queue",
    "aws:sns/topic:Topic",
    "aws:dynamodb/table:Table",
    "aws:s3/bucket:Bucket",
    "aws:iot/authorizer:Authorizer",
]


def run_preview(stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.preview", "--offline", "--stack", stack],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_offline_plan_lists_every_seed_service_and_exits_zero(stack: str) -> None:
    result = run_preview(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Offline plan for stack {stack!r}" in result.stdout
    for service in SEED_SERVICES:
        assert service in result.stdout, service
    assert "Outputs:" in result.stdout and "apiUrl" in result.stdout
    assert "Policies:" in result.stdout and "serverless-well-architected" in result.stdout
    assert "[mandatory]" not in result.stdout
    assert "Idle cost (zero traffic): $" in result.stdout


def test_dev_idles_at_zero_dollars() -> None:
    assert "Idle cost (zero traffic): $0.00/month" in run_preview("dev").stdout


def test_unknown_stack_exits_nonzero_naming_the_stack_file() -> None:
    result = run_preview("nope")
    assert result.returncode == 2
    assert "Pulumi.nope.yaml not found" in result.stderr


def test_bad_config_exits_nonzero_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_run(stack: str) -> None:
        raise StackConfigError("config 'orderflow:logRetentionDays': must be at least 1, got -1")

    monkeypatch.setattr(preview, "run_program", failing_run)
    assert preview.offline_plan("dev") == 2


def test_real_preview_is_used_only_with_cli_and_credentials(tmp_path: Path) -> None:
    assert not preview.has_aws_credentials({}, home=tmp_path)
    assert preview.has_aws_credentials({"AWS_PROFILE": "ops"}, home=tmp_path)
    command = preview.pulumi_preview_command("prod")
    assert command[:4] == ["pulumi", "preview", "--stack", "prod"]
    assert command[command.index("--policy-pack") + 1].endswith("/policy")
    assert command[command.index("--policy-pack-config") + 1].endswith("policy/config/prod.json")
