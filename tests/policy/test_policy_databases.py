"""Databases reachable from the internet, unencrypted Redshift, deletion protection and backups beyond one mutation
per case: what stays undecided in a preview, how the engine reports the public-access rule, and a bad threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import policy_stack_cases  # noqa: F401 (first: it loads the case modules in their order)
import pytest
from policy_cases import BASELINES, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE
from policy_database_cases import BACKUPS, MULTI_AZ, PUBLIC, REDSHIFT, REDSHIFT_ENCRYPTED, REDSHIFT_PUBLIC
from policy_testkit import DELETE, UNKNOWN, findings, patched, program_run, recorded
from shared_pack import one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import PolicyConfigError, run_policy_pack
from policy_pack._core import CannotEvaluateError

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"

pytestmark = pytest.mark.usefixtures("one_pack_per_stack")


@pytest.mark.parametrize(
    ("rule", "type_", "changes", "unknown"),
    [
        (PUBLIC, RDS_INSTANCE, {"publiclyAccessible": UNKNOWN}, "publiclyAccessible"),
        (PUBLIC, RDS_CLUSTER_INSTANCE, {"publiclyAccessible": UNKNOWN}, "publiclyAccessible"),
        (PUBLIC, RDS_CLUSTER, {**MULTI_AZ, "publiclyAccessible": UNKNOWN}, "publiclyAccessible"),
        # Left to AWS, a Multi-AZ cluster is public only in the default subnet group: a group created beside it
        # has a name the engine does not know in a first preview.
        (PUBLIC, RDS_CLUSTER, {**MULTI_AZ, "dbSubnetGroupName": UNKNOWN}, "dbSubnetGroupName"),
        (BACKUPS, RDS_INSTANCE, {"backupRetentionPeriod": UNKNOWN}, "backupRetentionPeriod"),
        (REDSHIFT_PUBLIC, REDSHIFT, {"publiclyAccessible": UNKNOWN}, "publiclyAccessible"),
        (REDSHIFT_ENCRYPTED, REDSHIFT, {"encrypted": UNKNOWN}, "encrypted"),
    ],
    ids=["instance", "aurora-instance", "multi-az", "multi-az-subnet-group", "backups", "redshift", "encrypted"],
)
def test_policy_database_unknown_in_a_preview_is_undecided_never_a_finding(
    rule: str, type_: str, changes: dict[str, Any], unknown: str
) -> None:
    with pytest.raises(CannotEvaluateError, match=f"cannot evaluate: {unknown} is not known"):
        findings(rule, type_, patched(BASELINES[type_], changes))


def test_policy_database_subnet_group_unknown_does_not_matter_once_public_access_is_said() -> None:
    props = patched(BASELINES[RDS_CLUSTER], {**MULTI_AZ, "dbSubnetGroupName": UNKNOWN, "publiclyAccessible": False})
    assert findings(PUBLIC, RDS_CLUSTER, props) == []


def test_policy_database_aurora_cluster_is_left_to_its_instances_even_when_public_access_is_unknown() -> None:
    props = patched(BASELINES[RDS_CLUSTER], {"publiclyAccessible": UNKNOWN, "dbClusterInstanceClass": DELETE})
    assert findings(PUBLIC, RDS_CLUSTER, props) == []


def test_policy_public_database_is_mandatory_on_the_engine_path_and_nothing_is_remediated() -> None:
    database = patched(BASELINES[RDS_INSTANCE], {"publiclyAccessible": True, "storageEncrypted": True})
    report = run_policy_pack(program_run(recorded(RDS_INSTANCE, "app-db", database)), PACK_DIR)
    [violation] = report.of_policy(PUBLIC)
    assert violation.enforcement_level == "mandatory"
    assert "publiclyAccessible is true: the database gets a public address" in violation.message
    assert "AWS Security Hub RDS.2, checkov CKV_AWS_17" in violation.message
    assert not [change for change in report.remediations if change.policy_name == PUBLIC]


@pytest.mark.parametrize(("value", "where"), [(0, "minimumDays"), (36, "minimumDays"), ("7", "minimumDays")])
def test_policy_backups_bad_threshold_config_names_the_policy_and_key(value: Any, where: str) -> None:
    with pytest.raises(PolicyConfigError, match=rf"^{BACKUPS}\.{where}: "):
        run_policy_pack(program_run(), PACK_DIR, {BACKUPS: {"minimumDays": value}})
