"""Compliant stacks and one mutation per case for every stack rule.

A small order pipeline (queue + DLQ + consumer, async notify function, alarms, API stages, a bucket)
is the baseline; each case changes one thing. References are by ARN/name (``up``) or, for the preview
cases, by property dependencies with the values unknown, as the engine sends them during preview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from policy_cases import (
    ALARM,
    ESM,
    FUNCTION,
    HTTP_STAGE,
    INVOKE_CONFIG,
    LOG_GROUP,
    PERMISSION,
    QUEUE,
    REST_STAGE,
)
from policy_testkit import DELETE, UNKNOWN, Res, dumps, patched

ACCOUNT = "123456789012"
REGION = "eu-west-1"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ROLE = "aws:iam/role:Role"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KMS_KEY = "aws:kms/key:Key"
FARGATE_TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
HTTP_API = "aws:apigatewayv2/api:Api"
HTTP_ROUTE = "aws:apigatewayv2/route:Route"
REST_INTEGRATION = "aws:apigateway/integration:Integration"
HTTP_INTEGRATION = "aws:apigatewayv2/integration:Integration"
XRAY_MANAGED = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"


def workflow(queue_name: str, *, via_catch: bool) -> Res:
    """A state machine that sends to ``queue_name`` from its Catch path (or from its normal path)."""
    park = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue_name}", "MessageBody.$": "$"},
        "Next": "Failed",
    }
    work = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Park" if not via_catch else "Done"}
    if via_catch:
        work["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Check"}]
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": work,
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Park"}],
                "Default": "Park",
            },
            "Park": park,
            "Failed": {"Type": "Fail"},
            "Done": {"Type": "Succeed"},
        },
    }
    return Res(STATE_MACHINE, "flow", {"definition": dumps(definition)})


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def queue(name: str, **props: Any) -> Res:
    return Res(
        QUEUE,
        name,
        {
            "name": name,
            "arn": queue_arn(name),
            "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
            **props,
        },
    )


def function(name: str, **props: Any) -> Res:
    base = {
        "name": name,
        "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "timeout": 10,
        "loggingConfig": {"logFormat": "JSON", "logGroup": f"/aws/lambda/{name}"},
    }
    return Res(FUNCTION, name, patched(base, props))


def role(name: str) -> Res:
    return Res(ROLE, f"{name}-role", {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"})


def log_group(function_name: str, retention: int | None = 7) -> Res:
    props: dict[str, Any] = {"name": f"/aws/lambda/{function_name}"}
    if retention is not None:
        props["retentionInDays"] = retention
    return Res(LOG_GROUP, f"{function_name}-logs", props)


def dlq_alarm(queue_name: str) -> Res:
    return Res(
        ALARM,
        f"{queue_name}-alarm",
        {
            "namespace": "AWS/SQS",
            "metricName": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": queue_name},
            "alarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:ops"],
        },
    )


def baseline() -> list[Res]:
    """A compliant stack for every stack rule."""
    return [
        queue("audit-dlq", messageRetentionSeconds=1_209_600),
        queue(
            "audit",
            visibilityTimeoutSeconds=60,
            redrivePolicy=dumps({"deadLetterTargetArn": queue_arn("audit-dlq"), "maxReceiveCount": 3}),
        ),
        queue("notify-dlq", messageRetentionSeconds=1_209_600),
        function("audit", timeout=10),
        role("audit"),
        log_group("audit"),
        function("notify", timeout=10),
        role("notify"),
        log_group("notify"),
        Res(
            ESM,
            "audit-source",
            {"eventSourceArn": queue_arn("audit"), "functionName": "audit", "scalingConfig": {"maximumConcurrency": 2}},
        ),
        Res(
            PERMISSION,
            "notify-from-events",
            {"function": "notify", "principal": "events.amazonaws.com", "sourceArn": "arn:aws:events:r"},
        ),
        Res(
            INVOKE_CONFIG,
            "notify-async",
            {"functionName": "notify", "destinationConfig": {"onFailure": {"destination": queue_arn("notify-dlq")}}},
        ),
        Res(
            HTTP_STAGE,
            "http",
            {
                "apiId": "api1",
                "name": "$default",
                "defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5},
            },
        ),
        Res(REST_STAGE, "rest", {"restApi": "rest1", "stageName": "prod"}),
        Res(
            METHOD_SETTINGS,
            "rest-throttle",
            {
                "restApi": "rest1",
                "stageName": "prod",
                "methodPath": "*/*",
                "settings": {"throttlingBurstLimit": 20, "throttlingRateLimit": 10},
            },
        ),
        Res(BUCKET, "receipts", {"bucket": "receipts", "arn": "arn:aws:s3:::receipts"}),
        Res(
            BUCKET_VERSIONING,
            "receipts-versioning",
            {"bucket": "receipts", "versioningConfiguration": {"status": "Enabled"}},
        ),
    ]


def replace(stack: list[Res], name: str, /, **changes: Any) -> list[Res]:
    """The stack with one resource's props patched (dotted keys; ``DELETE`` removes)."""
    return [
        Res(r.type, r.name, patched(r.props, {k.replace("__", "."): v for k, v in changes.items()}), r.deps)
        if r.name == name
        else r
        for r in stack
    ]


