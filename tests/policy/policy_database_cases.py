"""Compliant baselines and one mutation per case for the rules on databases reachable from the internet,
unencrypted Redshift clusters, RDS deletion protection, RDS automated backups and RDS engine versions.

Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases run and
count with the others.
"""

from __future__ import annotations

from policy_cases import BASELINES, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE, Case, bad, ok
from policy_testkit import DELETE

REDSHIFT = "aws:redshift/cluster:Cluster"

PUBLIC = "rds-not-publicly-accessible"
DELETION = "rds-deletion-protection"
BACKUPS = "rds-automated-backups"
REDSHIFT_PUBLIC = "redshift-not-publicly-accessible"
REDSHIFT_ENCRYPTED = "redshift-cluster-encrypted"
ENGINE_VERSION = "rds-engine-version-supported"

BASELINES |= {
    # A single-node RA3 cluster with its admin password in Secrets Manager; encryption and privacy by default.
    REDSHIFT: {
        "clusterIdentifier": "analytics",
        "nodeType": "ra3.large",
        "clusterType": "single-node",
        "databaseName": "dev",
        "masterUsername": "admin",
        "manageMasterPassword": True,
        "clusterSubnetGroupName": "analytics-private",
    },
}
# A Multi-AZ DB cluster (provisioned instances behind one cluster endpoint), in a subnet group of its own.
MULTI_AZ = {
    "engine": "postgres",
    "dbClusterInstanceClass": "db.m6gd.large",
    "storageType": "io1",
    "allocatedStorage": 100,
    "iops": 1000,
    "dbSubnetGroupName": "app-private",
    "serverlessv2ScalingConfiguration": DELETE,
}
PROTECTED = {"deletionProtection": True}
# Versions the dated table has no row for (newer than its rows), so their verdict does not change with the date.
CURRENT_POSTGRES = {"engineVersion": "17.2"}
AURORA_MYSQL = {"engine": "aurora-mysql", "serverlessv2ScalingConfiguration": {"minCapacity": 0, "maxCapacity": 2}}

