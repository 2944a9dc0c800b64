"""Security-group ingress and ECR scanning beyond one mutation per case: what stays undecided in a preview, how
the engine reports the ingress rule, and a bad threshold in the pack config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import policy_stack_cases  # noqa: F401 (first: it loads the case modules in their order)
import pytest
from policy_ecr_stack_cases import REPOSITORY, SCAN, registry, repository
from policy_network_cases import ADMIN, EVERYTHING, INGRESS_RULE, OPEN, SECURITY_GROUP, WEB
from policy_testkit import UNKNOWN, Res, findings, program_run, recorded, stack_findings, stack_of
from shared_pack import one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import PolicyConfigError, run_policy_pack
from policy_pack import rule
from policy_pack._core import CannotEvaluateError

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"

pytestmark = pytest.mark.usefixtures("one_pack_per_stack")


@pytest.mark.parametrize(
    ("resource_type", "props", "unknown"),
    [
        (SECURITY_GROUP, {"ingress": [WEB, {**ADMIN, "cidrBlocks": UNKNOWN}]}, "the source of ingress[1]"),
        (SECURITY_GROUP, {"ingress": [{**ADMIN, "cidrBlocks": ["0.0.0.0/0", UNKNOWN]}]}, None),
        (SECURITY_GROUP, {"ingress": [{**ADMIN, "cidrBlocks": ["10.0.0.0/8", UNKNOWN]}]}, "the source of ingress[0]"),
        (SECURITY_GROUP, {"ingress": [{**ADMIN, "fromPort": UNKNOWN}]}, "the port range of ingress[0]"),
        (SECURITY_GROUP, {"ingress": UNKNOWN}, "ingress"),
        (INGRESS_RULE, {"ipProtocol": "-1", "cidrIpv4": UNKNOWN}, "the source of the rule"),
    ],
    ids=["unknown-source", "open-beside-unknown", "closed-beside-unknown", "unknown-port", "unknown-list", "rule"],
)
def test_policy_open_ingress_unknown_in_a_preview_is_undecided_never_a_finding(
    resource_type: str, props: dict[str, Any], unknown: str | None
) -> None:
    if unknown is None:
        assert findings(OPEN, resource_type, props) != []
        return
    with pytest.raises(CannotEvaluateError, match=re.escape(f"cannot evaluate: {unknown} is not known")):
        findings(OPEN, resource_type, props)


def test_policy_open_ingress_an_unknown_source_of_a_public_port_is_decided() -> None:
    # HTTPS is allowed from anywhere, so whoever the source turns out to be, nothing is reported.
    assert findings(OPEN, SECURITY_GROUP, {"ingress": [{**WEB, "cidrBlocks": UNKNOWN}]}) == []


def test_policy_open_ingress_ignores_egress() -> None:
    assert findings(OPEN, SECURITY_GROUP, {"ingress": [], "egress": [EVERYTHING]}) == []


def test_policy_ecr_tags_unknown_in_a_preview_is_undecided() -> None:
    with pytest.raises(CannotEvaluateError, match="cannot evaluate: imageTagMutability is not known"):
        findings("ecr-image-tags-immutable", REPOSITORY, {"name": "app", "imageTagMutability": UNKNOWN})


def test_policy_ecr_scan_undecided_when_a_named_filter_meets_an_unknown_name() -> None:
    unnamed = Res(REPOSITORY, "app", {"name": UNKNOWN, "arn": UNKNOWN})
    with pytest.raises(CannotEvaluateError, match="whether the registry scanning configuration covers app"):
        stack_findings(SCAN, unnamed, registry("orders-*"))
    with pytest.raises(CannotEvaluateError, match="imageScanningConfiguration of app"):
        stack_findings(SCAN, Res(REPOSITORY, "app", {"name": "app", "imageScanningConfiguration": UNKNOWN}))


def test_policy_ecr_scan_reports_a_repository_beside_an_undecided_one() -> None:
    unnamed = Res(REPOSITORY, "app", {"name": UNKNOWN, "arn": UNKNOWN})
    outcome = rule(SCAN).outcome(stack_of(repository("billing", scan_on_push=False), unnamed, registry("orders-*")))
    assert [(finding.urn or "").rsplit("::", 1)[-1] for finding in outcome.findings] == ["billing"]
    assert outcome.undecided == ["cannot evaluate: whether the registry scanning configuration covers app"]


def test_policy_open_ingress_is_mandatory_on_the_engine_path() -> None:
    group = {"vpcId": "vpc-1", "ingress": [WEB, {**ADMIN, "cidrBlocks": ["0.0.0.0/0"]}], "egress": [EVERYTHING]}
    report = run_policy_pack(program_run(recorded(SECURITY_GROUP, "web", group)), PACK_DIR)
    [violation] = report.of_policy(OPEN)
    assert violation.enforcement_level == "mandatory"
    assert "ingress[1] admits TCP port 22 (remote administration: 22 SSH) from 0.0.0.0/0" in violation.message


def test_policy_open_ingress_reads_the_configured_ports_as_the_engine_sends_them() -> None:
    # The engine passes the config's numbers as floats: the message still names whole ports.
    every_port = {"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}
    run = program_run(recorded(SECURITY_GROUP, "web", {"vpcId": "vpc-1", "ingress": [every_port]}))
    [violation] = run_policy_pack(run, PACK_DIR, {OPEN: {"allowedTcpPorts": [443, 8443]}}).of_policy(OPEN)
    assert "ingress[0] admits TCP ports 0-442, 444-8442, 8444-65535 (remote administration" in violation.message


@pytest.mark.parametrize(
    ("value", "where"),
    [(["https"], "allowedTcpPorts.0"), ([80, 70000], "allowedTcpPorts.1"), ("443", "allowedTcpPorts")],
)
def test_policy_open_ingress_bad_port_config_names_the_policy_and_key(value: Any, where: str) -> None:
    with pytest.raises(PolicyConfigError, match=rf"^{OPEN}\.{where}: "):
        run_policy_pack(program_run(), PACK_DIR, {OPEN: {"allowedTcpPorts": value}})