def drop(stack: list[Res], *names: str) -> list[Res]:
    return [r for r in stack if r.name not in names]


def add(stack: list[Res], *resources: Res) -> list[Res]:
    return [*stack, *resources]


def with_alarms(stack: list[Res]) -> list[Res]:
    return add(stack, dlq_alarm("audit-dlq"), dlq_alarm("notify-dlq"))


def preview_stack() -> list[Res]:
    """The baseline as preview sends it: ARNs, names and JSON documents unknown, dependencies recorded."""
    urn = {(r.type, r.name): r.urn for r in baseline()}
    fn = {name: urn[(FUNCTION, name)] for name in ("audit", "notify")}
    q = {name: urn[(QUEUE, name)] for name in ("audit", "audit-dlq", "notify-dlq")}
    roles = {name: urn[(ROLE, f"{name}-role")] for name in ("audit", "notify")}
    logs = {name: urn[(LOG_GROUP, f"{name}-logs")] for name in ("audit", "notify")}

    def function_with_role_and_logs(name: str) -> list[Res]:
        return [
            Res(
                FUNCTION,
                name,
                {"name": UNKNOWN, "role": UNKNOWN, "timeout": 10, "loggingConfig": UNKNOWN},
                {"role": [roles[name]], "loggingConfig": [logs[name]]},
            ),
            Res(ROLE, f"{name}-role", {"arn": UNKNOWN}),
            Res(LOG_GROUP, f"{name}-logs", {"name": f"/aws/lambda/x-{name}", "retentionInDays": 7}),
        ]

    return [
        Res(QUEUE, "audit-dlq", {"name": UNKNOWN, "arn": UNKNOWN, "messageRetentionSeconds": 1_209_600}),
        Res(
            QUEUE,
            "audit",
            {"name": UNKNOWN, "arn": UNKNOWN, "visibilityTimeoutSeconds": 60, "redrivePolicy": UNKNOWN},
            {"redrivePolicy": [q["audit-dlq"]]},
        ),
        Res(QUEUE, "notify-dlq", {"name": UNKNOWN, "arn": UNKNOWN}),
        *function_with_role_and_logs("audit"),
        *function_with_role_and_logs("notify"),
        Res(
            ESM,
            "audit-source",
            {"eventSourceArn": UNKNOWN, "functionName": UNKNOWN},
            {"eventSourceArn": [q["audit"]], "functionName": [fn["audit"]]},
        ),
        Res(
            PERMISSION,
            "notify-from-events",
            {"function": UNKNOWN, "principal": "events.amazonaws.com"},
            {"function": [fn["notify"]]},
        ),
        Res(
            INVOKE_CONFIG,
            "notify-async",
            {"functionName": UNKNOWN, "destinationConfig": {"onFailure": {"destination": UNKNOWN}}},
            {"functionName": [fn["notify"]], "destinationConfig": [q["notify-dlq"]]},
        ),
    ]


