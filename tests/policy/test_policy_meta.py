"""The pack as a whole: every rule has passing and failing cases, complete metadata, and a README row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from policy_cases import CASES
from policy_stack_cases import STACK_CASES

from policy_pack import ALL_RULES, PACK_NAME, PACK_VERSION
from policy_pack._core import RuleInfo

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"


def _pulumi_aws_dir() -> Path:
    import pulumi_aws

    return Path(pulumi_aws.__file__).parent


RULE_IDS = [rule.name for rule in ALL_RULES]


@pytest.mark.parametrize("name", RULE_IDS)
def test_policy_every_rule_has_passing_and_failing_cases(name: str) -> None:
    outcomes = {case.fails for case in CASES if case.rule == name} | {
        case.fails for case in STACK_CASES if case.rule == name
    }
    assert outcomes == {True, False}, f"{name}: needs a compliant case and a failing case"


def test_policy_cases_only_name_rules_of_the_pack() -> None:
    known = set(RULE_IDS)
    assert {case.rule for case in CASES} <= known
    assert {case.rule for case in STACK_CASES} <= known


def test_policy_rule_names_are_unique_kebab_case() -> None:
    assert len(RULE_IDS) == len(set(RULE_IDS))
    for name in RULE_IDS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name), name
        assert name != "all"
    assert re.fullmatch(r"[a-zA-Z0-9-_.]{1,100}", PACK_NAME)


@pytest.mark.parametrize("rule", ALL_RULES, ids=RULE_IDS)
def test_policy_rule_metadata_is_complete(rule: object) -> None:
    info: RuleInfo = rule.info  # type: ignore[attr-defined]
    assert info.summary and not info.summary.endswith(".")
    assert "\n" not in info.description and len(info.description) <= 240, "a one-line header"
    assert all(anchor in info.trailer for anchor in info.anchors) and info.trailer.endswith(f"@{PACK_VERSION}]")
    assert info.severity is not None and info.enforcement_level is not None
    assert info.resource_types, "every rule says which types it inspects"
    for key, schema in info.config.items():
        assert "type" in schema and "default" in schema, f"{info.name}.{key} needs a type and a default"


def test_policy_inspected_types_exist_in_pulumi_aws() -> None:
    root = _pulumi_aws_dir()
    for info in (rule.info for rule in ALL_RULES):
        for token in info.resource_types:
            module, name = token.split(":")[1].split("/")
            package = "lambda_" if module == "lambda" else module
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            candidates = [root / package / f"{snake}.py", *sorted((root / package).glob("*.py"))]
            assert any(f"'{token}'" in path.read_text() for path in candidates if path.is_file()), (
                f"{info.name}: pulumi_aws has no type {token}"
            )


def test_policy_manifest_matches_the_pack() -> None:
    manifest = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert str(manifest["version"]) == PACK_VERSION


def test_policy_readme_lists_every_rule_with_anchors_severity_level_and_config() -> None:
    readme = (POLICY_DIR / "README.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in readme.splitlines() if line.startswith("| `")}
    for info in (rule.info for rule in ALL_RULES):
        row = rows.get(info.name)
        assert row is not None, f"README has no row for {info.name}"
        assert info.severity.value in row and info.enforcement_level.value in row, info.name
        for anchor in info.anchors:
            assert anchor in row, f"README row of {info.name} misses {anchor}"
        for key in info.config:
            assert f"`{key}`" in row, f"README row of {info.name} misses config {key}"


def test_policy_adopt_config_keeps_only_high_severity_security_and_failure_path_rules_mandatory() -> None:
    import json

    adopt = json.loads((POLICY_DIR / "config" / "adopt.json").read_text())
    assert adopt.pop("all") == "advisory"
    by_name = {rule.name: rule.info for rule in ALL_RULES}
    for name, level in adopt.items():
        assert level == "mandatory" and by_name[name].severity.value in ("high", "critical"), name
    assert {
        "sqs-dlq-admits-writer",
        "lambda-failure-destination-writable",
        "resource-policy-no-public-principal",
    } <= set(adopt)
    assert "lambda-reserved-concurrency" not in adopt and "idle-cost-budget" not in adopt


def test_policy_reserved_concurrency_is_mandatory_only_where_a_stack_says_so() -> None:
    import json

    reserved = next(rule for rule in ALL_RULES if rule.name == "lambda-reserved-concurrency")
    assert reserved.info.enforcement_level.value == "advisory"
    prod = json.loads((POLICY_DIR / "config" / "prod.json").read_text())
    assert prod["lambda-reserved-concurrency"]["enforcementLevel"] == "mandatory"
    retry = next(rule for rule in ALL_RULES if rule.name == "eventbridge-target-retry-policy")
    assert retry.info.enforcement_level.value == "advisory", "it restates an AWS default"
