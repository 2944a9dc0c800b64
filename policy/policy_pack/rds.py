"""Amazon RDS: encryption, no public database, deletion protection, backups, engine versions, master passwords.

The support dates are the dated table ``data/rds_engine_versions.csv`` (one row per engine and major version,
with the last day of RDS standard support, the page it came from and when it was read);
``rds-engine-version-supported`` compares them with today's date (UTC), so the pack needs no release to notice
that a version has left standard support.

``rds-no-literal-password`` is a stack rule: telling a password written into the program from one another
resource generated needs the property dependencies the engine records, and telling it from a config value needs
the stack's config (:attr:`policy_pack._core.StackView.config_values`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    CannotEvaluateError,
    Finding,
    Props,
    ResourceRule,
    StackRule,
    StackView,
    literal_text,
    must_be_true,
    today_utc,
)
from policy_pack.compute import RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE
from policy_pack.figures import DATA_DIR, FigureFileError

SERVICE: Final = "rds"

ENGINE_VERSIONS_FILE: Final = DATA_DIR / "rds_engine_versions.csv"
ENGINE_VERSION_COLUMNS: Final = ("engine", "major_version", "standard_support_ends", "source", "as_of", "note")
# RDS Extended Support does not cover these engines: past the date AWS stops supporting the major version.
NO_EXTENDED_SUPPORT: Final = frozenset({"mariadb"})
# What engineLifecycleSupport says when a database opted out of RDS Extended Support at create or restore.
EXTENDED_SUPPORT_DISABLED: Final = "open-source-rds-extended-support-disabled"
# Aurora MySQL's major versions by the MySQL major version they are compatible with (engineVersion "8.0" or
# "8.0.mysql_aurora.3.08.1").
AURORA_MYSQL_MAJOR: Final = {"5.6": "1", "5.7": "2", "8.0": "3"}
# The master password inputs of each database type (the *Wo ones are write-only: never kept in state, but still
# written into the program when they are literals).
PASSWORD_KEYS: Final = {RDS_INSTANCE: ("password", "passwordWo"), RDS_CLUSTER: ("masterPassword", "masterPasswordWo")}
_LEADING_VERSION: Final = re.compile(r"^(\d+)(?:\.(\d+))?")

# The subnet group a DB cluster gets when it names none, or names this one: AWS then makes a Multi-AZ DB
# cluster publicly accessible unless told otherwise (pulumi_aws rds.Cluster, publicly_accessible).
DEFAULT_SUBNET_GROUP: Final = "default"


def _storage_encrypted(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RDS_INSTANCE and props.is_set("replicateSourceDb"):
        return  # a read replica is encrypted exactly when its source is
    if resource_type == RDS_CLUSTER and props.text("engineMode", "provisioned") == "serverless":
        return  # Aurora Serverless v1 clusters are always encrypted
    if props.flag("storageEncrypted", False) is not True:
        yield (
            "storageEncrypted is not true: the database, its backups, snapshots and replicas are stored "
            "unencrypted, and encryption cannot be turned on later without a copy and a restore"
        )


def _not_publicly_accessible(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RDS_CLUSTER:
        if not props.is_set("dbClusterInstanceClass"):
            return  # an Aurora cluster: its instances say whether they are public, each checked on its own
        if not props.has("publiclyAccessible"):
            # Not set: AWS decides from the subnet group, which may itself be unknown in a preview.
            public = props.text("dbSubnetGroupName", DEFAULT_SUBNET_GROUP) == DEFAULT_SUBNET_GROUP
            unset = " (not set, and the cluster has no subnet group of its own, so AWS makes it public)"
        else:
            public, unset = props.flag("publiclyAccessible"), ""
    else:
        public, unset = props.flag("publiclyAccessible", False), ""
    if public is True:
        yield (
            f"publiclyAccessible is true{unset}: the database gets a public address, so anyone on the internet "
            "whom a security group admits can reach its port and try its credentials; set publiclyAccessible "
            "false and reach it from inside the VPC (the application's subnets, a bastion through SSM Session "
            "Manager, a VPN)"
        )


def _automated_backups(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.is_set("replicateSourceDb"):
        return  # a read replica keeps no automated backups of its own; its source does
    minimum = int(config["minimumDays"])
    # AWS keeps 1 day when the API is not told (pulumi_aws's "Default is 0" is the provider's doc, not AWS's).
    days = props.number("backupRetentionPeriod", 1)
    if days < minimum:
        plural = "" if days == 1 else "s"
        what = "automated backups are off" if days == 0 else f"automated backups are kept {days:g} day{plural}"
        yield (
            f"backupRetentionPeriod is {days:g}: {what}, so the database cannot be restored to a point in time "
            f"before that; set backupRetentionPeriod to at least {minimum} (up to 35)"
        )


@dataclass(frozen=True)
class EngineSupport:
    """One row of the engine version table."""

    engine: str
    major_version: str
    standard_support_ends: date
    """The last day of RDS (or Aurora) standard support for the major version."""
    source: str
    as_of: str


def load_engine_version_table(path: Path) -> Mapping[tuple[str, str], EngineSupport]:
    """An engine version table read from ``path`` (``#`` lines are comments), by engine and major version.

    Raises
    ------
    FigureFileError
        When the header is not :data:`ENGINE_VERSION_COLUMNS`, a row has the wrong number of cells, a date does
        not parse, or an engine and major version repeat; the message names the file and the row.
    """
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    rows = csv.reader(lines)
    header = next(rows, None)
    if tuple(header or ()) != ENGINE_VERSION_COLUMNS:
        raise FigureFileError(f"{path.name}: header must be {','.join(ENGINE_VERSION_COLUMNS)}, got {header}")
    table: dict[tuple[str, str], EngineSupport] = {}
    for number, row in enumerate(rows, start=2):
        if len(row) != len(ENGINE_VERSION_COLUMNS):
            raise FigureFileError(
                f"{path.name}: row {number} has {len(row)} cells, expected {len(ENGINE_VERSION_COLUMNS)}"
            )
        engine, major, ends, source, as_of, _note = (cell.strip() for cell in row)
        if (engine, major) in table:
            raise FigureFileError(f"{path.name}: row {number} repeats {engine} {major}")
        try:
            table[engine, major] = EngineSupport(engine, major, date.fromisoformat(ends), source, as_of)
        except ValueError as error:
            raise FigureFileError(f"{path.name}: row {number}: {error}") from error
    return table


@cache
def engine_version_table() -> Mapping[tuple[str, str], EngineSupport]:
    """The pack's engine version table (``data/rds_engine_versions.csv``)."""
    return load_engine_version_table(ENGINE_VERSIONS_FILE)


def major_version(engine: str, version: str) -> str | None:
    """The major version an ``engineVersion`` of ``engine`` belongs to, as the table names it, or ``None``.

    ``None`` when the pack cannot tell: an engine it has no rule for, a version it cannot read.

    MySQL and MariaDB majors have two parts (``8.0``), PostgreSQL 10 and later one (``14``, ``9.6`` before);
    an Aurora MySQL version is its Aurora major (``2`` for ``5.7.mysql_aurora.2.11.2`` or ``5.7``).
    """
    match = _LEADING_VERSION.match(version.strip())
    if match is None:
        return None
    first, second = match.group(1), match.group(2)
    if engine in ("mysql", "mariadb"):
        return f"{first}.{second}" if second is not None else None
    if engine in ("postgres", "aurora-postgresql"):
        if int(first) >= 10:
            return first
        return f"{first}.{second}" if second is not None else None
    if engine == "aurora-mysql":
        _, marker, aurora = version.partition("mysql_aurora.")
        if marker:
            aurora_match = _LEADING_VERSION.match(aurora)
            return aurora_match.group(1) if aurora_match is not None else None
        return AURORA_MYSQL_MAJOR.get(f"{first}.{second}") if second is not None else None
    return None


def _after_standard_support(engine: str, props: Props) -> str:
    if engine in NO_EXTENDED_SUPPORT:
        return (
            "RDS Extended Support does not cover this engine, so AWS no longer fixes the version and upgrades the "
            "database to a supported major version on its own schedule"
        )
    try:
        opted_out = props.text("engineLifecycleSupport", "") == EXTENDED_SUPPORT_DISABLED
    except CannotEvaluateError:
        opted_out = False  # unknown in a preview: the version is past its date either way
    if opted_out:
        return (
            "engineLifecycleSupport opts out of RDS Extended Support, so AWS upgrades the database to a supported "
            "major version on its own schedule (and refuses to create or restore one on this version)"
        )
    return (
        "AWS enrolls the database in RDS Extended Support, billed per vCPU-hour (per ACU-hour on Aurora "
        "Serverless v2) on top of the instance price, patching only critical and high CVEs, and upgrades it "
        "itself when that ends"
    )


def _engine_version_supported(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    engine = props.text("engine", ABSENT)
    if engine is ABSENT:
        return  # a read replica or a restore from a snapshot runs its source's engine
    additional = set(config["additionalUnsupportedVersions"])
    table = engine_version_table()
    if not any(known == engine for known, _major in table) and not any(
        entry.startswith(f"{engine}:") for entry in additional
    ):
        return  # no date for any version of this engine: nothing to decide, whatever its version
    version = props.text("engineVersion", ABSENT)
    if version is ABSENT:
        return  # AWS picks the engine's default version, which is in standard support
    major = major_version(engine, version)
    if major is None:
        return
    row = table.get((engine, major))
    if row is not None and row.standard_support_ends <= today_utc():
        yield (
            f"engineVersion {version!r} is {engine} {major}, whose RDS standard support ended on "
            f"{row.standard_support_ends.isoformat()} (per {row.source} as of {row.as_of}): "
            f"{_after_standard_support(engine, props)}; upgrade engineVersion to a major version still in standard "
            "support"
        )
    elif f"{engine}:{major}" in additional:
        yield (
            f"engineVersion {version!r} is {engine} {major}, which this stack's policy config marks as unsupported: "
            "upgrade engineVersion to a supported major version"
        )


def _no_literal_password(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for database in stack.of_type(RDS_INSTANCE, RDS_CLUSTER):
        for key in PASSWORD_KEYS[database.type]:
            value = literal_text(database, key)
            if value is None or value in stack.config_values:
                continue  # absent, produced by another resource (or unknown until the update), or the stack's config
            yield Finding(
                f"{database.name}.{key} is written into the program: a value known before the update that no "
                "resource produced and that is no stack config value, so it sits in source control and in every "
                f"copy of the program; set manageMasterUserPassword true and drop {key} (RDS then keeps the master "
                "password in Secrets Manager and can rotate it), or generate it (random.RandomPassword) or read it "
                "with config.require_secret",
                database.urn,
            )


RULES: Final = [
    ResourceRule(
        name="rds-storage-encrypted",
        summary="RDS DB instances and clusters encrypt their storage at rest",
        anchors=(
            "checkov CKV_AWS_16",
            "checkov CKV_AWS_96",
            "AWS Security Hub RDS.3",
            "AWS Security Hub RDS.27",
            "cdk-nag AwsSolutions-RDS2",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=_storage_encrypted,
    ),
    ResourceRule(
        name="rds-not-publicly-accessible",
        summary=(
            "RDS DB instances, Aurora instances and Multi-AZ DB clusters are not publicly accessible "
            "(publiclyAccessible false): reached from inside the VPC only"
        ),
        anchors=("AWS Security Hub RDS.2", "checkov CKV_AWS_17", "AWS Config rds-instance-public-access-check"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER_INSTANCE, RDS_CLUSTER),
        check=_not_publicly_accessible,
    ),
    ResourceRule(
        name="rds-deletion-protection",
        summary=(
            "RDS DB instances and clusters have deletion protection on (advisory by default; mandatory where a "
            "stack says so)"
        ),
        anchors=(
            "AWS Security Hub RDS.7",
            "AWS Security Hub RDS.8",
            "checkov CKV_AWS_139",
            "checkov CKV_AWS_293",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=must_be_true(
            "deletionProtection", "one mistaken delete (or a replacing change) destroys the database and its data"
        ),
    ),
    ResourceRule(
        name="rds-automated-backups",
        summary=(
            "RDS DB instances keep automated backups for at least minimumDays days (backupRetentionPeriod; "
            "read replicas aside)"
        ),
        anchors=("AWS Security Hub RDS.11 (with minimumDays 7)", "checkov CKV_AWS_133 (instances)"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE,),
        check=_automated_backups,
        config={"minimumDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 1}},
    ),
    ResourceRule(
        name="rds-engine-version-supported",
        summary=(
            "RDS DB instances and clusters run an engine major version still in RDS standard support (past it, AWS "
            "bills RDS Extended Support per vCPU-hour)"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=_engine_version_supported,
        config={
            "additionalUnsupportedVersions": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9-]*:[0-9]+(\\.[0-9]+)?$"},
                "default": [],
            }
        },
    ),
    StackRule(
        name="rds-no-literal-password",
        summary=(
            "RDS DB instances and clusters take their master password from RDS (manageMasterUserPassword), a "
            "resource that generates it or the stack's config, never a literal written into the program"
        ),
        anchors=("cfn_nag F23 (instances)",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        check=_no_literal_password,
    ),
]
