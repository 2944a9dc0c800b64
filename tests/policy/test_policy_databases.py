"""Databases reachable from the internet, unencrypted Redshift, deletion protection, backups and engine versions beyond
one mutation per case: what stays undecided in a preview, how the engine reports the rules, the dated version table
and bad config."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import policy_stack_cases  # noqa: F401 (first: it loads the case modules in their order)
import pytest
from policy_cases import BASELINES, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE
from policy_coverage_stack_cases import RANDOM_PASSWORD
from policy_database_cases import (
    BACKUPS,
    ENGINE_VERSION,
    MULTI_AZ,
    PUBLIC,
    REDSHIFT,
    REDSHIFT_ENCRYPTED,
    REDSHIFT_PUBLIC,
)
from policy_database_stack_cases import LITERAL_PASSWORD
from policy_testkit import DELETE, UNKNOWN, Res, findings, patched, program_run, recorded, stack_findings, stack_of
from pulumi_policy import PolicyResource
from shared_pack import one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import PolicyConfigError, run_policy_pack
from policy_pack import _core, rds, rule
from policy_pack._core import CannotEvaluateError, StackView, stack_config_values
from policy_pack.figures import FigureFileError

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


# ---- rds-engine-version-supported


@pytest.mark.parametrize(
    ("type_", "changes", "unknown"),
    [
        (RDS_INSTANCE, {"engineVersion": UNKNOWN}, "engineVersion"),
        (RDS_INSTANCE, {"engine": UNKNOWN, "engineVersion": "11.22"}, "engine"),
        (RDS_CLUSTER, {"engineVersion": UNKNOWN}, "engineVersion"),
    ],
    ids=["version", "engine", "cluster-version"],
)
def test_policy_engine_version_unknown_in_a_preview_is_undecided_never_a_finding(
    type_: str, changes: dict[str, Any], unknown: str
) -> None:
    with pytest.raises(CannotEvaluateError, match=f"cannot evaluate: {unknown} is not known"):
        findings(ENGINE_VERSION, type_, patched(BASELINES[type_], changes))


def test_policy_engine_version_of_an_undated_engine_is_not_read_so_unknown_does_not_matter() -> None:
    props = patched(BASELINES[RDS_INSTANCE], {"engine": "oracle-ee", "engineVersion": UNKNOWN})
    assert findings(ENGINE_VERSION, RDS_INSTANCE, props) == []


def test_policy_engine_version_lifecycle_unknown_still_reports_the_version_past_its_date() -> None:
    props = patched(BASELINES[RDS_INSTANCE], {"engineVersion": "11.22", "engineLifecycleSupport": UNKNOWN})
    [finding] = findings(ENGINE_VERSION, RDS_INSTANCE, props)
    assert "AWS enrolls the database in RDS Extended Support" in finding


@pytest.mark.parametrize(
    ("today", "fails"),
    [(date(2027, 2, 27), False), (date(2027, 2, 28), True), (date(2027, 3, 1), True)],
    ids=["day-before", "on-the-date", "day-after"],
)
def test_policy_engine_version_fails_from_the_last_day_of_standard_support(
    today: date, fails: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rds, "today_utc", lambda: today)
    props = patched(BASELINES[RDS_INSTANCE], {"engineVersion": "14.15"})
    found = findings(ENGINE_VERSION, RDS_INSTANCE, props)
    assert bool(found) is fails, found
    if fails:
        assert "is postgres 14, whose RDS standard support ended on 2027-02-28" in found[0]


@pytest.mark.parametrize(
    ("engine", "version", "major"),
    [
        ("mysql", "8.0.40", "8.0"),
        ("mysql", "5.7", "5.7"),
        ("mysql", "8", None),
        ("mariadb", "10.6.19", "10.6"),
        ("postgres", "14.15", "14"),
        ("postgres", "16", "16"),
        ("postgres", "9.6.24", "9.6"),
        ("aurora-postgresql", "13.12", "13"),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", "2"),
        ("aurora-mysql", "8.0.mysql_aurora.3.08.1", "3"),
        ("aurora-mysql", "8.0", "3"),
        ("aurora-mysql", "5.6.10a", "1"),
        ("aurora-mysql", "8.4", None),
        ("sqlserver-ex", "15.00.4415.2.v1", None),
        ("postgres", "latest", None),
    ],
)
def test_policy_engine_major_version_is_read_as_the_table_names_it(
    engine: str, version: str, major: str | None
) -> None:
    assert rds.major_version(engine, version) == major


def test_policy_engine_version_table_dates_the_versions_reviewers_named() -> None:
    table = rds.engine_version_table()
    wanted = {
        ("mysql", "5.7"),
        ("mysql", "8.0"),
        *(("postgres", major) for major in ("11", "12", "13", "14")),
        ("aurora-mysql", "2"),
        ("aurora-mysql", "3"),
        *(("aurora-postgresql", major) for major in ("11", "12", "13")),
        *(("mariadb", major) for major in ("10.4", "10.5", "10.6")),
    }
    assert wanted <= set(table)
    assert table["mysql", "5.7"].standard_support_ends == date(2024, 2, 29)
    assert table["aurora-mysql", "2"].standard_support_ends == date(2024, 10, 31)
    for row in table.values():
        assert row.source.startswith(("https://docs.aws.amazon.com/", "https://aws.amazon.com/blogs/")), row
        assert date.fromisoformat(row.as_of) >= date(2026, 12, 1), row


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine,major,ends,source,as_of,note\n", "header must be"),
        (",".join(rds.ENGINE_VERSION_COLUMNS) + "\nmysql,5.7,2024-02-29,https://x,2026-12-07\n", "row 2 has 5 cells"),
        (",".join(rds.ENGINE_VERSION_COLUMNS) + "\nmysql,5.7,29 Feb 2024,https://x,2026-12-07,\n", "row 2: Invalid"),
        (
            ",".join(rds.ENGINE_VERSION_COLUMNS) + "\n" + "mysql,5.7,2024-02-29,https://x,2026-12-07,stated\n" * 2,
            "row 3 repeats mysql 5.7",
        ),
    ],
)
def test_policy_engine_version_table_rejects_a_malformed_file_naming_the_row(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "versions.csv"
    path.write_text("# a comment\n" + text)
    with pytest.raises(FigureFileError, match=message):
        rds.load_engine_version_table(path)


def test_policy_unsupported_engine_version_is_mandatory_on_the_engine_path() -> None:
    database = patched(
        BASELINES[RDS_INSTANCE], {"engine": "mysql", "engineVersion": "5.7.44", "storageEncrypted": True}
    )
    report = run_policy_pack(program_run(recorded(RDS_INSTANCE, "legacy-db", database)), PACK_DIR)
    [violation] = report.of_policy(ENGINE_VERSION)
    assert violation.enforcement_level == "mandatory"
    assert "engineVersion '5.7.44' is mysql 5.7, whose RDS standard support ended on 2024-02-29" in violation.message
    assert "[pack rule | serverless-well-architected@" in violation.message


@pytest.mark.parametrize("entry", ["postgres 14", "postgres:", "Postgres:14", "postgres:14.x"])
def test_policy_engine_version_config_names_engine_and_major_version(entry: str) -> None:
    with pytest.raises(PolicyConfigError, match=rf"^{ENGINE_VERSION}\.additionalUnsupportedVersions"):
        run_policy_pack(program_run(), PACK_DIR, {ENGINE_VERSION: {"additionalUnsupportedVersions": [entry]}})


# ---- rds-no-literal-password

# How the engine sends a password: pulumi_aws marks password and masterPassword secret whatever their origin
# (Output.secret in rds.Instance and rds.Cluster), so the secret marker cannot tell a literal from a config secret.
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def _secret(value: str) -> dict[str, str]:
    return {**SECRET_SIG, "value": value}


@pytest.mark.parametrize(
    ("config", "fails"),
    [
        ({"aws:region": "eu-west-1"}, True),
        ({"aws:region": "eu-west-1", "orderflow:dbPassword": "change-me-please"}, False),
    ],
    ids=["literal", "stack-config-secret"],
)
def test_policy_literal_password_is_mandatory_on_the_engine_path_and_a_config_value_is_not_one(
    config: dict[str, str], fails: bool
) -> None:
    database = patched(BASELINES[RDS_INSTANCE], {"password": _secret("change-me-please"), "username": "app"})
    run = program_run(recorded(RDS_INSTANCE, "app-db", database), config=config)
    report = run_policy_pack(run, PACK_DIR)
    found = report.of_policy(LITERAL_PASSWORD)
    if not fails:
        assert found == []
        return
    [violation] = found
    assert violation.enforcement_level == "mandatory"
    assert "app-db.password is written into the program" in violation.message
    assert "change-me-please" not in violation.message  # the value itself is never echoed
    assert "[cfn_nag F23 (instances) | serverless-well-architected@" in violation.message


def test_policy_literal_password_unknown_in_a_preview_is_neither_a_finding_nor_a_note() -> None:
    password = Res(RANDOM_PASSWORD, "db-password", {"length": 32, "result": UNKNOWN})
    database = Res(RDS_INSTANCE, "app-db", {"engine": "postgres", "password": UNKNOWN}, {"password": [password.urn]})
    outcome = rule(LITERAL_PASSWORD).outcome(stack_of(password, database))
    assert outcome.findings == [] and not outcome.undecided


def test_policy_literal_password_built_from_a_config_value_is_still_written_into_the_program() -> None:
    database = Res(RDS_INSTANCE, "app-db", {"engine": "postgres", "password": "prefix-from-config"})
    found = stack_findings(LITERAL_PASSWORD, database, stack_config={"orderflow:dbPassword": "from-config"})
    assert [name for name, _ in found] == ["app-db"]


STRUCTURED = '{"user": "app", "password": "p", "hosts": ["h1"], "port": 5432}'


@pytest.mark.parametrize(
    ("config", "values"),
    [
        ({"orderflow:a": "x", "aws:region": "eu-west-1"}, {"x", "eu-west-1"}),
        ({"orderflow:empty": "", "orderflow:blank": "  "}, set()),
        ({"orderflow:db": STRUCTURED}, {STRUCTURED, "app", "p", "h1"}),
        ({"orderflow:not-json": "{oops"}, {"{oops"}),
    ],
    ids=["plain", "empty", "structured", "not-json"],
)
def test_policy_stack_config_values_are_every_string_of_the_config(config: dict[str, str], values: set[str]) -> None:
    assert stack_config_values(config) == values


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'], ids=["not-json", "a-list", "a-string"])
def test_policy_unreadable_engine_config_is_no_config_not_a_failure(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", raw)
    monkeypatch.setattr(_core._LAST_VIEW, "entry", None)  # a view is reused for the same property objects only
    database = Res(RDS_INSTANCE, "app-db", {"engine": "postgres", "password": "change-me-please"})
    view = StackView.from_policy_resources([_policy_resource(database)])
    assert view.config_values == frozenset()
    assert [f.urn for f in rule(LITERAL_PASSWORD).findings(view)] == [database.urn]


def test_policy_engine_config_reaches_the_stack_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", '{"orderflow:dbPassword": "change-me-please"}')
    monkeypatch.setattr(_core._LAST_VIEW, "entry", None)
    database = Res(RDS_INSTANCE, "app-db-2", {"engine": "postgres", "password": "change-me-please"})
    view = StackView.from_policy_resources([_policy_resource(database)])
    assert "change-me-please" in view.config_values
    assert rule(LITERAL_PASSWORD).findings(view) == []


def _policy_resource(res: Res) -> PolicyResource:
    return PolicyResource(res.type, dict(res.props), res.urn, res.name, None, None, None, [], {})  # type: ignore[arg-type]
