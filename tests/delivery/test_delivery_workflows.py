"""The GitHub Actions workflows: valid for actionlint, and shaped as the delivery process needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def test_every_workflow_passes_actionlint() -> None:
    assert len(WORKFLOWS) == 3
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    result = actionlint(broken)
    assert result.returncode != 0 and 'property "nope" is not defined' in result.stdout


def test_pull_requests_preview_each_stack_with_the_policy_pack() -> None:
    workflow = load("pull-request.yml")
    assert "pull_request" in workflow["on"]
    preview = workflow["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert preview["permissions"]["id-token"] == "write"
    steps = {step.get("name", ""): step for step in preview["steps"]}
    pulumi = steps["pulumi preview with the policy pack"]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
    fork = steps["Offline plan and policy gate (fork, no secrets)"]
    assert fork["if"] == "env.FROM_FORK == 'true'"
    assert fork["run"] == "make preview STACK=${{ matrix.stack }}"


def test_main_deploys_dev_then_prod_through_environments() -> None:
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["jobs"]["prod"]["needs"] == "dev"
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"
    steps = {step.get("name", ""): step for step in up["steps"]}
    assert steps["pulumi up with the policy pack"]["with"]["policyPacks"] == "policy"
    assert "role-to-assume" in steps["AWS credentials (OIDC, deploy role of this environment)"]["with"]


def test_no_long_lived_aws_keys_anywhere() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name
