"""Compliant stacks and one mutation per case for the stack rules on Secrets Manager, CloudFront access logs and
dead-letter queues in a stack without alarms.

Imported by ``policy_stack_cases`` once its helpers exist; its cases run and count with the others.
"""

from __future__ import annotations

from policy_stack_cases import ACCOUNT, REGION, StackCase, add, bad, baseline, dlq_alarm, drop, ok
from policy_testkit import UNKNOWN, Res

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"

SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf"
DISTRIBUTION_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE"


def secret_stack() -> list[Res]:
    """A secret whose value a random password generates, rotated by a function."""
    secret = Res(SECRET, "db", {"name": "db", "arn": SECRET_ARN, "id": SECRET_ARN})
    password = Res(RANDOM_PASSWORD, "db-password", {"length": 32, "result": "s3cr3t-generated"})
    version = Res(
        SECRET_VERSION,
        "db-value",
        {"secretId": SECRET_ARN, "secretString": "s3cr3t-generated"},
        {"secretId": [secret.urn], "secretString": [password.urn]},
    )
    rotation = Res(
        SECRET_ROTATION,
        "db-rotation",
        {
            "secretId": SECRET_ARN,
            "rotationLambdaArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
            "rotationRules": {"automaticallyAfterDays": 30},
        },
        {"secretId": [secret.urn]},
    )
    return [secret, password, version, rotation]


def preview_secret_stack() -> list[Res]:
    """The same stack in a first preview: the secret's ARN and the password are unknown."""
    urn = {r.name: r.urn for r in secret_stack()}
    return [
        Res(SECRET, "db", {"name": "db", "arn": UNKNOWN, "id": UNKNOWN}),
        Res(RANDOM_PASSWORD, "db-password", {"length": 32, "result": UNKNOWN}),
        Res(
            SECRET_VERSION,
            "db-value",
            {"secretId": UNKNOWN, "secretString": UNKNOWN},
            {"secretId": [urn["db"]], "secretString": [urn["db-password"]]},
        ),
        Res(SECRET_ROTATION, "db-rotation", {"secretId": UNKNOWN}, {"secretId": [urn["db"]]}),
    ]


def distribution(**props: object) -> Res:
    base: dict[str, object] = {"arn": DISTRIBUTION_ARN, "id": "E2EXAMPLE", "enabled": True}
    return Res(DISTRIBUTION, "site", {**base, **props})


def delivery_source(log_type: str = "ACCESS_LOGS", arn: str = DISTRIBUTION_ARN) -> Res:
    return Res(LOG_DELIVERY_SOURCE, "site-logs", {"name": "site", "logType": log_type, "resourceArn": arn})


COVERAGE_STACK_CASES: list[StackCase] = [
    # ---- secrets manager
    ok("secretsmanager-no-literal-secret", "generated-value", secret_stack),
    ok("secretsmanager-no-literal-secret", "preview-unknown-value", preview_secret_stack),
    bad(
        "secretsmanager-no-literal-secret",
        "literal-value",
        lambda: [
            r if r.name != "db-value" else Res(r.type, r.name, {**r.props, "secretString": "hunter2"}, {})
            for r in secret_stack()
        ],
        "db-value.secretString is a value known before the update that no resource produced",
    ),
    ok("secretsmanager-rotation", "rotated", secret_stack),
    ok("secretsmanager-rotation", "preview-by-dependency", preview_secret_stack),
    bad("secretsmanager-rotation", "no-rotation", lambda: drop(secret_stack(), "db-rotation"), "secret db has no"),
    bad(
        "secretsmanager-rotation",
        "rotation-of-another-secret",
        lambda: add(
            drop(secret_stack(), "db-rotation"),
            Res(SECRET_ROTATION, "other-rotation", {"secretId": "arn:aws:secretsmanager:eu-west-1:1:secret:other"}),
        ),
        "secret db has no SecretRotation",
    ),
    # ---- cloudfront access logs
    ok("cloudfront-access-logging", "legacy-logging", lambda: [distribution(loggingConfig={"bucket": "logs.s3"})]),
    ok("cloudfront-access-logging", "logging-v2", lambda: [distribution(), delivery_source()]),
    ok(
        "cloudfront-access-logging",
        "logging-v2-preview",
        lambda: [
            distribution(arn=UNKNOWN),
            Res(
                LOG_DELIVERY_SOURCE,
                "site-logs",
                {"logType": "ACCESS_LOGS", "resourceArn": UNKNOWN},
                {"resourceArn": [distribution().urn]},
            ),
        ],
    ),
    bad("cloudfront-access-logging", "no-logs", lambda: [distribution()], "distribution site keeps no access logs"),
    bad(
        "cloudfront-access-logging",
        "delivery-of-another-type",
        lambda: [distribution(), delivery_source(log_type="CONNECTION_LOGS")],
        "keeps no access logs",
    ),
    # ---- dead-letter queues in a stack without alarms
    bad(
        "dead-letter-queue-alarm-suggested",
        "no-alarms-yet",
        baseline,
        "dimensions {'QueueName': 'audit-dlq'}",
    ),
    bad(
        "dead-letter-queue-alarm-suggested",
        "names-the-metric",
        baseline,
        "dead-letter queue notify-dlq is not watched (the stack has no CloudWatch alarms yet): add an "
        "aws.cloudwatch.MetricAlarm with namespace 'AWS/SQS', metricName 'ApproximateNumberOfMessagesVisible'",
    ),
    # Once the stack has an alarm, dead-letter-queue-alarmed takes over (it reports notify-dlq there).
    ok("dead-letter-queue-alarm-suggested", "stack-has-alarms", lambda: add(baseline(), dlq_alarm("audit-dlq"))),
    ok(
        "dead-letter-queue-alarm-suggested",
        "no-dead-letter-queues",
        lambda: drop(baseline(), "audit-dlq", "notify-dlq", "notify-async", "audit"),
    ),
]
