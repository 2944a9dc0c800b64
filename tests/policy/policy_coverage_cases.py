"""Compliant baselines and one mutation per case for the rules on AppSync, ECS, load balancers, RDS, EKS, EC2
and Lambda runtime dates.

Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases run and
count with the others.
"""

from __future__ import annotations

from typing import Any

from policy_cases import BASELINES, EC2, FUNCTION, GRAPHQL, RDS_CLUSTER, RDS_INSTANCE, Case, bad, ok
from policy_testkit import DELETE, UNKNOWN, dumps

from policy_pack._core import today_utc
from policy_pack.runtimes import runtime_table

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

SCHEMA = """
# orders API
type Order { id: ID! total: Int }
type Query { order(id: ID!): Order }
type Mutation { placeOrder(total: Int!): Order }
schema { query: Query mutation: Mutation }
"""
READ_ONLY_SCHEMA = """
type Order { id: ID! }
type Query { order(id: ID!): Order }
# type Mutation { placeOrder: Order }  (commented out: not part of the schema)
"""

CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "public.ecr.aws/docker/library/nginx:1.27",
    "essential": True,
    "environment": [
        {"name": "LOG_LEVEL", "value": "INFO"},
        {"name": "DB_PASSWORD_ARN", "value": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"},
        {"name": "API_TOKEN_PARAMETER", "value": "/orderflow/api-token"},
    ],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"}],
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"},
    },
}


def containers(*changes: tuple[str, Any]) -> str:
    """``containerDefinitions`` with the app container changed (key, value; value ``DELETE`` removes the key)."""
    container = dict(CONTAINER)
    for key, value in changes:
        if value is DELETE:
            container.pop(key, None)
        else:
            container[key] = value
    return dumps([container, {**CONTAINER, "name": "sidecar", "environment": []}])


def environment(name: str, value: str) -> tuple[str, Any]:
    return ("environment", [*CONTAINER["environment"], {"name": name, "value": value}])


