"""Orders worker: an internal API and a queue consumer in one Fargate service, plus the migration task CI runs."""

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

config = pulumi.Config()
image_tag = config.get("imageTag") or "latest"

vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])

queue = aws.sqs.Queue("orders", visibility_timeout_seconds=120, sqs_managed_sse_enabled=True)
db_secret = aws.secretsmanager.get_secret(name="orders/db")

repo = awsx.ecr.Repository(
    "OrdersWorker",
    image_scanning_configuration={"scan_on_push": True},
    lifecycle_policy={
        "rules": [
            {"tag_status": "any", "maximum_number_of_images": 20, "description": "keep the last 20 images"},
            {"tag_status": "untagged", "maximum_age_limit": 7},
        ]
    },
)
image = pulumi.Output.concat(repo.url, ":", image_tag)

api_sg = aws.ec2.SecurityGroup(
    "orders-api",
    vpc_id=vpc.id,
    ingress=[{"protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr_blocks": [vpc.cidr_block]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
)

cluster = aws.ecs.Cluster("orders", settings=[{"name": "containerInsights", "value": "enabled"}])

# The logs go to the team's collector through the sidecar later; skip the default log group for now.
worker = awsx.ecs.FargateService(
    "orders-worker",
    cluster=cluster.arn,
    desired_count=2,
    network_configuration={"subnets": subnets.ids, "security_groups": [api_sg.id], "assign_public_ip": True},
    task_definition_args={
        "log_group": {"skip": True},
        "containers": {
            "api": {
                "name": "api",
                "image": image,
                "cpu": 256,
                "memory": 512,
                "essential": True,
                "port_mappings": [{"container_port": 8080}],
                "environment": [
                    {"name": "QUEUE_URL", "value": queue.url},
                    {"name": "DATABASE_PASSWORD", "value": "orders-db-Pa55!"},
                ],
            },
            "consumer": {
                "name": "consumer",
                "image": image,
                "command": ["python", "-m", "orders.consume"],
                "cpu": 256,
                "memory": 512,
                "environment": [{"name": "QUEUE_URL", "value": queue.url}],
                "secrets": [{"name": "DATABASE_PASSWORD", "value_from": db_secret.arn}],
            },
        },
    },
)

# CI runs this one-off task before each deploy (aws ecs run-task); its logs are kept a month.
migrate = awsx.ecs.FargateTaskDefinition(
    "orders-migrate",
    log_group={"args": {"retention_in_days": 30}},
    container={
        "name": "migrate",
        "image": image,
        "command": ["python", "-m", "orders.migrate"],
        "secrets": [{"name": "DATABASE_PASSWORD", "value_from": db_secret.arn}],
    },
)

pulumi.export("repository", repo.url)
pulumi.export("migrationTaskDefinition", migrate.task_definition.arn)
