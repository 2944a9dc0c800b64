"""Compliant baselines and one mutation per case for every resource rule (serverless-rules fixture style).

Each :class:`Case` names the rule, the resource type, the properties (a baseline with one change) and
whether the rule must fire; ``test_policy_resource_rules`` runs them and ``test_policy_meta`` checks that
every rule has at least one passing and one failing case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policy_testkit import DELETE, UNKNOWN, dumps, patched

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
REST_STAGE = "aws:apigateway/stage:Stage"
REST_METHOD = "aws:apigateway/method:Method"
HTTP_STAGE = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE = "aws:apigatewayv2/route:Route"
GRAPHQL = "aws:appsync/graphQLApi:GraphQLApi"
TABLE = "aws:dynamodb/table:Table"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TOPIC_RULE = "aws:iot/topicRule:TopicRule"
KMS_KEY = "aws:kms/key:Key"
NAT = "aws:ec2/natGateway:NatGateway"
KINESIS = "aws:kinesis/stream:Stream"
EC2 = "aws:ec2/instance:Instance"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_CAPACITY = "aws:ecs/capacityProvider:CapacityProvider"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
MQ = "aws:mq/broker:Broker"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
REST_API = "aws:apigateway/restApi:RestApi"
HTTP_API = "aws:apigatewayv2/api:Api"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ECR_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
LAYER_PERMISSION = "aws:lambda/layerVersionPermission:LayerVersionPermission"
DOMAIN_POLICY = "aws:opensearch/domainPolicy:DomainPolicy"
BUCKET = "aws:s3/bucket:Bucket"

QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:orders-dlq"
LAMBDA_ROLE_TRUST = dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
SCOPED_POLICY = dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
            }
        ],
    }
)
PUBLIC_DOC = dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]})
SCOPED_SERVICE_DOC = dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE_ARN,
                "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/r"}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": QUEUE_ARN,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    }
)


def policy_doc(*statements: dict[str, Any]) -> str:
    return dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def public(action: str, condition: dict[str, Any] | None = None, principal: Any = "*") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if condition is not None:
        statement["Condition"] = condition
    return policy_doc(statement)


TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
OPENAPI = {
    "openapi": "3.0.1",
    "info": {"title": "orders", "version": "1"},
    "components": {"securitySchemes": {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header"}}},
    "security": [{"sigv4": []}],
    "paths": {
        "/orders": {
            "post": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": "u"}},
            "options": {"x-amazon-apigateway-integration": {"type": "mock"}},
        }
    },
}

DEFINITION = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["TransientDependencyError"], "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "Next": "Fanout",
        },
        "Fanout": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Notify",
                    "States": {
                        "Notify": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::events:putEvents",
                            "Retry": [{"ErrorEquals": ["States.ALL"]}],
                            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Swallow"}],
                            "End": True,
                        },
                        "Swallow": {"Type": "Pass", "End": True},
                    },
                }
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}

BASELINES: dict[str, dict[str, Any]] = {
    FUNCTION: {
        "name": "orderflow-dev-notify",
        "runtime": "python3.13",
        "handler": "notify.app.lambda_handler",
        "role": "arn:aws:iam::123456789012:role/notify",
        "memorySize": 256,
        "timeout": 10,
        "tracingConfig": {"mode": "Active"},
        "reservedConcurrentExecutions": 5,
        "loggingConfig": {"logFormat": "JSON", "logGroup": "/aws/lambda/orderflow-dev-notify"},
        "architectures": ["arm64"],
        "codeSigningConfigArn": "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0a1b2c3d4e5f6a7b8",
    },
    PERMISSION: {
        "action": "lambda:InvokeFunction",
        "function": "orderflow-dev-notify",
        "principal": "events.amazonaws.com",
        "sourceArn": "arn:aws:events:eu-west-1:123456789012:rule/bus/notify",
    },
    INVOKE_CONFIG: {
        "functionName": "orderflow-dev-notify",
        "maximumRetryAttempts": 2,
        "destinationConfig": {"onFailure": {"destination": QUEUE_ARN}},
    },
    ESM: {
        "eventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:order-audit",
        "functionName": "orderflow-dev-audit",
        "batchSize": 10,
        "functionResponseTypes": ["ReportBatchItemFailures"],
        "scalingConfig": {"maximumConcurrency": 2},
        "filterCriteria": {"filters": [{"pattern": dumps({"body": {"type": ["OrderPlaced"]}})}]},
    },
    PROVISIONED: {"functionName": "orderflow-dev-notify", "provisionedConcurrentExecutions": 2, "qualifier": "live"},
    FUNCTION_URL: {"functionName": "orderflow-dev-notify", "authorizationType": "AWS_IAM"},
    QUEUE: {"name": "order-audit", "visibilityTimeoutSeconds": 60},
    QUEUE_POLICY: {
        "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/order-audit",
        "policy": SCOPED_SERVICE_DOC,
    },
    TOPIC: {"name": "order-notifications", "kmsMasterKeyId": "alias/orderflow"},
    SUBSCRIPTION: {
        "topic": "arn:aws:sns:eu-west-1:123456789012:order-notifications",
        "protocol": "sqs",
        "endpoint": "arn:aws:sqs:eu-west-1:123456789012:subscriber",
        "redrivePolicy": dumps({"deadLetterTargetArn": QUEUE_ARN}),
    },
    TOPIC_POLICY: {"arn": "arn:aws:sns:eu-west-1:123456789012:t", "policy": SCOPED_SERVICE_DOC},
    EVENT_RULE: {
        "eventBusName": "orderflow",
        "eventPattern": dumps(
            {
                "source": ["orderflow.orders"],
                "detail-type": ["OrderAccepted", {"prefix": "Order"}],
                "detail": {
                    "totalCents": [{"numeric": [">", 0, "<=", 100000]}],
                    "currency": [{"anything-but": ["XXX"]}],
                    "$or": [{"tier": [{"exists": True}]}, {"reason": [{"equals-ignore-case": "blocked"}]}],
                    "customerId": [{"wildcard": "c-*"}, {"suffix": {"equals-ignore-case": "-vip"}}],
                },
            }
        ),
    },
    EVENT_TARGET: {
        "rule": "notify",
        "arn": "arn:aws:lambda:eu-west-1:123456789012:function:orderflow-dev-notify",
        "deadLetterConfig": {"arn": QUEUE_ARN},
        "retryPolicy": {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600},
    },
    ARCHIVE: {"eventSourceArn": "arn:aws:events:eu-west-1:123456789012:event-bus/orderflow", "retentionDays": 3},
    BUS_POLICY: {"eventBusName": "orderflow", "policy": SCOPED_SERVICE_DOC},
    EVENT_PERMISSION: {"principal": "111122223333", "statementId": "partner"},
    STATE_MACHINE: {
        "type": "STANDARD",
        "definition": dumps(DEFINITION),
        "roleArn": "arn:aws:iam::123456789012:role/sfn",
        "tracingConfiguration": {"enabled": True},
        "loggingConfiguration": {
            "level": "ERROR",
            "includeExecutionData": True,
            "logDestination": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/f:*",
        },
    },
    REST_STAGE: {
        "restApi": "abc123",
        "stageName": "prod",
        "deployment": "d1",
        "xrayTracingEnabled": True,
        "accessLogSettings": {
            "destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:api",
            "format": '{"requestId":"$context.requestId","status":$context.status,"ip":"$context.identity.sourceIp"}',
        },
    },
    REST_METHOD: {"restApi": "abc123", "resourceId": "r1", "httpMethod": "POST", "authorization": "COGNITO_USER_POOLS"},
    HTTP_STAGE: {
        "apiId": "api1",
        "name": "$default",
        "accessLogSettings": {
            "destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:api",
            "format": '{"requestId":"$context.requestId","routeKey":"$context.routeKey"}',
        },
        "defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5},
    },
    HTTP_ROUTE: {"apiId": "api1", "routeKey": "POST /orders", "authorizationType": "JWT", "authorizerId": "a1"},
    GRAPHQL: {"name": "g", "authenticationType": "AWS_IAM", "xrayEnabled": True},
    TABLE: {
        "name": "orders",
        "billingMode": "PAY_PER_REQUEST",
        "hashKey": "orderId",
        "pointInTimeRecovery": {"enabled": True},
        "deletionProtectionEnabled": True,
    },
    PUBLIC_ACCESS_BLOCK: {
        "bucket": "receipts",
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    },
    BUCKET_POLICY: {"bucket": "receipts", "policy": SCOPED_SERVICE_DOC},
    LOG_GROUP: {"name": "/aws/lambda/orderflow-dev-notify", "retentionInDays": 7},
    ALARM: {
        "namespace": "AWS/SQS",
        "metricName": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": "orders-dlq"},
        "period": 300,
        "alarmActions": ["arn:aws:sns:eu-west-1:123456789012:ops"],
    },
    ROLE: {"assumeRolePolicy": LAMBDA_ROLE_TRUST, "inlinePolicies": [{"name": "own", "policy": SCOPED_POLICY}]},
    IAM_POLICY: {"policy": SCOPED_POLICY},
    ROLE_POLICY: {"role": "notify", "policy": SCOPED_POLICY},
    TOPIC_RULE: {
        "name": "orders",
        "enabled": True,
        "sql": "SELECT * FROM 'orders/#'",
        "sqlVersion": "2016-03-23",
        "errorAction": {
            "sqs": {
                "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/iot-dlq",
                "roleArn": "r",
                "useBase64": False,
            }
        },
    },
    KMS_KEY: {"description": "orders", "enableKeyRotation": True},
    NAT: {"subnetId": "subnet-1", "allocationId": "eipalloc-1"},
    KINESIS: {"name": "s", "streamModeDetails": {"streamMode": "ON_DEMAND"}},
    EC2: {"ami": "ami-1", "instanceType": "t4g.micro"},
    ECS_SERVICE: {"cluster": "c", "taskDefinition": "td", "launchType": "FARGATE", "desiredCount": 0},
    ECS_CAPACITY: {"name": "fargate-like"},
    RDS_INSTANCE: {"instanceClass": "db.t4g.micro", "engine": "postgres"},
    RDS_CLUSTER: {
        "engine": "aurora-postgresql",
        "serverlessv2ScalingConfiguration": {"minCapacity": 0, "maxCapacity": 2},
    },
    RDS_CLUSTER_INSTANCE: {"clusterIdentifier": "c", "instanceClass": "db.serverless", "engine": "aurora-postgresql"},
    MQ: {"brokerName": "b", "engineType": "RabbitMQ", "hostInstanceType": "mq.t3.micro"},
    METHOD_SETTINGS: {
        "restApi": "abc123",
        "stageName": "prod",
        "methodPath": "*/*",
        "settings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5, "metricsEnabled": True},
    },
    REST_API: {"name": "orders", "body": dumps(OPENAPI)},
    HTTP_API: {"name": "orders", "protocolType": "HTTP"},
    ROLE_ATTACHMENT: {
        "role": "notify",
        "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    },
    ECR_POLICY: {"repository": "app", "policy": SCOPED_SERVICE_DOC},
    SECRET_POLICY: {
        "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s",
        "policy": SCOPED_SERVICE_DOC,
    },
    REST_API_POLICY: {
        "restApiId": "abc123",
        "policy": public("execute-api:Invoke", {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}),
    },
    LAYER_PERMISSION: {
        "layerName": "shared",
        "versionNumber": 1,
        "statementId": "org",
        "action": "lambda:GetLayerVersion",
        "principal": "*",
        "organizationId": "o-abc123",
    },
    DOMAIN_POLICY: {"domainName": "search", "accessPolicies": SCOPED_SERVICE_DOC},
    BUCKET: {"bucket": "site"},
}


@dataclass(frozen=True)
class Case:
    """One resource for one rule, and whether the rule must report it."""

    id: str
    rule: str
    type: str
    changes: dict[str, Any] = field(default_factory=dict)
    fails: bool = True
    contains: str = ""
    config: dict[str, Any] | None = None

    @property
    def props(self) -> dict[str, Any]:
        return patched(BASELINES[self.type], self.changes)


def ok(rule: str, type_: str, case_id: str = "baseline", changes: dict[str, Any] | None = None, **kw: Any) -> Case:
    return Case(case_id, rule, type_, changes or {}, fails=False, **kw)


def bad(rule: str, type_: str, case_id: str, changes: dict[str, Any], contains: str = "", **kw: Any) -> Case:
    return Case(case_id, rule, type_, changes, fails=True, contains=contains, **kw)


_PATTERN = "eventPattern"

CASES: list[Case] = [
    # ---- lambda
    ok("lambda-memory-size-set", FUNCTION),
    bad("lambda-memory-size-set", FUNCTION, "memory-absent", {"memorySize": DELETE}, "memorySize is not set"),
    ok("lambda-timeout-set", FUNCTION),
    bad("lambda-timeout-set", FUNCTION, "timeout-absent", {"timeout": DELETE}, "timeout is not set"),
    bad(
        "lambda-timeout-set",
        FUNCTION,
        "timeout-over-config",
        {"timeout": 120},
        "above the configured maximum",
        config={"maximumSeconds": 60},
    ),
    ok("lambda-tracing-active", FUNCTION),
    bad(
        "lambda-tracing-active", FUNCTION, "tracing-passthrough", {"tracingConfig.mode": "PassThrough"}, "'PassThrough'"
    ),
    bad("lambda-tracing-active", FUNCTION, "tracing-absent", {"tracingConfig": DELETE}, "tracingConfig.mode"),
    ok("lambda-runtime-supported", FUNCTION),
    ok("lambda-runtime-supported", FUNCTION, "image-package", {"packageType": "Image", "runtime": DELETE}),
    bad("lambda-runtime-supported", FUNCTION, "deprecated-runtime", {"runtime": "python3.8"}, "deprecated"),
    bad(
        "lambda-runtime-supported",
        FUNCTION,
        "configured-deprecated",
        {"runtime": "python3.9"},
        "deprecated",
        config={"additionalDeprecatedRuntimes": ["python3.9"]},
    ),
    bad("lambda-runtime-supported", FUNCTION, "zip-without-runtime", {"runtime": DELETE}, "runtime is not set"),
    ok("lambda-reserved-concurrency", FUNCTION),
    bad("lambda-reserved-concurrency", FUNCTION, "unreserved", {"reservedConcurrentExecutions": DELETE}, "not set"),
    bad("lambda-reserved-concurrency", FUNCTION, "explicit-minus-one", {"reservedConcurrentExecutions": -1}, "not set"),
    bad("lambda-reserved-concurrency", FUNCTION, "zero", {"reservedConcurrentExecutions": 0}, "throttled completely"),
    bad(
        "lambda-reserved-concurrency",
        FUNCTION,
        "above-range",
        {"reservedConcurrentExecutions": 50},
        "outside the configured range",
        config={"maximum": 20},
    ),
    ok("lambda-no-provisioned-concurrency", FUNCTION, "function-without-config"),
    bad("lambda-no-provisioned-concurrency", PROVISIONED, "provisioned", {}, "billed every hour"),
    ok("lambda-vpc-multi-az", FUNCTION),
    ok(
        "lambda-vpc-multi-az",
        FUNCTION,
        "two-subnets",
        {"vpcConfig": {"subnetIds": ["a", "b"], "securityGroupIds": ["sg"]}},
    ),
    bad(
        "lambda-vpc-multi-az",
        FUNCTION,
        "single-subnet",
        {"vpcConfig": {"subnetIds": ["a"], "securityGroupIds": ["sg"]}},
        "1 subnet",
    ),
    ok("lambda-json-logging", FUNCTION),
    bad("lambda-json-logging", FUNCTION, "text-logs", {"loggingConfig.logFormat": "Text"}, "'Text'"),
    bad("lambda-json-logging", FUNCTION, "logging-absent", {"loggingConfig": DELETE}, "'Text'"),
    ok("lambda-async-config-on-failure", INVOKE_CONFIG),
    bad("lambda-async-config-on-failure", INVOKE_CONFIG, "no-destination", {"destinationConfig": DELETE}, "onFailure"),
    ok("lambda-stream-source-failure-destination", ESM, "sqs-source-exempt"),
    ok(
        "lambda-stream-source-failure-destination",
        ESM,
        "kinesis-with-destination",
        {
            "eventSourceArn": "arn:aws:kinesis:eu-west-1:1:stream/s",
            "startingPosition": "LATEST",
            "destinationConfig": {"onFailure": {"destinationArn": QUEUE_ARN}},
        },
    ),
    bad(
        "lambda-stream-source-failure-destination",
        ESM,
        "kinesis-without-destination",
        {"eventSourceArn": "arn:aws:kinesis:eu-west-1:1:stream/s", "startingPosition": "LATEST"},
        "destinationArn",
    ),
    bad(
        "lambda-stream-source-failure-destination",
        ESM,
        "dynamodb-stream-without-destination",
        {"eventSourceArn": "arn:aws:dynamodb:eu-west-1:1:table/t/stream/2026", "startingPosition": "LATEST"},
        "destinationArn",
    ),
    ok("lambda-sqs-source-max-concurrency", ESM),
    bad("lambda-sqs-source-max-concurrency", ESM, "no-ceiling", {"scalingConfig": DELETE}, "not set"),
    bad(
        "lambda-sqs-source-max-concurrency",
        ESM,
        "above-configured",
        {"scalingConfig.maximumConcurrency": 50},
        "outside",
        config={"maximum": 10},
    ),
    ok("lambda-batch-item-failures", ESM),
    bad(
        "lambda-batch-item-failures",
        ESM,
        "no-partial-failures",
        {"functionResponseTypes": DELETE},
        "ReportBatchItemFailures",
    ),
    ok("lambda-permission-scoped", PERMISSION),
    ok("lambda-permission-scoped", PERMISSION, "account-principal", {"principal": "111122223333", "sourceArn": DELETE}),
    bad("lambda-permission-scoped", PERMISSION, "service-without-source", {"sourceArn": DELETE}, "confused deputy"),
    bad("lambda-permission-scoped", PERMISSION, "star-principal", {"principal": "*", "sourceArn": DELETE}, "anyone"),
    ok("lambda-function-url-auth", FUNCTION_URL),
    bad("lambda-function-url-auth", FUNCTION_URL, "public-url", {"authorizationType": "NONE"}, "public"),
    # ---- sqs / sns
    ok("sqs-encryption-at-rest", QUEUE),
    ok("sqs-encryption-at-rest", QUEUE, "kms-key", {"sqsManagedSseEnabled": False, "kmsMasterKeyId": "alias/aws/sqs"}),
    bad("sqs-encryption-at-rest", QUEUE, "sse-off", {"sqsManagedSseEnabled": False}, "unencrypted"),
    ok("sns-subscription-redrive-policy", SUBSCRIPTION),
    bad(
        "sns-subscription-redrive-policy",
        SUBSCRIPTION,
        "no-redrive",
        {"redrivePolicy": DELETE},
        "redrivePolicy is not set",
    ),
    bad(
        "sns-subscription-redrive-policy",
        SUBSCRIPTION,
        "redrive-without-target",
        {"redrivePolicy": "{}"},
        "deadLetterTargetArn",
    ),
    bad(
        "sns-subscription-redrive-policy",
        SUBSCRIPTION,
        "redrive-not-json",
        {"redrivePolicy": "{oops"},
        "not valid JSON",
    ),
    ok("sns-topic-encryption", TOPIC),
    bad("sns-topic-encryption", TOPIC, "unencrypted", {"kmsMasterKeyId": DELETE}, "kmsMasterKeyId"),
    # ---- eventbridge
    ok("eventbridge-target-dlq", EVENT_TARGET),
    bad("eventbridge-target-dlq", EVENT_TARGET, "no-dlq", {"deadLetterConfig": DELETE}, "deadLetterConfig.arn"),
    ok("eventbridge-target-retry-policy", EVENT_TARGET),
    bad("eventbridge-target-retry-policy", EVENT_TARGET, "no-retry-policy", {"retryPolicy": DELETE}, "not set"),
    bad(
        "eventbridge-target-retry-policy",
        EVENT_TARGET,
        "half-retry-policy",
        {"retryPolicy.maximumEventAgeInSeconds": DELETE},
        "maximumEventAgeInSeconds",
    ),
    bad(
        "eventbridge-target-retry-policy",
        EVENT_TARGET,
        "too-many-attempts",
        {"retryPolicy.maximumRetryAttempts": 100},
        "above the configured",
        config={"maximumRetryAttempts": 10},
    ),
    ok("eventbridge-archive-retention", ARCHIVE),
    bad("eventbridge-archive-retention", ARCHIVE, "forever", {"retentionDays": DELETE}, "forever"),
    bad("eventbridge-archive-retention", ARCHIVE, "too-long", {"retentionDays": 400}, "above the configured"),
    ok("eventbridge-pattern-valid", EVENT_RULE),
    ok("eventbridge-pattern-valid", ESM, "esm-filter"),
    ok(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "schedule-rule",
        {_PATTERN: DELETE, "scheduleExpression": "rate(1 hour)"},
    ),
    bad(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "unknown-operator",
        {_PATTERN: dumps({"source": [{"prefx": "orderflow"}]})},
        "unknown operator 'prefx'",
    ),
    bad(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "bare-value",
        {_PATTERN: dumps({"source": "orderflow.orders"})},
        "bare str",
    ),
    bad(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "numeric-operand",
        {_PATTERN: dumps({"detail": {"n": [{"numeric": [">", "5"]}]}})},
        "must be a number",
    ),
    bad(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "exists-operand",
        {_PATTERN: dumps({"detail": {"n": [{"exists": "yes"}]}})},
        "wrong type",
    ),
    bad("eventbridge-pattern-valid", EVENT_RULE, "empty-array", {_PATTERN: dumps({"source": []})}, "empty array"),
    bad(
        "eventbridge-pattern-valid",
        EVENT_RULE,
        "or-single-branch",
        {_PATTERN: dumps({"$or": [{"a": ["b"]}]})},
        "at least two",
    ),
    bad(
        "eventbridge-pattern-valid",
        ESM,
        "esm-unknown-operator",
        {"filterCriteria.filters.0.pattern": dumps({"body": {"t": [{"begins-with": "x"}]}})},
        "filterCriteria.filters[0].pattern",
    ),
    # ---- step functions
    ok("sfn-tracing-enabled", STATE_MACHINE),
    bad("sfn-tracing-enabled", STATE_MACHINE, "tracing-off", {"tracingConfiguration.enabled": False}, "X-Ray"),
    ok("sfn-logging-enabled", STATE_MACHINE),
    bad("sfn-logging-enabled", STATE_MACHINE, "logging-absent", {"loggingConfiguration": DELETE}, "'OFF'"),
    bad(
        "sfn-logging-enabled",
        STATE_MACHINE,
        "below-configured-level",
        {"loggingConfiguration.level": "ERROR"},
        "'ALL'",
        config={"minimumLevel": "ALL"},
    ),
    bad(
        "sfn-logging-enabled",
        STATE_MACHINE,
        "no-destination",
        {"loggingConfiguration.logDestination": DELETE},
        "logDestination",
    ),
    ok("sfn-task-retry-catch", STATE_MACHINE),
    ok(
        "sfn-task-retry-catch",
        STATE_MACHINE,
        "exempt-state",
        {"definition": dumps(patched(DEFINITION, {"States.Reserve.Catch": DELETE}))},
        config={"exemptStates": ["Reserve"]},
    ),
    bad(
        "sfn-task-retry-catch",
        STATE_MACHINE,
        "top-level-task-no-catch",
        {"definition": dumps(patched(DEFINITION, {"States.Reserve.Catch": DELETE}))},
        "'Reserve' has no Catch",
    ),
    bad(
        "sfn-task-retry-catch",
        STATE_MACHINE,
        "nested-task-no-retry",
        {"definition": dumps(patched(DEFINITION, {"States.Fanout.Branches.0.States.Notify.Retry": DELETE}))},
        "'Fanout/Branches[0]/Notify' has no Retry",
    ),
    bad("sfn-task-retry-catch", STATE_MACHINE, "definition-not-json", {"definition": "StartAt: X"}, "not valid JSON"),
    # ---- api gateway / appsync
    ok("apigateway-access-logging", REST_STAGE),
    ok("apigateway-access-logging", HTTP_STAGE, "http-stage"),
    bad("apigateway-access-logging", REST_STAGE, "rest-no-logs", {"accessLogSettings": DELETE}, "destinationArn"),
    bad("apigateway-access-logging", HTTP_STAGE, "http-no-format", {"accessLogSettings.format": DELETE}, "format"),
    ok("apigateway-structured-access-logs", HTTP_STAGE),
    bad(
        "apigateway-structured-access-logs",
        REST_STAGE,
        "clf-format",
        {"accessLogSettings.format": "$context.identity.sourceIp - [$context.requestTime] $context.status"},
        "not a JSON",
    ),
    ok("apigateway-rest-tracing", REST_STAGE),
    bad("apigateway-rest-tracing", REST_STAGE, "no-xray", {"xrayTracingEnabled": DELETE}, "X-Ray"),
    ok("apigateway-no-cache-cluster", REST_STAGE),
    bad(
        "apigateway-no-cache-cluster",
        REST_STAGE,
        "cache-on",
        {"cacheClusterEnabled": True, "cacheClusterSize": "0.5"},
        "billed every hour",
    ),
    ok("apigateway-route-authorization", HTTP_ROUTE),
    ok("apigateway-route-authorization", REST_METHOD, "rest-method"),
    ok(
        "apigateway-route-authorization",
        HTTP_ROUTE,
        "cors-preflight",
        {"routeKey": "OPTIONS /orders", "authorizationType": "NONE"},
    ),
    ok(
        "apigateway-route-authorization",
        HTTP_ROUTE,
        "websocket-message-route",
        {"routeKey": "sendmessage", "authorizationType": DELETE},
    ),
    ok(
        "apigateway-route-authorization",
        HTTP_ROUTE,
        "configured-public",
        {"routeKey": "GET /health", "authorizationType": "NONE"},
        config={"exemptRouteKeys": ["GET /health"]},
    ),
    bad("apigateway-route-authorization", HTTP_ROUTE, "open-route", {"authorizationType": DELETE}, "'NONE'"),
    bad(
        "apigateway-route-authorization",
        HTTP_ROUTE,
        "open-connect",
        {"routeKey": "$connect", "authorizationType": "NONE"},
        "$connect",
    ),
    bad("apigateway-route-authorization", REST_METHOD, "open-rest-method", {"authorization": "NONE"}, "POST method"),
    ok("appsync-tracing", GRAPHQL),
    bad("appsync-tracing", GRAPHQL, "no-xray", {"xrayEnabled": False}, "X-Ray"),
    # ---- dynamodb / s3
    ok("dynamodb-on-demand", TABLE),
    bad("dynamodb-on-demand", TABLE, "provisioned-default", {"billingMode": DELETE}, "'PROVISIONED'"),
    ok("dynamodb-point-in-time-recovery", TABLE),
    bad("dynamodb-point-in-time-recovery", TABLE, "no-pitr", {"pointInTimeRecovery": DELETE}, "point in time"),
    ok("dynamodb-deletion-protection", TABLE),
    bad("dynamodb-deletion-protection", TABLE, "unprotected", {"deletionProtectionEnabled": False}, "mistaken delete"),
    ok("s3-block-public-access", PUBLIC_ACCESS_BLOCK),
    bad(
        "s3-block-public-access",
        PUBLIC_ACCESS_BLOCK,
        "policy-allowed",
        {"blockPublicPolicy": False},
        "blockPublicPolicy",
    ),
    bad(
        "s3-block-public-access",
        PUBLIC_ACCESS_BLOCK,
        "setting-absent",
        {"restrictPublicBuckets": DELETE},
        "restrictPublicBuckets",
    ),
    # ---- logs / alarms
    ok("log-group-retention", LOG_GROUP),
    bad("log-group-retention", LOG_GROUP, "forever", {"retentionInDays": DELETE}, "kept forever"),
    bad(
        "log-group-retention",
        LOG_GROUP,
        "above-config",
        {"retentionInDays": 365},
        "outside",
        config={"maximumDays": 30},
    ),
    ok("cloudwatch-alarm-actions", ALARM),
    bad("cloudwatch-alarm-actions", ALARM, "no-actions", {"alarmActions": DELETE}, "without telling anyone"),
    bad("cloudwatch-alarm-actions", ALARM, "actions-disabled", {"actionsEnabled": False}, "actionsEnabled is false"),
    # ---- iam / resource policies
    ok("iam-no-wildcard-actions", ROLE),
    ok("iam-no-wildcard-actions", IAM_POLICY, "managed-policy"),
    ok(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        "allowed-wildcard",
        {"policy": dumps({"Statement": [{"Effect": "Allow", "Action": "xray:*", "Resource": "*"}]})},
        config={"allowedWildcardActions": ["xray:*"]},
    ),
    ok(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        "deny-star",
        {"policy": dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})},
    ),
    bad(
        "iam-no-wildcard-actions",
        ROLE,
        "inline-star",
        {"inlinePolicies.0.policy": dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})},
        "'*'",
    ),
    bad(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        "service-star",
        {"policy": dumps({"Statement": {"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "*"}})},
        "'dynamodb:*'",
    ),
    bad(
        "iam-no-wildcard-actions",
        IAM_POLICY,
        "not-action",
        {"policy": dumps({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})},
        "NotAction",
    ),
    ok("resource-policy-no-public-principal", QUEUE_POLICY),
    ok("iam-trust-policy-scoped", ROLE, "service-trust"),
    ok("resource-policy-no-public-principal", EVENT_PERMISSION, "account-permission"),
    bad("resource-policy-no-public-principal", QUEUE_POLICY, "public-queue", {"policy": PUBLIC_DOC}, "allows anyone"),
    bad(
        "resource-policy-no-public-principal",
        BUCKET_POLICY,
        "public-bucket",
        {
            "policy": dumps(
                {
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "*"}
                    ]
                }
            )
        },
        "allows anyone",
    ),
    bad(
        "iam-trust-policy-scoped",
        ROLE,
        "open-trust",
        {
            "assumeRolePolicy": dumps(
                {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
            )
        },
        "lets anyone assume the role",
    ),
    bad("resource-policy-no-public-principal", EVENT_PERMISSION, "open-bus", {"principal": "*"}, "any AWS account"),
    bad("resource-policy-no-public-principal", TOPIC_POLICY, "public-topic", {"policy": PUBLIC_DOC}, "allows anyone"),
    # ---- iot / kms
    ok("iot-topic-rule-error-action", TOPIC_RULE),
    bad(
        "iot-topic-rule-error-action", TOPIC_RULE, "no-error-action", {"errorAction": DELETE}, "errorAction is not set"
    ),
    ok("kms-key-rotation", KMS_KEY),
    ok(
        "kms-key-rotation",
        KMS_KEY,
        "asymmetric-exempt",
        {"enableKeyRotation": DELETE, "customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"},
    ),
    bad("kms-key-rotation", KMS_KEY, "no-rotation", {"enableKeyRotation": DELETE}, "never rotates"),
    ok("kms-customer-managed-key-opt-in", KMS_KEY, "opted-in", config={"allowed": True}),
    bad("kms-customer-managed-key-opt-in", KMS_KEY, "not-opted-in", {}, "$1.00 a month"),
    # ---- compute
    ok("compute-no-servers", ECS_CAPACITY, "capacity-provider-without-instances"),
    ok("compute-no-servers", EC2, "allowed-by-config", config={"allowedTypes": [EC2]}),
    bad("compute-no-servers", EC2, "ec2-instance", {}, "EC2 instance"),
    bad("compute-no-servers", MQ, "mq-broker", {}, "Amazon MQ"),
    bad(
        "compute-no-servers",
        ECS_CAPACITY,
        "asg-capacity-provider",
        {"autoScalingGroupProvider": {"autoScalingGroupArn": "a"}},
        "EC2",
    ),
    ok("rds-serverless-only", RDS_CLUSTER),
    ok("rds-serverless-only", RDS_CLUSTER_INSTANCE, "serverless-v2-instance"),
    bad("rds-serverless-only", RDS_INSTANCE, "db-instance", {}, "provisioned instance class"),
    bad(
        "rds-serverless-only",
        RDS_CLUSTER_INSTANCE,
        "provisioned-aurora",
        {"instanceClass": "db.r6g.large"},
        "db.serverless",
    ),
    bad(
        "rds-serverless-only",
        RDS_CLUSTER,
        "multi-az-db-cluster",
        {"dbClusterInstanceClass": "db.m6gd.large"},
        "Multi-AZ",
    ),
    ok("ecs-fargate-only", ECS_SERVICE),
    ok(
        "ecs-fargate-only",
        ECS_SERVICE,
        "fargate-spot-strategy",
        {"launchType": DELETE, "capacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]},
    ),
    bad("ecs-fargate-only", ECS_SERVICE, "ec2-launch", {"launchType": "EC2"}, "'EC2'"),
    bad("ecs-fargate-only", ECS_SERVICE, "default-launch", {"launchType": DELETE}, "neither launchType"),
    bad(
        "ecs-fargate-only",
        ECS_SERVICE,
        "custom-provider",
        {"launchType": DELETE, "capacityProviderStrategies": [{"capacityProvider": "my-asg", "weight": 1}]},
        "my-asg",
    ),
    # ---- cost (resource rules)
    ok("no-nat-gateway", FUNCTION, "function-is-not-a-nat"),
    bad("no-nat-gateway", NAT, "nat-gateway", {}, "$32.85"),
    ok("kinesis-no-provisioned-stream", KINESIS),
    bad(
        "kinesis-no-provisioned-stream",
        KINESIS,
        "provisioned-default",
        {"streamModeDetails": DELETE, "shardCount": 1},
        "PROVISIONED",
    ),
    # ---- blind spots closed in 1.1
    ok("lambda-no-secrets-in-environment", FUNCTION),
    ok(
        "lambda-no-secrets-in-environment",
        FUNCTION,
        "references-and-plain-values",
        {
            "environment": {
                "variables": {
                    "TABLE_NAME": "orders",
                    "API_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:t",
                    "DB_PASSWORD_PARAMETER": "/orders/db-password",
                    "GITHUB_TOKEN": UNKNOWN,
                }
            }
        },
    ),
    bad(
        "lambda-no-secrets-in-environment",
        FUNCTION,
        "literal-token",
        {"environment": {"variables": {"STRIPE_API_KEY": "sk_live_abc123"}}},
        "STRIPE_API_KEY holds what looks like a credential, in plain text",
    ),
    bad(
        "lambda-no-secrets-in-environment",
        FUNCTION,
        "literal-password",
        {"environment": {"variables": {"DB_PASSWORD": "hunter2", "TABLE_NAME": "t"}}},
        "DB_PASSWORD",
    ),
    ok(
        "lambda-no-secrets-in-environment",
        FUNCTION,
        "allowed-by-config",
        {"environment": {"variables": {"AUTH_MODE": "cognito"}}},
        config={"allowedNames": ["AUTH_MODE"]},
    ),
    bad(
        "lambda-permission-scoped",
        PERMISSION,
        "account-wildcard-principal",
        {"principal": "arn:aws:iam::*:root", "sourceArn": DELETE},
        "account wildcard",
    ),
    bad(
        "sqs-encryption-at-rest",
        QUEUE,
        "sse-off-empty-key",
        {"sqsManagedSseEnabled": False, "kmsMasterKeyId": ""},
        "unencrypted",
    ),
    ok("apigateway-no-data-trace", METHOD_SETTINGS),
    ok("apigateway-no-data-trace", HTTP_STAGE, "http-stage"),
    bad(
        "apigateway-no-data-trace",
        METHOD_SETTINGS,
        "rest-data-trace",
        {"settings.dataTraceEnabled": True},
        "settings.dataTraceEnabled is true",
    ),
    bad(
        "apigateway-no-data-trace",
        HTTP_STAGE,
        "route-data-trace",
        {"routeSettings": [{"routeKey": "$connect", "dataTraceEnabled": True}]},
        "routeSettings.0.dataTraceEnabled",
    ),
    ok("apigateway-route-authorization", REST_API, "openapi-with-security"),
    ok("apigateway-route-authorization", HTTP_API, "http-api-with-routes"),
    bad(
        "apigateway-route-authorization",
        REST_API,
        "openapi-without-security",
        {"body": dumps(patched(OPENAPI, {"security": DELETE}))},
        "POST /orders with no security requirement",
    ),
    bad(
        "apigateway-route-authorization",
        HTTP_API,
        "openapi-operation-opted-out",
        {"body": dumps(patched(OPENAPI, {"paths./orders.post.security": []}))},
        "POST /orders",
    ),
    bad(
        "apigateway-route-authorization",
        HTTP_API,
        "quick-create",
        {"target": "arn:aws:lambda:eu-west-1:123456789012:function:f", "routeKey": "GET /orders"},
        "'GET /orders' has no authorizer",
    ),
    ok("apigateway-access-logging", HTTP_API, "api-with-own-stage"),
    bad(
        "apigateway-access-logging",
        HTTP_API,
        "quick-create",
        {"target": "arn:aws:lambda:eu-west-1:123456789012:function:f"},
        "never logged",
    ),
    ok("iam-no-wildcard-resource", ROLE),
    ok(
        "iam-no-wildcard-resource",
        ROLE_POLICY,
        "unscopable-actions-on-star",
        {"policy": policy_doc(allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]))},
    ),
    bad(
        "iam-no-wildcard-resource",
        ROLE_POLICY,
        "item-writes-on-star",
        {"policy": policy_doc(allow(["dynamodb:PutItem", "dynamodb:GetItem"]))},
        "dynamodb:PutItem",
    ),
    bad(
        "iam-no-wildcard-resource",
        IAM_POLICY,
        "invoke-on-star",
        {"policy": policy_doc(allow("lambda:InvokeFunction"), allow("sqs:SendMessage"))},
        "lambda:InvokeFunction",
    ),
    ok(
        "iam-no-wildcard-resource",
        ROLE_POLICY,
        "allowed-by-config",
        {"policy": policy_doc(allow("logs:CreateLogGroup"))},
        config={"allowedActions": ["logs:CreateLogGroup"]},
    ),
    ok("iam-actions-valid", ROLE),
    ok(
        "iam-actions-valid",
        ROLE_POLICY,
        "log-stream-wildcard",
        {
            "policy": policy_doc(
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*",
                ),
                allow("dynamodb:Get*", TABLE_ARN),
            )
        },
    ),
    bad(
        "iam-actions-valid",
        ROLE_POLICY,
        "misspelled-action",
        {"policy": policy_doc(allow("dynamodb:PutItems", TABLE_ARN))},
        "'dynamodb:PutItems' is not an action of dynamodb",
    ),
    bad(
        "iam-actions-valid",
        ROLE_POLICY,
        "action-on-wrong-resource-type",
        {"policy": policy_doc(allow("dynamodb:GetItem", "arn:aws:s3:::receipts/*"))},
        "'dynamodb:GetItem' cannot apply to arn:aws:s3:::receipts/*",
    ),
    bad(
        "iam-actions-valid",
        ROLE_POLICY,
        "unscopable-action-on-arn",
        {"policy": policy_doc(allow("xray:PutTraceSegments", TABLE_ARN))},
        'needs "Resource": "*"',
    ),
    bad(
        "iam-actions-valid",
        QUEUE_POLICY,
        "misspelled-in-resource-policy",
        {"policy": public("sqs:SendMesage", {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:1:t"}})},
        "'sqs:SendMesage'",
    ),
    bad(
        "iam-actions-valid",
        ROLE_POLICY,
        "unknown-service",
        {"policy": policy_doc(allow("dynamo:GetItem", TABLE_ARN))},
        "no service has the prefix 'dynamo'",
    ),
    ok("iam-no-broad-managed-policies", ROLE),
    ok("iam-no-broad-managed-policies", ROLE_ATTACHMENT, "basic-execution-role"),
    bad(
        "iam-no-broad-managed-policies",
        ROLE,
        "administrator",
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        "AdministratorAccess",
    ),
    bad(
        "iam-no-broad-managed-policies",
        ROLE_ATTACHMENT,
        "full-access",
        {"policyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"},
        "AmazonDynamoDBFullAccess",
    ),
    bad(
        "iam-no-broad-managed-policies",
        ROLE_ATTACHMENT,
        "power-user",
        {"policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
        "every action of the account",
    ),
    ok(
        "iam-no-broad-managed-policies",
        ROLE_ATTACHMENT,
        "allowed-by-config",
        {"policyArn": "arn:aws:iam::aws:policy/AWSXrayFullAccess"},
        config={"allowedPolicies": ["AWSXrayFullAccess"]},
    ),
    ok(
        "iam-trust-policy-scoped",
        ROLE,
        "org-restricted",
        {
            "assumeRolePolicy": public(
                "sts:AssumeRole", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, {"AWS": "*"}
            )
        },
    ),
    bad(
        "iam-trust-policy-scoped",
        ROLE,
        "any-service",
        {"assumeRolePolicy": public("sts:AssumeRole", principal={"Service": "*"})},
        "trusts the service '*'",
    ),
    bad(
        "iam-trust-policy-scoped",
        ROLE,
        "account-wildcard",
        {"assumeRolePolicy": public("sts:AssumeRole", principal={"AWS": "arn:aws:iam::*:root"})},
        "account wildcard",
    ),
    bad(
        "iam-trust-policy-scoped",
        ROLE,
        "condition-that-restricts-nothing",
        {"assumeRolePolicy": public("sts:AssumeRole", {"Bool": {"aws:SecureTransport": "true"}}, {"AWS": "*"})},
        "lets anyone assume the role",
    ),
    ok("resource-policy-no-public-principal", ECR_POLICY, "ecr-scoped"),
    ok("resource-policy-no-public-principal", REST_API_POLICY, "private-api-by-vpce"),
    ok("resource-policy-no-public-principal", LAYER_PERMISSION, "layer-shared-with-org"),
    ok(
        "resource-policy-no-public-principal",
        KMS_KEY,
        "key-for-callers-in-account",
        {"policy": public("kms:Decrypt", {"StringEquals": {"kms:CallerAccount": "123456789012"}}, {"AWS": "*"})},
    ),
    bad("resource-policy-no-public-principal", ECR_POLICY, "public-repository", {"policy": PUBLIC_DOC}, "anyone"),
    bad(
        "resource-policy-no-public-principal",
        SECRET_POLICY,
        "public-secret",
        {"policy": public("secretsmanager:GetSecretValue", principal={"AWS": "*"})},
        "anyone",
    ),
    bad(
        "resource-policy-no-public-principal",
        REST_API_POLICY,
        "condition-that-restricts-nothing",
        {"policy": public("execute-api:Invoke", {"Bool": {"aws:SecureTransport": "true"}})},
        "no condition that restricts the caller",
    ),
    bad(
        "resource-policy-no-public-principal",
        QUEUE_POLICY,
        "source-arn-with-any-account",
        {"policy": public("sqs:SendMessage", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:orders"}})},
        "anyone",
    ),
    bad(
        "resource-policy-no-public-principal",
        BUCKET,
        "deprecated-inline-bucket-policy",
        {"policy": public("s3:GetObject")},
        "policy allows anyone",
    ),
    bad(
        "resource-policy-no-public-principal",
        LAYER_PERMISSION,
        "public-layer",
        {"organizationId": DELETE},
        "every AWS account",
    ),
    bad(
        "resource-policy-no-public-principal",
        DOMAIN_POLICY,
        "open-domain",
        {"accessPolicies": public("es:ESHttp*")},
        "accessPolicies allows anyone",
    ),
    bad(
        "resource-policy-no-public-principal",
        TOPIC_POLICY,
        "account-wildcard-arn",
        {"policy": public("sns:Publish", principal={"AWS": "arn:aws:iam::*:role/publisher"})},
        "account wildcard",
    ),
    bad(
        "resource-policy-no-public-principal",
        BUCKET_POLICY,
        "not-principal",
        {
            "policy": policy_doc(
                {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*", "Resource": "*"}
            )
        },
        "NotPrincipal",
    ),
]
# CloudFront's cases live in their own module (it builds on Case and BASELINES above); they run and count with these.
from policy_cloudfront_cases import CLOUDFRONT_CASES  # noqa: E402

CASES += CLOUDFRONT_CASES
# The verdicts the public rule sets' own tests decide, and the rules added with them (issue 25).
from policy_verdict_cases import VERDICT_CASES  # noqa: E402

CASES += VERDICT_CASES
# So do the cases of the rules on AppSync, ECS, load balancers, RDS, EKS, EC2 and runtime dates.
from policy_coverage_cases import COVERAGE_CASES  # noqa: E402

CASES += COVERAGE_CASES
# And those of the rules on security-group ingress and ECR image tags (issue 22).
from policy_network_cases import NETWORK_CASES  # noqa: E402

CASES += NETWORK_CASES
# And those of the rules on databases reachable from the internet, unencrypted Redshift, deletion protection and
# backups (issue 22).
from policy_database_cases import DATABASE_CASES  # noqa: E402

CASES += DATABASE_CASES
# And those of the rules on ECS tasks with public addresses and EKS control-plane logs.
from policy_infra_cases import INFRA_CASES  # noqa: E402

CASES += INFRA_CASES
