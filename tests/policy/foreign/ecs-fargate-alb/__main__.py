import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
db_password = config.get("dbPassword") or "change-me-please"

vpc = aws.ec2.Vpc("app-vpc", cidr_block="10.0.0.0/16", enable_dns_hostnames=True)
subnets = [
    aws.ec2.Subnet(
        f"app-public-{zone}",
        vpc_id=vpc.id,
        cidr_block=f"10.0.{index}.0/24",
        availability_zone=f"us-east-1{zone}",
        map_public_ip_on_launch=True,
    )
    for index, zone in enumerate(["a", "b"])
]

web_sg = aws.ec2.SecurityGroup(
    "web-sg",
    vpc_id=vpc.id,
    ingress=[{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["0.0.0.0/0"]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
)

database = aws.rds.Instance(
    "app-db",
    engine="postgres",
    engine_version="16.3",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    password=db_password,
    skip_final_snapshot=True,
    vpc_security_group_ids=[web_sg.id],
)

db_secret = aws.secretsmanager.Secret("app-db-credentials")
aws.secretsmanager.SecretVersion(
    "app-db-credentials-value",
    secret_id=db_secret.id,
    secret_string=json.dumps({"username": "app", "password": "change-me-please"}),
)

cluster = aws.ecs.Cluster("app-cluster")

execution_role = aws.iam.Role(
    "app-task-execution",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "app-task-execution-policy",
    role=execution_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)

task = aws.ecs.TaskDefinition(
    "app-task",
    family="app",
    cpu="256",
    memory="512",
    network_mode="awsvpc",
    requires_compatibilities=["FARGATE"],
    execution_role_arn=execution_role.arn,
    container_definitions=json.dumps(
        [
            {
                "name": "web",
                "image": "nginx:1.27",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [
                    {"name": "DB_HOST", "value": "app-db.internal"},
                    {"name": "DB_PASSWORD", "value": "change-me-please"},
                ],
            }
        ]
    ),
)

alb = aws.lb.LoadBalancer(
    "app-lb", load_balancer_type="application", security_groups=[web_sg.id], subnets=[s.id for s in subnets]
)
target_group = aws.lb.TargetGroup("app-tg", port=80, protocol="HTTP", target_type="ip", vpc_id=vpc.id)
aws.lb.Listener(
    "app-http",
    load_balancer_arn=alb.arn,
    port=80,
    default_actions=[{"type": "forward", "target_group_arn": target_group.arn}],
)

aws.ecs.Service(
    "app-service",
    cluster=cluster.arn,
    task_definition=task.arn,
    desired_count=2,
    launch_type="FARGATE",
    network_configuration={
        "subnets": [s.id for s in subnets],
        "security_groups": [web_sg.id],
        "assign_public_ip": True,
    },
    load_balancers=[{"target_group_arn": target_group.arn, "container_name": "web", "container_port": 80}],
)

bastion = aws.ec2.Instance(
    "bastion",
    ami="ami-0c02fb55956c7d316",
    instance_type="t3.micro",
    subnet_id=subnets[0].id,
    vpc_security_group_ids=[web_sg.id],
)

pulumi.export("url", alb.dns_name)
