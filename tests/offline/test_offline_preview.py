"""``make preview``'s offline plan, run as a newcomer runs it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from platform import python_version

import pytest

from components.function import DEFAULT_RUNTIME
from components.layer import pinned_versions
from offline import harness, policy_client, preview
from offline.harness import run_program
from orderflow.config import StackConfigError
from tests.offline.newcomer import PROJECT_DIR, run_offline_preview

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


Plan = Callable[[str], "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The offline plan of a stack, as ``make preview`` prints it: run once per stack for this module's tests."""
    plans: dict[str, subprocess.CompletedProcess[str]] = {}

    def of(stack: str) -> subprocess.CompletedProcess[str]:
        if stack not in plans:
            plans[stack] = run_offline_preview(PROJECT_DIR, stack)
        return plans[stack]

    return of


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_offline_plan_lists_every_seed_service_and_exits_zero(stack: str, plan: Plan) -> None:
    result = plan(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Offline plan for stack {stack!r}" in result.stdout
    for service in SEED_SERVICES:
        assert service in result.stdout, service
    assert "Outputs:" in result.stdout and "apiUrl" in result.stdout
    assert "Policies:" in result.stdout and "serverless-well-architected" in result.stdout
    assert "[mandatory]" not in result.stdout
    assert "Idle cost (zero traffic): $" in result.stdout


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_offline_plan_shows_the_powertools_layer_of_the_pinned_version(stack: str, plan: Plan) -> None:
    pins = pinned_versions(PROJECT_DIR / "handlers" / "requirements.txt")
    lines = plan(stack).stdout.splitlines()
    layer = lines.index(f"    layer powertools-layer (12 functions), built for {DEFAULT_RUNTIME}:")
    shown = {line.split()[0]: line.split()[1] for line in lines[layer + 1 : layer + 1 + len(pins)]}
    assert shown == pins
    assert f"    runtime {DEFAULT_RUNTIME} (12 functions); tests on Python {python_version()}" in lines
    assert "  No version skew: the functions run the Python and packages the tests run." in lines


def test_offline_plan_flags_a_powertools_layer_override(capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"
    run = run_program("dev", config_overrides={"orderflow:powertoolsLayerArn": arn})
    assert not run.of_type("aws:lambda/layerVersion:LayerVersion")[0].name.startswith("powertools")
    preview.print_versions(run)
    shown = capsys.readouterr().out
    assert f"    layer {arn} (12 functions): NOT CHECKED, not built by the program" in shown
    assert f"  OVERRIDE orderflow:powertoolsLayerArn = {arn} (Pulumi.dev.yaml)" in shown
    assert "No version skew" not in shown


def test_dev_idles_at_zero_dollars(plan: Plan) -> None:
    assert "Idle cost (zero traffic): $0.00/month" in plan("dev").stdout


def test_the_dev_and_prod_plans_show_different_physical_names(plan: Plan) -> None:
    # Auto-named resources (queues here) get a random suffix per stack in AWS: the plans must not share one.
    def queue_urls(stack: str) -> set[str]:
        result = plan(stack)
        assert result.returncode == 0, result.stderr
        return set(re.findall(r"https://sqs\.[a-z0-9-]+\.amazonaws\.com/\d+/[A-Za-z0-9_-]+", result.stdout))

    dev, prod = queue_urls("dev"), queue_urls("prod")
    assert len(dev) >= 8 and len(prod) >= 8
    assert dev.isdisjoint(prod)


def test_unknown_stack_exits_nonzero_naming_the_stack_file() -> None:
    result = run_offline_preview(PROJECT_DIR, "nope")
    assert result.returncode == 2
    assert "Pulumi.nope.yaml not found" in result.stderr


def test_bad_config_exits_nonzero_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_run(stack: str, **options: object) -> None:
        raise StackConfigError("config 'orderflow:logRetentionDays': must be at least 1, got -1")

    monkeypatch.setattr(harness, "run_program", failing_run)
    assert preview.offline_plan("dev") == 2


def test_a_pack_that_stops_answering_exits_2_naming_the_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def silent_pack(*args: object) -> None:
        raise policy_client.PolicyPackError("policy pack in policy did not answer within 60 s: still waiting on X")

    # The stream's calls run in offline.analyze_worker's process; what the plan gets from a silent pack is this.
    monkeypatch.setattr(policy_client.AnalyzeStream, "finish", silent_pack)
    assert preview.offline_plan("dev") == 2
    assert "error: policy pack in policy did not answer within 60 s: still waiting on X" in capsys.readouterr().err


def test_real_preview_is_used_only_with_cli_and_credentials(tmp_path: Path) -> None:
    assert not preview.has_aws_credentials({}, home=tmp_path)
    assert preview.has_aws_credentials({"AWS_PROFILE": "ops"}, home=tmp_path)
    command = preview.pulumi_preview_command("prod")
    assert command[:4] == ["pulumi", "preview", "--stack", "prod"]
    assert command[command.index("--policy-pack") + 1].endswith("/policy")
    assert command[command.index("--policy-pack-config") + 1].endswith("policy/config/prod.json")
