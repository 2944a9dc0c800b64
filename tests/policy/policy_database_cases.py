"""Compliant baselines and one mutation per case for the rules on databases reachable from the internet,
unencrypted Redshift clusters, RDS deletion protection and RDS automated backups.

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
]