def log_group_named_from_function() -> list[Res]:
    """The baseline with notify auto-named (name unknown) and its group named from it: ``fn.name.apply(...)``."""
    stack = replace(baseline(), "notify", name=UNKNOWN, loggingConfig=DELETE)
    notify_urn = next(r.urn for r in stack if r.type == FUNCTION and r.name == "notify")
    group = Res(
        LOG_GROUP, "notify-logs", {"name": "/aws/lambda/notify-7f3a", "retentionInDays": 7}, {"name": [notify_urn]}
    )
    return [group if r.type == LOG_GROUP and r.name == "notify-logs" else r for r in stack]


def log_group_referenced_by_function() -> list[Res]:
    """The baseline with notify logging to a custom group it references, whose name is not known yet."""
    stack = replace(baseline(), "notify", loggingConfig={"logFormat": "JSON", "logGroup": UNKNOWN})
    group_urn = next(r.urn for r in stack if r.type == LOG_GROUP and r.name == "notify-logs")
    stack = [Res(r.type, r.name, r.props, {"loggingConfig": [group_urn]}) if r.name == "notify" else r for r in stack]
    return replace(stack, "notify-logs", name=UNKNOWN)


def role_policy(role_name: str, *statements: dict[str, Any], deps: dict[str, list[str]] | None = None) -> Res:
    """An inline ``RolePolicy`` on the role ``role_name`` (by name, as programs pass ``role.name``)."""
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return Res(
        ROLE_POLICY, f"{role_name}-policy-{len(statements)}", {"role": role_name, "policy": dumps(document)}, deps or {}
    )


