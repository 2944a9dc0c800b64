import pulumi
import pulumi_aws as aws

config = pulumi.Config()

subnet_group = aws.rds.SubnetGroup("db-subnets", subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"])

cluster = aws.rds.Cluster(
    "orders-db",
    engine="aurora-postgresql",
    engine_version="13.12",
    database_name="orders",
    master_username="orders",
    master_password=config.require_secret("dbPassword"),
    db_subnet_group_name=subnet_group.name,
    storage_encrypted=True,
    skip_final_snapshot=True,
    serverlessv2_scaling_configuration={"min_capacity": 0.5, "max_capacity": 4},
)
aws.rds.ClusterInstance(
    "orders-db-writer",
    cluster_identifier=cluster.id,
    instance_class="db.serverless",
    engine=cluster.engine,
    engine_version=cluster.engine_version,
)

reports = aws.rds.Instance(
    "reports-db",
    engine="mysql",
    engine_version="5.7.44",
    instance_class="db.t4g.small",
    allocated_storage=20,
    username="reports",
    manage_master_user_password=True,
    db_subnet_group_name=subnet_group.name,
    storage_encrypted=True,
    backup_retention_period=7,
    skip_final_snapshot=True,
)

pulumi.export("orders_endpoint", cluster.endpoint)
pulumi.export("reports_endpoint", reports.endpoint)