HTTPS_REDIRECT = [{"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}]

BASELINES |= {
    GRAPHQL: {
        **BASELINES[GRAPHQL],
        "schema": SCHEMA,
        "logConfig": {"cloudwatchLogsRoleArn": "arn:aws:iam::123456789012:role/appsync-logs", "fieldLogLevel": "ERROR"},
    },
    TASK_DEFINITION: {
        "family": "app",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": containers(),
    },
    LISTENER: {"loadBalancerArn": "arn:aws:elasticloadbalancing:lb", "port": 80, "protocol": "HTTP"}
    | {"defaultActions": HTTPS_REDIRECT},
    ALB_LISTENER: {"loadBalancerArn": "arn:aws:elasticloadbalancing:lb", "port": 80, "defaultActions": HTTPS_REDIRECT},
    EKS_CLUSTER: {
        "roleArn": "arn:aws:iam::123456789012:role/eks",
        "vpcConfig": {
            "subnetIds": ["subnet-1", "subnet-2"],
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
    },
    LAUNCH_TEMPLATE: {"imageId": "ami-1", "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"}},
}
# The shared EC2 and RDS baselines serve other rules too: these cases add what the new rules inspect.
ENCRYPTED = {"storageEncrypted": True}
IMDSV2 = {"metadataOptions": {"httpTokens": "required"}}


def _days_to(runtime: str) -> int:
    return (runtime_table()[runtime].deprecated_on - today_utc()).days


def _future_runtime() -> str:
    """A runtime of the table whose deprecation date is still ahead (the latest one)."""
    return max(runtime_table().values(), key=lambda row: row.deprecated_on).runtime


COVERAGE_CASES: list[Case] = [
    # ---- appsync
    ok("appsync-mutations-not-api-key-only", GRAPHQL),
    ok(
        "appsync-mutations-not-api-key-only",
        GRAPHQL,
        "api-key-read-only-schema",
        {"authenticationType": "API_KEY", "schema": READ_ONLY_SCHEMA},
    ),
    ok(
        "appsync-mutations-not-api-key-only",
        GRAPHQL,
        "api-key-plus-cognito",
        {
            "authenticationType": "API_KEY",
            "additionalAuthenticationProviders": [{"authenticationType": "AMAZON_COGNITO_USER_POOLS"}],
        },
    ),
    bad(
        "appsync-mutations-not-api-key-only",
        GRAPHQL,
        "api-key-only-with-mutations",
        {"authenticationType": "API_KEY"},
        "API keys only",
    ),
    bad(
        "appsync-mutations-not-api-key-only",
        GRAPHQL,
        "extended-mutation-type",
        {"authenticationType": "API_KEY", "schema": READ_ONLY_SCHEMA + "\nextend type Mutation { cancel: Order }"},
        "schema has mutations",
    ),
    ok("appsync-logging", GRAPHQL),
    ok("appsync-logging", GRAPHQL, "logs-all", {"logConfig.fieldLogLevel": "ALL"}),
    bad("appsync-logging", GRAPHQL, "no-log-config", {"logConfig": DELETE}, "logConfig is not set"),
    bad("appsync-logging", GRAPHQL, "level-none", {"logConfig.fieldLogLevel": "NONE"}, "log at least 'ERROR'"),
    bad(
        "appsync-logging",
        GRAPHQL,
        "below-configured-level",
        {"logConfig.fieldLogLevel": "ERROR"},
        "log at least 'ALL'",
        config={"minimumFieldLogLevel": "ALL"},
    ),
    # ---- ecs
    ok("ecs-no-secrets-in-environment", TASK_DEFINITION),
    bad(
        "ecs-no-secrets-in-environment",
        TASK_DEFINITION,
        "password-literal",
        {"containerDefinitions": containers(environment("DB_PASSWORD", "hunter2"))},
        "container app: environment variable DB_PASSWORD holds what looks like a credential, in plain text",
    ),
    bad(
        "ecs-no-secrets-in-environment",
        TASK_DEFINITION,
        "access-key-under-any-name",
        {"containerDefinitions": containers(environment("UPSTREAM", "AKIAIOSFODNN7EXAMPLE"))},
        "holds an AWS access key id",
    ),
    ok(
        "ecs-no-secrets-in-environment",
        TASK_DEFINITION,
        "allowed-name",
        {"containerDefinitions": containers(environment("CSRF_TOKEN_HEADER_NAME", "X-CSRF"))},
        config={"allowedNames": ["CSRF_TOKEN_HEADER_NAME"]},
    ),
    bad(
        "ecs-no-secrets-in-environment",
        TASK_DEFINITION,
        "literal-beside-a-value-unknown-in-preview",
        {
            "containerDefinitions": containers(
                ("environment", [{"name": "QUEUE_URL", "value": UNKNOWN}, {"name": "DB_PASSWORD", "value": "hunter2"}])
            )
        },
        "container app: environment variable DB_PASSWORD holds what looks like a credential, in plain text",
    ),
    bad(
        "ecs-no-secrets-in-environment",
        TASK_DEFINITION,
        "not-a-list",
        {"containerDefinitions": dumps({"name": "app"})},
        "containerDefinitions should be a JSON list",
    ),
    ok("ecs-container-logging", TASK_DEFINITION),
    bad(
        "ecs-container-logging",
        TASK_DEFINITION,
        "container-without-logs",
        {"containerDefinitions": containers(("logConfiguration", DELETE))},
        "container app has no logConfiguration",
    ),
    # ---- load balancers
    ok("lb-http-redirects-to-https", LISTENER),
    ok("lb-http-redirects-to-https", ALB_LISTENER, "alb-alias-default-protocol-redirects"),
    ok(
        "lb-http-redirects-to-https",
        LISTENER,
        "https-forward",
        {
            "port": 443,
            "protocol": "HTTPS",
            "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/1",
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}],
        },
    ),
    bad(
        "lb-http-redirects-to-https",
        LISTENER,
        "http-forward",
        {"defaultActions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}]},
        "serves plain HTTP (default action: forward)",
    ),
    bad(
        "lb-http-redirects-to-https",
        ALB_LISTENER,
        "alb-alias-redirect-to-http",
        {"defaultActions": [{"type": "redirect", "redirect": {"port": "8080", "protocol": "HTTP"}}]},
        "plain HTTP",
    ),
    ok(
        "lb-http-redirects-to-https",
        LISTENER,
        "gateway-load-balancer-listener",
        {"protocol": DELETE, "port": DELETE, "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}]},
    ),
    bad(
        "lb-http-redirects-to-https",
        ALB_LISTENER,
        "alb-default-protocol-forward",
        {"defaultActions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}]},
        "serves plain HTTP",
    ),
    # ---- rds
    ok("rds-storage-encrypted", RDS_INSTANCE, "encrypted-instance", ENCRYPTED),
    bad("rds-storage-encrypted", RDS_INSTANCE, "instance-default", {}, "storageEncrypted is not true"),
    bad("rds-storage-encrypted", RDS_INSTANCE, "instance-off", {"storageEncrypted": False}, "storageEncrypted"),
    ok("rds-storage-encrypted", RDS_INSTANCE, "read-replica-follows-source", {"replicateSourceDb": "db-1"}),
    ok("rds-storage-encrypted", RDS_CLUSTER, "encrypted-cluster", ENCRYPTED),
    bad("rds-storage-encrypted", RDS_CLUSTER, "cluster-default", {}, "storageEncrypted is not true"),
    ok("rds-storage-encrypted", RDS_CLUSTER, "aurora-serverless-v1-always-encrypted", {"engineMode": "serverless"}),
    # ---- eks
    ok("eks-endpoint-not-public", EKS_CLUSTER),
    ok(
        "eks-endpoint-not-public",
        EKS_CLUSTER,
        "public-to-listed-cidrs",
        {"vpcConfig.endpointPublicAccess": True, "vpcConfig.publicAccessCidrs": ["203.0.113.0/24"]},
    ),
    bad(
        "eks-endpoint-not-public",
        EKS_CLUSTER,
        "defaults",
        {"vpcConfig.endpointPublicAccess": DELETE, "vpcConfig.endpointPrivateAccess": DELETE},
        "open to 0.0.0.0/0 (the default when publicAccessCidrs is not set)",
    ),
    bad(
        "eks-endpoint-not-public",
        EKS_CLUSTER,
        "open-ipv6",
        {"vpcConfig.endpointPublicAccess": True, "vpcConfig.publicAccessCidrs": ["203.0.113.0/24", "::/0"]},
        "open to ::/0",
    ),
    # ---- ec2
    ok("ec2-imdsv2-required", EC2, "instance-imdsv2", IMDSV2),
    ok("ec2-imdsv2-required", EC2, "imds-disabled", {"metadataOptions": {"httpEndpoint": "disabled"}}),
    bad("ec2-imdsv2-required", EC2, "instance-default", {}, "metadataOptions.httpTokens is 'optional' (not set"),
    bad("ec2-imdsv2-required", EC2, "instance-optional", {"metadataOptions": {"httpTokens": "optional"}}, "'optional'"),
    ok("ec2-imdsv2-required", EC2, "options-from-launch-template", {"launchTemplate": {"id": "lt-1"}}),
    bad(
        "ec2-imdsv2-required",
        EC2,
        "own-options-override-template",
        {"launchTemplate": {"id": "lt-1"}, "metadataOptions": {"httpTokens": "optional"}},
        "'optional'",
    ),
    ok("ec2-imdsv2-required", LAUNCH_TEMPLATE),
    bad(
        "ec2-imdsv2-required",
        LAUNCH_TEMPLATE,
        "template-optional",
        {"metadataOptions.httpTokens": "optional"},
        "set metadataOptions.httpTokens 'required'",
    ),
    # ---- lambda runtimes by date
    bad(
        "lambda-runtime-supported",
        FUNCTION,
        "python3.9-past-date",
        {"runtime": "python3.9"},
        "deprecated on 2025-12-15",
    ),
    bad(
        "lambda-runtime-supported",
        FUNCTION,
        "nodejs18-past-date",
        {"runtime": "nodejs18.x"},
        "deprecated on 2025-09-01",
    ),
    ok("lambda-runtime-supported", FUNCTION, "unknown-to-the-table", {"runtime": "python9.99"}),
    ok("lambda-runtime-deprecation-soon", FUNCTION, "already-deprecated-is-the-other-rule", {"runtime": "python3.8"}),
    ok("lambda-runtime-deprecation-soon", FUNCTION, "image-package", {"packageType": "Image", "runtime": DELETE}),
    bad(
        "lambda-runtime-deprecation-soon",
        FUNCTION,
        "within-window",
        {"runtime": _future_runtime()},
        f"is deprecated on {runtime_table()[_future_runtime()].deprecated_on.isoformat()}",
        config={"withinDays": _days_to(_future_runtime()) + 1},
    ),
    ok(
        "lambda-runtime-deprecation-soon",
        FUNCTION,
        "just-outside-window",
        {"runtime": _future_runtime()},
        config={"withinDays": _days_to(_future_runtime()) - 1},
    ),
]