def send(action: str, resource: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def writable_destinations() -> list[Res]:
    """The baseline, with notify's role allowed to send to its on-failure destination."""
    return add(baseline(), role_policy("notify", send("sqs:SendMessage", queue_arn("notify-dlq"))))


def traced(*extra: Res) -> list[Res]:
    """A function and a state machine with X-Ray tracing on, and their roles."""
    return [
        function("traced", tracingConfig={"mode": "Active"}),
        role("traced"),
        Res(
            STATE_MACHINE,
            "flow",
            {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/flow", "tracingConfiguration": {"enabled": True}},
        ),
        role("flow"),
        *extra,
    ]


RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders/notify"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders"


def admitting(service: str, source_arn: str | None, queue_name: str = "target-dlq") -> Res:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn(queue_name),
    }
    if source_arn is not None:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    return Res(
        QUEUE_POLICY,
        f"{queue_name}-policy",
        {
            "queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue_name}",
            "policy": dumps({"Version": "2012-10-17", "Statement": [statement]}),
        },
    )


def event_dlq(*policies: Res) -> list[Res]:
    """An EventBridge rule whose target sends undeliverable events to ``target-dlq``."""
    return [
        Res(EVENT_RULE, "notify-rule", {"name": "notify", "arn": RULE_ARN, "eventBusName": "orders"}),
        Res(
            EVENT_TARGET,
            "notify-target",
            {"rule": "notify", "arn": "arn:aws:lambda:r", "deadLetterConfig": {"arn": queue_arn("target-dlq")}},
        ),
        queue("target-dlq"),
        *policies,
    ]


def subscription_dlq(*policies: Res) -> list[Res]:
    """An SNS subscription redriving to ``target-dlq``."""
    return [
        Res(TOPIC, "orders-topic", {"name": "orders", "arn": TOPIC_ARN}),
        Res(
            SUBSCRIPTION,
            "orders-sub",
            {"topic": TOPIC_ARN, "redrivePolicy": dumps({"deadLetterTargetArn": queue_arn("target-dlq")})},
        ),
        queue("target-dlq"),
        *policies,
    ]


def http_api(route_key: str, authorization: str = "NONE", protocol: str = "HTTP", **stage: Any) -> list[Res]:
    api = Res(HTTP_API, "api", {"name": "api", "protocolType": protocol, "id": "api1"})
    return [
        api,
        Res(HTTP_ROUTE, "route", {"apiId": "api1", "routeKey": route_key, "authorizationType": authorization}),
        Res(HTTP_STAGE, "stage", {"apiId": "api1", "name": "$default", **stage}),
    ]


def integration(function_timeout: int, **props: Any) -> list[Res]:
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:slow"
    return [
        function("slow", timeout=function_timeout),
        Res(
            REST_INTEGRATION,
            "slow-integration",
            {"uri": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations", **props},
        ),
    ]


@dataclass(frozen=True)
class StackCase:
    id: str
    rule: str
    build: Callable[[], list[Res]]
    fails: bool
    contains: str = ""
    config: dict[str, Any] | None = field(default=None)
    stack_config: dict[str, str] | None = field(default=None)
    """The stack's own config (``PULUMI_CONFIG``), for rules that tell a config value from a literal."""


def ok(rule: str, case_id: str, build: Callable[[], list[Res]], **kw: Any) -> StackCase:
    return StackCase(case_id, rule, build, False, **kw)


def bad(rule: str, case_id: str, build: Callable[[], list[Res]], contains: str, **kw: Any) -> StackCase:
    return StackCase(case_id, rule, build, True, contains, **kw)


STACK_CASES: list[StackCase] = [
    ok("sqs-redrive-policy", "baseline", baseline),
    ok("sqs-redrive-policy", "preview-unknown-redrive", preview_stack),
    ok(
        "sqs-redrive-policy",
        "separate-redrive-resource",
        lambda: add(
            replace(baseline(), "audit", redrivePolicy=DELETE),
            Res(
                REDRIVE_POLICY,
                "audit-redrive",
                {
                    "queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/audit",
                    "redrivePolicy": dumps({"deadLetterTargetArn": queue_arn("audit-dlq"), "maxReceiveCount": 3}),
                },
            ),
        ),
    ),
    ok(
        "sqs-redrive-policy",
        "subscription-dlq-exempt",
        lambda: add(
            baseline(),
            queue("sub-dlq"),
            Res(SUBSCRIPTION, "sub", {"redrivePolicy": dumps({"deadLetterTargetArn": queue_arn("sub-dlq")})}),
        ),
    ),
    bad(
        "sqs-redrive-policy",
        "redrive-removed",
        lambda: replace(baseline(), "audit", redrivePolicy=DELETE),
        "queue audit has no redrive",
    ),
    bad("sqs-redrive-policy", "plain-queue", lambda: add(baseline(), queue("orphan")), "queue orphan"),
    ok("sqs-visibility-timeout", "baseline", baseline),
    ok("sqs-visibility-timeout", "preview-by-dependency", preview_stack),
    bad(
        "sqs-visibility-timeout",
        "visibility-too-short",
        lambda: replace(baseline(), "audit", visibilityTimeoutSeconds=30),
        "under 6 x the 10 s timeout",
    ),
    bad(
        "sqs-visibility-timeout",
        "default-visibility",
        lambda: replace(baseline(), "audit", visibilityTimeoutSeconds=DELETE),
        "visibility timeout of 30 s",
    ),
    bad(
        "sqs-visibility-timeout",
        "preview-timeout-raised",
        lambda: replace(preview_stack(), "audit", visibilityTimeoutSeconds=30),
        "make it at least 60 s",
    ),
    ok("sqs-dlq-retention", "baseline", baseline),
    bad(
        "sqs-dlq-retention",
        "short-dlq-retention",
        lambda: replace(baseline(), "audit-dlq", messageRetentionSeconds=60),
        "expire in the DLQ",
    ),
    ok("dead-letter-queue-alarmed", "no-alarms-not-required", baseline),
    ok(
        "dead-letter-queue-alarmed",
        "every-dlq-alarmed",
        lambda: with_alarms(baseline()),
        config={"requireAlarms": True},
    ),
    bad(
        "dead-letter-queue-alarmed",
        "stack-has-alarms-dlq-missed",
        lambda: add(baseline(), dlq_alarm("audit-dlq")),
        "notify-dlq has no CloudWatch alarm",
    ),
    bad(
        "dead-letter-queue-alarmed",
        "alarms-required",
        baseline,
        "audit-dlq has no CloudWatch alarm",
        config={"requireAlarms": True},
    ),
    ok("lambda-async-failure-destination", "baseline", baseline),
    ok("lambda-async-failure-destination", "preview-by-dependency", preview_stack),
    ok(
        "lambda-async-failure-destination",
        "dlq-accepted-by-config",
        lambda: replace(
            drop(baseline(), "notify-async"), "notify", deadLetterConfig={"targetArn": queue_arn("notify-dlq")}
        ),
        config={"acceptDeadLetterQueue": True},
    ),
    bad(
        "lambda-async-failure-destination",
        "invoke-config-removed",
        lambda: drop(baseline(), "notify-async"),
        "function notify is invoked asynchronously by events.amazonaws.com",
    ),
    bad(
        "lambda-async-failure-destination",
        "destination-removed",
        lambda: replace(baseline(), "notify-async", destinationConfig=DELETE),
        "no event invoke config",
    ),
    bad(
        "lambda-async-failure-destination",
        "s3-trigger-without-config",
        lambda: add(
            baseline(),
            Res(
                PERMISSION,
                "audit-from-s3",
                {
                    "function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:audit",
                    "principal": "s3.amazonaws.com",
                    "sourceAccount": ACCOUNT,
                },
            ),
        ),
        "function audit is invoked asynchronously by s3.amazonaws.com",
    ),
    ok("lambda-permission-single-principal", "baseline", baseline),
    bad(
        "lambda-permission-single-principal",
        "two-principals",
        lambda: add(
            baseline(), Res(PERMISSION, "notify-from-sns", {"function": "notify", "principal": "sns.amazonaws.com"})
        ),
        "events.amazonaws.com, sns.amazonaws.com",
    ),
    ok("lambda-log-group-retention", "baseline", baseline),
    ok("lambda-log-group-retention", "preview-by-dependency", preview_stack),
    bad(
        "lambda-log-group-retention",
        "log-group-missing",
        lambda: drop(baseline(), "notify-logs"),
        "no log group /aws/lambda/notify",
    ),
    bad(
        "lambda-log-group-retention",
        "log-group-without-retention",
        lambda: replace(baseline(), "notify-logs", retentionInDays=DELETE),
        "has no retention",
    ),
    ok("lambda-log-group-retention", "name-from-function-output", log_group_named_from_function),
    bad(
        "lambda-log-group-retention",
        "name-from-function-output-without-retention",
        lambda: replace(log_group_named_from_function(), "notify-logs", retentionInDays=DELETE),
        "log group notify-logs of function notify has no retention",
    ),
    bad(
        "lambda-log-group-retention",
        "name-from-function-output-but-another-group",
        lambda: replace(
            log_group_named_from_function(), "notify", name="notify-7f3a", loggingConfig={"logGroup": "/orders/notify"}
        ),
        "no log group /orders/notify",
    ),
    ok("lambda-log-group-retention", "logging-config-references-group", log_group_referenced_by_function),
    bad(
        "lambda-log-group-retention",
        "logging-config-references-group-without-retention",
        lambda: replace(log_group_referenced_by_function(), "notify-logs", retentionInDays=DELETE),
        "log group notify-logs of function notify has no retention",
    ),
    ok("lambda-unique-execution-role", "baseline", baseline),
    ok("lambda-unique-execution-role", "preview-by-dependency", preview_stack),
    bad(
        "lambda-unique-execution-role",
        "shared-role",
        lambda: replace(baseline(), "notify", role=f"arn:aws:iam::{ACCOUNT}:role/audit"),
        "shares its execution role",
    ),
    ok("apigateway-default-throttling", "baseline", baseline),
    bad(
        "apigateway-default-throttling",
        "http-unthrottled",
        lambda: replace(baseline(), "http", defaultRouteSettings=DELETE),
        "stage http has no defaultRouteSettings",
    ),
    bad(
        "apigateway-default-throttling",
        "rest-settings-missing",
        lambda: drop(baseline(), "rest-throttle"),
        "stage rest has no method settings",
    ),
    bad(
        "apigateway-default-throttling",
        "rest-settings-other-stage",
        lambda: replace(baseline(), "rest-throttle", stageName="dev"),
        "stage rest has no method settings",
    ),
    ok("s3-bucket-versioning", "baseline", baseline),
    ok(
        "s3-bucket-versioning",
        "inline-versioning",
        lambda: replace(drop(baseline(), "receipts-versioning"), "receipts", versioning={"enabled": True}),
    ),
    bad(
        "s3-bucket-versioning",
        "versioning-removed",
        lambda: drop(baseline(), "receipts-versioning"),
        "bucket receipts has no versioning",
    ),
    bad(
        "s3-bucket-versioning",
        "versioning-suspended",
        lambda: replace(baseline(), "receipts-versioning", versioningConfiguration={"status": "Suspended"}),
        "no versioning",
    ),
    ok("idle-cost-budget", "baseline-free", baseline),
    ok("idle-cost-budget", "alarms-within-budget", lambda: with_alarms(baseline()), config={"monthlyBudgetUsd": 0.2}),
    bad(
        "idle-cost-budget",
        "alarms-over-zero-budget",
        lambda: with_alarms(baseline()),
        "$0.20/month is over the $0.00 budget",
    ),
    bad(
        "idle-cost-budget",
        "kms-key",
        lambda: add(baseline(), Res(KMS_KEY, "key", {"enableKeyRotation": True})),
        "$1.00  KMS customer-managed key  (key)",
    ),
    bad(
        "idle-cost-budget",
        "unpriced-server",
        lambda: add(baseline(), Res("aws:ec2/instance:Instance", "box", {"instanceType": "t4g.micro"})),
        "1 item(s) have no price",
        config={"monthlyBudgetUsd": 100},
    ),
    bad(
        "idle-cost-budget",
        "fargate-service",
        lambda: add(
            baseline(),
            Res(
                "aws:ecs/taskDefinition:TaskDefinition",
                "web-task",
                {"family": "web", "arn": FARGATE_TASK_ARN, "cpu": "256", "memory": "512"},
            ),
            Res(
                "aws:ecs/service:Service",
                "web",
                {"launchType": "FARGATE", "desiredCount": 2, "taskDefinition": FARGATE_TASK_ARN},
            ),
        ),
        # 2 x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) x 730 h
        "$18.02  Fargate service (2 x 0.25 vCPU/0.5 GB, Linux/X86_64, always on)  (web)",
    ),
    # ---- 1.1: failure paths that work, tracing that deploys, and closed blind spots
    ok("lambda-failure-destination-writable", "role-may-send", writable_destinations),
    ok(
        "lambda-failure-destination-writable",
        "managed-policy-grants-it",
        lambda: add(
            baseline(),
            Res(
                ROLE_ATTACHMENT,
                "notify-sqs",
                {"role": "notify", "policyArn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess"},
            ),
        ),
    ),
    bad(
        "lambda-failure-destination-writable",
        "role-may-not-send",
        baseline,
        "execution role notify-role is not allowed sqs:SendMessage",
    ),
    bad(
        "lambda-failure-destination-writable",
        "grant-on-another-queue",
        lambda: add(baseline(), role_policy("notify", send("sqs:SendMessage", queue_arn("audit-dlq")))),
        "not allowed sqs:SendMessage",
    ),
    bad(
        "lambda-failure-destination-writable",
        "function-dlq-topic-without-publish",
        lambda: add(
            replace(writable_destinations(), "audit", deadLetterConfig={"targetArn": TOPIC_ARN}),
            Res(TOPIC, "orders-topic", {"name": "orders", "arn": TOPIC_ARN}),
        ),
        "not allowed sns:Publish",
    ),
    ok(
        "lambda-tracing-permissions",
        "permissions-granted",
        lambda: traced(
            Res(ROLE_ATTACHMENT, "traced-xray", {"role": "traced", "policyArn": XRAY_MANAGED}),
            role_policy("flow", send(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")),
        ),
    ),
    bad("lambda-tracing-permissions", "no-xray-permissions", traced, "xray:PutTraceSegments, xray:PutTelemetryRecords"),
    ok(
        "sfn-tracing-permissions",
        "permissions-granted",
        lambda: traced(
            role_policy(
                "flow",
                send(
                    [
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                    ],
                    "*",
                ),
            )
        ),
    ),
    bad(
        "sfn-tracing-permissions",
        "sampling-rules-missing",
        lambda: traced(role_policy("flow", send(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"))),
        "xray:GetSamplingRules",
    ),
    ok(
        "sqs-dlq-admits-writer",
        "rule-dlq-admits-events",
        lambda: event_dlq(admitting("events.amazonaws.com", RULE_ARN)),
    ),
    ok(
        "sqs-dlq-admits-writer",
        "subscription-dlq-admits-sns",
        lambda: subscription_dlq(admitting("sns.amazonaws.com", TOPIC_ARN)),
    ),
    bad("sqs-dlq-admits-writer", "rule-dlq-without-policy", event_dlq, "lets events.amazonaws.com sqs:SendMessage"),
    bad(
        "sqs-dlq-admits-writer",
        "subscription-dlq-admits-the-wrong-service",
        lambda: subscription_dlq(admitting("events.amazonaws.com", TOPIC_ARN)),
        "lets sns.amazonaws.com sqs:SendMessage",
    ),
    bad(
        "sqs-dlq-admits-writer",
        "admitted-for-any-source",
        lambda: event_dlq(admitting("events.amazonaws.com", None)),
        "without an aws:SourceArn",
    ),
    bad(
        "sqs-dlq-admits-writer",
        "scoped-to-another-rule",
        lambda: event_dlq(admitting("events.amazonaws.com", RULE_ARN + "-other")),
        "no queue policy that lets events.amazonaws.com",
    ),
    ok(
        "sqs-dlq-admits-writer",
        "unscoped-accepted-by-config",
        lambda: event_dlq(admitting("events.amazonaws.com", None)),
        config={"requireSourceCondition": False},
    ),
    bad(
        "sqs-redrive-policy",
        "redrive-empty-object",
        lambda: replace(baseline(), "audit", redrivePolicy="{}"),
        "no deadLetterTargetArn",
    ),
    bad(
        "sqs-redrive-policy",
        "redrive-not-json",
        lambda: replace(baseline(), "audit", redrivePolicy="deadLetterTargetArn=x"),
        "not valid JSON",
    ),
    bad(
        "sqs-redrive-policy",
        "redrive-without-max-receive-count",
        lambda: replace(baseline(), "audit", redrivePolicy=dumps({"deadLetterTargetArn": queue_arn("audit-dlq")})),
        "no maxReceiveCount",
    ),
    ok(
        "apigateway-default-throttling",
        "per-route-throttling",
        lambda: http_api(
            "GET /orders",
            "JWT",
            routeSettings=[{"routeKey": "GET /orders", "throttlingBurstLimit": 5, "throttlingRateLimit": 2}],
        ),
    ),
    bad(
        "apigateway-default-throttling",
        "route-without-throttling",
        lambda: add(
            http_api(
                "GET /orders",
                "JWT",
                routeSettings=[{"routeKey": "GET /orders", "throttlingBurstLimit": 5, "throttlingRateLimit": 2}],
            ),
            Res(HTTP_ROUTE, "route-2", {"apiId": "api1", "routeKey": "POST /orders", "authorizationType": "JWT"}),
        ),
        "routes without routeSettings throttling: POST /orders",
    ),
    bad(
        "apigateway-default-throttling",
        "quick-create",
        lambda: [Res(HTTP_API, "quick", {"protocolType": "HTTP", "target": "arn:aws:lambda:r:1:function:f"})],
        "quick create",
    ),
    ok("apigateway-integration-timeout", "function-finishes-first", lambda: integration(10)),
    bad("apigateway-integration-timeout", "function-outlives-rest-limit", lambda: integration(60), "after 29 s"),
    bad(
        "apigateway-integration-timeout",
        "short-custom-timeout",
        lambda: integration(10, timeoutMilliseconds=5000),
        "after 5 s",
    ),
]


# ---- capacity-no-silent-choke-point: a throttled route in front of a function, and the queue consumer ----

HTTP_ROUTE = "aws:apigatewayv2/route:Route"
HTTP_INTEGRATION = "aws:apigatewayv2/integration:Integration"


def routed(reserved: int, *, preview: bool = False) -> list[Res]:
    """The baseline with ``POST /orders`` on the throttled HTTP stage (5 requests/s), integrated with ``orders``."""
    fn = function("orders", reservedConcurrentExecutions=reserved)
    integration = Res(
        HTTP_INTEGRATION, "orders-integration", {"id": "int1", "apiId": "api1", "integrationUri": fn.props["arn"]}
    )
    route = Res(
        HTTP_ROUTE, "orders-route", {"apiId": "api1", "routeKey": "POST /orders", "target": "integrations/int1"}
    )
    if preview:
        # As the engine sends a first preview: ids and ARNs unknown, the dependencies recorded.
        integration = Res(
            HTTP_INTEGRATION,
            "orders-integration",
            {"apiId": "api1", "integrationUri": UNKNOWN},
            {"integrationUri": [fn.urn]},
        )
        route = Res(
            HTTP_ROUTE,
            "orders-route",
            {"apiId": "api1", "routeKey": "POST /orders", "target": UNKNOWN},
            {"target": [integration.urn]},
        )
    return add(baseline(), fn, integration, route)


STACK_CASES += [
    ok("capacity-no-silent-choke-point", "baseline", baseline),
    ok("capacity-no-silent-choke-point", "function-serves-the-route", lambda: routed(1)),
    bad(
        "capacity-no-silent-choke-point",
        "function-slower-than-the-route",
        lambda: routed(1),
        "serves at most 2.0/s (reserved concurrency 1 at 500 ms each)",
        config={"durationsMs": {"orders": 500}},
    ),
    bad(
        "capacity-no-silent-choke-point",
        "default-duration-from-config",
        lambda: routed(1),
        "admits 5 requests/s",
        config={"defaultDurationMs": 250},
    ),
    ok(
        "capacity-no-silent-choke-point",
        "headroom-zero",
        lambda: routed(1),
        config={"defaultDurationMs": 250, "headroom": 0},
    ),
    bad(
        "capacity-no-silent-choke-point",
        "preview-by-dependencies",
        lambda: routed(1, preview=True),
        "function orders serves at most 4.0/s",
        config={"defaultDurationMs": 250},
    ),
    bad(
        "capacity-no-silent-choke-point",
        "sqs-max-concurrency-above-reserved",
        lambda: replace(baseline(), "audit", reservedConcurrentExecutions=1),
        "polls with maximumConcurrency 2 but function audit may run only 1 at once",
    ),
    ok(
        "capacity-no-silent-choke-point",
        "sqs-max-concurrency-within-reserved",
        lambda: replace(baseline(), "audit", reservedConcurrentExecutions=2),
    ),
]
# The cases of the stack rules on Secrets Manager, CloudFront access logs and DLQs without alarms live in their own
# module (it builds on the helpers above); they run and count with these.
from policy_coverage_stack_cases import COVERAGE_STACK_CASES  # noqa: E402

STACK_CASES += COVERAGE_STACK_CASES
# And those of the stack rule on ECR image scanning (issue 22).
from policy_ecr_stack_cases import ECR_STACK_CASES  # noqa: E402

STACK_CASES += ECR_STACK_CASES
# And those of the stack rule on EBS encryption at rest.
from policy_ebs_stack_cases import EBS_STACK_CASES  # noqa: E402

STACK_CASES += EBS_STACK_CASES
# And those of the stack rule on RDS master passwords.
from policy_database_stack_cases import DATABASE_STACK_CASES  # noqa: E402

STACK_CASES += DATABASE_STACK_CASES