DATABASE_CASES: list[Case] = [
    # ---- rds public access
    ok(PUBLIC, RDS_INSTANCE),
    ok(PUBLIC, RDS_INSTANCE, "private-said-so", {"publiclyAccessible": False}),
    bad(PUBLIC, RDS_INSTANCE, "public-instance", {"publiclyAccessible": True}, "publiclyAccessible is true: the"),
    bad(PUBLIC, RDS_INSTANCE, "public-as-a-string", {"publiclyAccessible": "true"}, "publiclyAccessible is true"),
    ok(PUBLIC, RDS_CLUSTER_INSTANCE),
    bad(PUBLIC, RDS_CLUSTER_INSTANCE, "public-aurora-instance", {"publiclyAccessible": True}, "public address"),
    ok(PUBLIC, RDS_CLUSTER, "aurora-cluster-left-to-its-instances"),
    ok(PUBLIC, RDS_CLUSTER, "multi-az-cluster-in-its-subnet-group", MULTI_AZ),
    bad(
        PUBLIC,
        RDS_CLUSTER,
        "multi-az-cluster-in-the-default-subnet-group",
        MULTI_AZ | {"dbSubnetGroupName": DELETE},
        "publiclyAccessible is true (not set, and the cluster has no subnet group of its own",
    ),
    ok(
        PUBLIC,
        RDS_CLUSTER,
        "multi-az-cluster-default-subnet-group-said-private",
        MULTI_AZ | {"dbSubnetGroupName": "default", "publiclyAccessible": False},
    ),
    bad(PUBLIC, RDS_CLUSTER, "public-multi-az-cluster", MULTI_AZ | {"publiclyAccessible": True}, "is true: the"),
    bad(PUBLIC, RDS_INSTANCE, "malformed", {"publiclyAccessible": "yes"}, "publiclyAccessible should be a boolean"),
    # ---- rds deletion protection
    ok(DELETION, RDS_INSTANCE, "protected-instance", PROTECTED),
    bad(DELETION, RDS_INSTANCE, "instance-default", {}, "deletionProtection is not true: one mistaken delete"),
    ok(DELETION, RDS_CLUSTER, "protected-cluster", PROTECTED),
    bad(DELETION, RDS_CLUSTER, "cluster-off", {"deletionProtection": False}, "deletionProtection is not true"),
    # ---- rds automated backups
    ok(BACKUPS, RDS_INSTANCE, "aws-default-one-day"),
    ok(BACKUPS, RDS_INSTANCE, "a-week", {"backupRetentionPeriod": 7}),
    bad(BACKUPS, RDS_INSTANCE, "backups-off", {"backupRetentionPeriod": 0}, "is 0: automated backups are off"),
    ok(BACKUPS, RDS_INSTANCE, "read-replica", {"replicateSourceDb": "db-1", "backupRetentionPeriod": 0}),
    bad(
        BACKUPS,
        RDS_INSTANCE,
        "default-below-security-hub-minimum",
        {},
        "backupRetentionPeriod is 1: automated backups are kept 1 day, so",
        config={"minimumDays": 7},
    ),
    ok(BACKUPS, RDS_INSTANCE, "a-week-meets-security-hub", {"backupRetentionPeriod": 7}, config={"minimumDays": 7}),
    # ---- redshift public access
    ok(REDSHIFT_PUBLIC, REDSHIFT),
    ok(REDSHIFT_PUBLIC, REDSHIFT, "private-said-so", {"publiclyAccessible": False}),
    bad(REDSHIFT_PUBLIC, REDSHIFT, "public-cluster", {"publiclyAccessible": True}, "can reach port 5439"),
    # ---- redshift encryption
    ok(REDSHIFT_ENCRYPTED, REDSHIFT),
    ok(REDSHIFT_ENCRYPTED, REDSHIFT, "encrypted-with-a-key", {"encrypted": "true", "kmsKeyId": "arn:aws:kms:k"}),
    bad(REDSHIFT_ENCRYPTED, REDSHIFT, "turned-off", {"encrypted": "false"}, "encrypted is false: the cluster's"),
    bad(REDSHIFT_ENCRYPTED, REDSHIFT, "turned-off-as-a-boolean", {"encrypted": False}, "stored unencrypted"),
    # ---- rds engine version in standard support
    ok(ENGINE_VERSION, RDS_INSTANCE, "default-version-left-to-aws"),
    ok(ENGINE_VERSION, RDS_INSTANCE, "version-newer-than-the-table", CURRENT_POSTGRES),
    ok(ENGINE_VERSION, RDS_CLUSTER, "aurora-default-version"),
    ok(ENGINE_VERSION, RDS_INSTANCE, "undated-engine", {"engine": "sqlserver-ex", "engineVersion": "15.00.4415.2.v1"}),
    ok(ENGINE_VERSION, RDS_INSTANCE, "replica-runs-its-source-engine", {"engine": DELETE, "replicateSourceDb": "db-1"}),
    bad(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "postgres-11",
        {"engineVersion": "11.22"},
        "engineVersion '11.22' is postgres 11, whose RDS standard support ended on 2024-02-29 (per https://",
    ),
    bad(ENGINE_VERSION, RDS_INSTANCE, "postgres-major-only", {"engineVersion": "12"}, "is postgres 12, whose RDS"),
    bad(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "mysql-5.7",
        {"engine": "mysql", "engineVersion": "5.7.44"},
        "RDS Extended Support, billed per vCPU-hour (per ACU-hour on Aurora Serverless v2) on top of the instance",
    ),
    bad(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "opted-out-of-extended-support",
        {"engineVersion": "11.22", "engineLifecycleSupport": "open-source-rds-extended-support-disabled"},
        "engineLifecycleSupport opts out of RDS Extended Support, so AWS upgrades the database",
    ),
    bad(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "mariadb-10.4",
        {"engine": "mariadb", "engineVersion": "10.4.34"},
        "): RDS Extended Support does not cover this engine, so AWS no longer fixes the version",
    ),
    bad(
        ENGINE_VERSION,
        RDS_CLUSTER,
        "aurora-mysql-2",
        AURORA_MYSQL | {"engineVersion": "5.7.mysql_aurora.2.11.2"},
        "engineVersion '5.7.mysql_aurora.2.11.2' is aurora-mysql 2, whose RDS standard support ended on 2024-10-31",
    ),
    bad(
        ENGINE_VERSION,
        RDS_CLUSTER,
        "aurora-mysql-2-by-mysql-version",
        AURORA_MYSQL | {"engineVersion": "5.7"},
        "2024-10-31",
    ),
    bad(ENGINE_VERSION, RDS_CLUSTER, "aurora-postgresql-11", {"engineVersion": "11.21"}, "aurora-postgresql 11, whose"),
    bad(
        ENGINE_VERSION, RDS_CLUSTER, "multi-az-postgres-13", MULTI_AZ | {"engineVersion": "13.15"}, "postgres 13, whose"
    ),
    bad(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "stack-marks-a-version-unsupported",
        CURRENT_POSTGRES,
        "engineVersion '17.2' is postgres 17, which this stack's policy config marks as unsupported",
        config={"additionalUnsupportedVersions": ["postgres:17"]},
    ),
    ok(
        ENGINE_VERSION,
        RDS_INSTANCE,
        "stack-marks-another-engine-unsupported",
        CURRENT_POSTGRES,
        config={"additionalUnsupportedVersions": ["mysql:8.4"]},
    ),
    bad(ENGINE_VERSION, RDS_INSTANCE, "malformed", {"engineVersion": 14}, "engineVersion should be a string"),
]
