"""EBS encryption, ECS public task addresses and EKS control-plane logs beyond one mutation per case: the pure
readers, what stays undecided in a preview, how the engine reports them, and a bad log-type list in the config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import policy_stack_cases  # noqa: F401 (first: it loads the case modules in their order)
import pytest
from policy_cases import BASELINES, ECS_SERVICE
from policy_coverage_cases import EKS_CLUSTER
from policy_ebs_stack_cases import (
    DATA,
    EBS,
    ENCRYPTED_ROOT,
    INSTANCE,
    LAUNCH_TEMPLATE,
    VOLUME,
    default_encryption,
    instance,
    mapping,
    template,
    volume,
)
from policy_infra_cases import LOGGED, LOGGING, PRIVATE, PUBLIC_IP
from policy_testkit import UNKNOWN, findings, patched, program_run, recorded, stack_findings, stack_of
from pulumi_policy.proxy import unknown_checking_proxy
from shared_pack import one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import PolicyConfigError, run_policy_pack
from policy_pack import rule
from policy_pack._core import CannotEvaluateError, Props
from policy_pack.ec2 import FROM_THE_AMI, unencrypted_volumes
from policy_pack.ec2 import default_encryption as default_encryption_of

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"

pytestmark = pytest.mark.usefixtures("one_pack_per_stack")


# ---- EBS: the pure readers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props", "found", "undecided"),
    [
        (INSTANCE, {"rootBlockDevice": ENCRYPTED_ROOT}, [], []),
        (
            INSTANCE,
            {"ebsBlockDevices": [{**DATA, "encrypted": True}, {"deviceName": "/dev/sdg", "encrypted": False}]},
            [FROM_THE_AMI.format(block="rootBlockDevice"), "ebsBlockDevices[1] (/dev/sdg)"],
            [],
        ),
        (INSTANCE, {"rootBlockDevice": {"encrypted": UNKNOWN}}, [], ["the encryption of rootBlockDevice"]),
        (INSTANCE, {"rootBlockDevice": ENCRYPTED_ROOT, "ebsBlockDevices": UNKNOWN}, [], ["the block devices"]),
        # A device restored from a snapshot follows it, known or not.
        (INSTANCE, {"rootBlockDevice": ENCRYPTED_ROOT, "ebsBlockDevices": [{"snapshotId": UNKNOWN}]}, [], []),
        (
            LAUNCH_TEMPLATE,
            {"blockDeviceMappings": [mapping(encrypted="true"), mapping("/dev/sdf")]},
            ["blockDeviceMappings[1] (/dev/sdf) (encrypted not set)"],
            [],
        ),
        (VOLUME, {"encrypted": "yes"}, ["the volume: encrypted should be a boolean, not 'yes'"], []),
    ],
    ids=["encrypted", "root-from-ami-and-one-data-device", "unknown-flag", "unknown-list", "snapshot", "lt", "bad"],
)
def test_policy_ebs_unencrypted_volumes_reads_each_device(
    resource_type: str, props: dict[str, Any], found: list[str], undecided: list[str]
) -> None:
    assert unencrypted_volumes(Props(unknown_checking_proxy(props)), resource_type) == (found, undecided)


def test_policy_ebs_default_encryption_reads_enabled_region_and_unknowns() -> None:
    assert default_encryption_of(stack_of(), "eu-west-1") is False
    assert default_encryption_of(stack_of(default_encryption()), "eu-west-1") is True
    assert default_encryption_of(stack_of(default_encryption(enabled=False)), "eu-west-1") is False
    assert default_encryption_of(stack_of(default_encryption(region="us-east-1")), "eu-west-1") is False
    assert default_encryption_of(stack_of(default_encryption(region="us-east-1")), None) is True
    assert default_encryption_of(stack_of(default_encryption(enabled=UNKNOWN)), "eu-west-1") is None
    on_beside_unknown = stack_of(default_encryption(enabled=UNKNOWN), default_encryption(enabled=True))
    assert default_encryption_of(on_beside_unknown, "eu-west-1") is True


# ---- EBS: previews -------------------------------------------------------------------------------------------------


def test_policy_ebs_unknown_default_encryption_leaves_an_unencrypted_volume_undecided() -> None:
    with pytest.raises(CannotEvaluateError, match=r"whether aws\.ebs\.EncryptionByDefault turns on default encryption"):
        stack_findings(EBS, volume(), default_encryption(enabled=UNKNOWN))


def test_policy_ebs_unknown_flag_is_undecided_never_a_finding() -> None:
    with pytest.raises(CannotEvaluateError, match=re.escape("the encryption of rootBlockDevice of web")):
        stack_findings(EBS, instance(rootBlockDevice={"encrypted": UNKNOWN}))


def test_policy_ebs_reports_a_volume_beside_an_undecided_one() -> None:
    undecided = instance("web", rootBlockDevice={"encrypted": UNKNOWN})
    outcome = rule(EBS).outcome(stack_of(undecided, volume()))
    assert [(finding.urn or "").rsplit("::", 1)[-1] for finding in outcome.findings] == ["data"]
    assert outcome.undecided == ["cannot evaluate: the encryption of rootBlockDevice of web"]


def test_policy_ebs_one_finding_per_resource_names_every_device() -> None:
    [(name, message)] = stack_findings(EBS, instance(rootBlockDevice=None, ebsBlockDevices=[DATA]))
    assert name == "web"
    assert message.startswith("instance web: the root volume (no rootBlockDevice")
    assert "; ebsBlockDevices[0] (/dev/sdf) (encrypted not set) not encrypted at rest" in message


def test_policy_ebs_is_mandatory_on_the_engine_path() -> None:
    server = {"ami": "ami-1", "instanceType": "t4g.micro", "metadataOptions": {"httpTokens": "required"}}
    report = run_policy_pack(program_run(recorded(INSTANCE, "web", server)), PACK_DIR)
    [violation] = report.of_policy(EBS)
    assert violation.enforcement_level == "mandatory"
    assert "AWS Security Hub EC2.3, AWS Security Hub EC2.7, checkov CKV_AWS_3, checkov CKV_AWS_8" in violation.message
    with_default = program_run(recorded(INSTANCE, "web", server), recorded(*_default_record()))
    assert run_policy_pack(with_default, PACK_DIR).of_policy(EBS) == []


def _default_record() -> tuple[str, str, dict[str, Any]]:
    resource = default_encryption(enabled=True)
    return resource.type, resource.name, resource.props


def test_policy_ebs_launch_template_finding_names_the_template() -> None:
    [(name, _)] = stack_findings(EBS, template(mapping(encrypted="false")))
    assert name == "nodes"


# ---- ECS and EKS ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_name", "type_", "changes", "unknown"),
    [
        (PUBLIC_IP, ECS_SERVICE, {**PRIVATE, "networkConfiguration.assignPublicIp": UNKNOWN}, "networkConfiguration"),
        (PUBLIC_IP, ECS_SERVICE, {"networkConfiguration": UNKNOWN}, "networkConfiguration"),
        (LOGGING, EKS_CLUSTER, {"enabledClusterLogTypes": UNKNOWN}, "enabledClusterLogTypes"),
        (LOGGING, EKS_CLUSTER, {"enabledClusterLogTypes": ["api", UNKNOWN]}, "enabledClusterLogTypes"),
    ],
    ids=["assign-public-ip", "network-configuration", "log-types", "one-log-type"],
)
def test_policy_infra_unknown_in_a_preview_is_undecided_never_a_finding(
    rule_name: str, type_: str, changes: dict[str, Any], unknown: str
) -> None:
    with pytest.raises(CannotEvaluateError, match=f"cannot evaluate: {unknown}"):
        findings(rule_name, type_, patched(BASELINES[type_], changes))


def test_policy_eks_logging_an_unknown_type_beside_the_required_ones_is_decided() -> None:
    props = patched(BASELINES[EKS_CLUSTER], {"enabledClusterLogTypes": [*LOGGED["enabledClusterLogTypes"], UNKNOWN]})
    assert findings(LOGGING, EKS_CLUSTER, props) == []


def test_policy_ecs_public_ip_is_advisory_on_the_engine_path_and_says_why() -> None:
    service = patched(BASELINES[ECS_SERVICE], {**PRIVATE, "networkConfiguration.assignPublicIp": True})
    report = run_policy_pack(program_run(recorded(ECS_SERVICE, "api", service)), PACK_DIR)
    [violation] = report.of_policy(PUBLIC_IP)
    assert violation.enforcement_level == "advisory"
    assert "no-nat-gateway rules out a NAT gateway" in violation.message
    assert "AWS Security Hub ECS.2, checkov CKV_AWS_333" in violation.message


@pytest.mark.parametrize(
    "value",
    [["api", "authenticator"], ["audit", "kubelet"], ["audit", "audit"], "audit"],
    ids=["without-audit", "unknown-type", "twice", "not-a-list"],
)
def test_policy_eks_logging_bad_log_type_config_names_the_policy_and_key(value: Any) -> None:
    with pytest.raises(PolicyConfigError, match=rf"^{LOGGING}\.requiredLogTypes"):
        run_policy_pack(program_run(), PACK_DIR, {LOGGING: {"requiredLogTypes": value}})
