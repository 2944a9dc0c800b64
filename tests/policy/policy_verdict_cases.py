"""Compliant baselines and one mutation per failing shape for the verdicts the public rule sets' own tests decide.

Each group follows the test cases of the rule it claims (checkov CKV_AWS_61, CKV_AWS_309, CKV_AWS_70,
CKV_AWS_385, serverless-rules WS1003), rewritten as the resources the engine sends, plus the rules added
with them. Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases
run and count with the others.
"""

from __future__ import annotations

from typing import Any

from policy_cases import (
    BASELINES,
    BUCKET_POLICY,
    FUNCTION,
    FUNCTION_URL,
    HTTP_ROUTE,
    QUEUE_POLICY,
    ROLE,
    STATE_MACHINE,
    TABLE,
    TOPIC,
    TOPIC_POLICY,
    Case,
    bad,
    ok,
    policy_doc,
)
from policy_testkit import DELETE

TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
REST_DOMAIN = "aws:apigateway/domainName:DomainName"
HTTP_DOMAIN = "aws:apigatewayv2/domainName:DomainName"

OTHER_ACCOUNT = "111122223333"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/1"
BASELINES |= {
    TABLE_REPLICA: {"globalTableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "kmsKeyArn": KEY_ARN},
    REST_DOMAIN: {
        "domainName": "api.example.com",
        "regionalCertificateArn": CERTIFICATE,
        "endpointConfiguration": {"types": ["REGIONAL"]},
        "securityPolicy": "TLS_1_2",
    },
    HTTP_DOMAIN: {
        "domainName": "api.example.com",
        "domainNameConfiguration": {
            "certificateArn": CERTIFICATE,
            "endpointType": "REGIONAL",
            "securityPolicy": "TLS_1_2",
        },
    },
}


def trust(*principals: Any, condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    """A role's trust policy: one statement trusting the AWS principals given."""
    statement: dict[str, Any] = {"Effect": effect, "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return {"assumeRolePolicy": policy_doc(statement)}


def inline(*statements: dict[str, Any]) -> dict[str, Any]:
    """A Lambda role's inline policy holding the statements given."""
    return {"inlinePolicies": [{"name": "own", "policy": policy_doc(*statements)}]}


def bucket_grant(condition: dict[str, Any] | None, *more: dict[str, Any], principal: Any = "*") -> dict[str, Any]:
    """A bucket policy that lets ``principal`` read objects, under ``condition``, plus ``more`` statements."""
    statement: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::receipts/*",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"policy": policy_doc(statement, *more)}


def deny_unless(operator: str, key: str, value: str, action: str = "s3:*") -> dict[str, Any]:
    """A Deny-everyone statement refusing ``action`` to any caller whose ``key`` is not ``value``."""
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": ["arn:aws:s3:::receipts", "arn:aws:s3:::receipts/*"],
        "Condition": {operator: {key: value}},
    }


TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:t"
SNS_ACTIONS = ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"]


def topic_grant(principal: Any, condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": "Partner", "Effect": "Allow", "Principal": principal, "Action": SNS_ACTIONS}
    statement["Resource"] = TOPIC_ARN
    if condition is not None:
        statement["Condition"] = condition
    return statement | extra


S3_PUBLISHES = topic_grant(
    {"Service": "s3.amazonaws.com"},
    {
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::receipts"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    },
    Sid="S3Publishes",
    Action="SNS:Publish",
)
PARTNER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/sns"

TRUST = "iam-trust-policy-scoped"
ROUTE = "apigateway-route-authorization"
PUBLIC = "resource-policy-no-public-principal"
CROSS = "sns-topic-policy-no-cross-account"
STAR = "iam-no-wildcard-actions"
SIGNING = "lambda-code-signing"
CORS = "lambda-function-url-cors"
CMK = "dynamodb-customer-managed-key"
TLS = "apigateway-domain-tls"
SFN_LOGS = "sfn-logging-enabled"

VERDICT_CASES: list[Case] = [
    # ---- trust policies that let a whole account assume the role (checkov CKV_AWS_61)
    ok(TRUST, ROLE, "named-role-of-another-account", trust(f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer")),
    ok(
        TRUST,
        ROLE,
        "account-with-external-id",
        trust(f"arn:aws:iam::{OTHER_ACCOUNT}:root", condition={"StringEquals": {"sts:ExternalId": "orders-7f3a"}}),
    ),
    ok(
        TRUST,
        ROLE,
        "account-narrowed-to-a-role",
        trust(
            OTHER_ACCOUNT,
            condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer"}},
        ),
    ),
    ok(
        TRUST,
        ROLE,
        "account-with-mfa",
        trust(f"arn:aws:iam::{OTHER_ACCOUNT}:root", condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    ),
    ok(TRUST, ROLE, "account-denied", trust(OTHER_ACCOUNT, effect="Deny")),
    bad(TRUST, ROLE, "bare-account-id", trust(OTHER_ACCOUNT), "the whole account '111122223333'"),
    bad(TRUST, ROLE, "account-root-arn", trust(f"arn:aws:iam::{OTHER_ACCOUNT}:root"), "the whole account"),
    bad(
        TRUST,
        ROLE,
        "account-beside-a-role",
        trust(f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer", OTHER_ACCOUNT),
        "the whole account",
    ),
    bad(
        TRUST,
        ROLE,
        "account-in-a-second-statement",
        {
            "assumeRolePolicy": policy_doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer"},
                    "Action": "sts:AssumeRole",
                },
                {"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": [OTHER_ACCOUNT]}, "Action": "sts:AssumeRole"},
            )
        },
        "assumeRolePolicy Ops trusts the whole account",
    ),
    bad(
        TRUST,
        ROLE,
        "account-with-condition-that-narrows-nothing",
        trust(f"arn:aws:iam::{OTHER_ACCOUNT}:root", condition={"Bool": {"aws:SecureTransport": "true"}}),
        "the whole account",
    ),
    bad(
        TRUST,
        ROLE,
        "account-with-mfa-if-exists",
        trust(OTHER_ACCOUNT, condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}),
        "the whole account",
    ),
    # ---- HTTP API routes judged alone (checkov CKV_AWS_309): $default is no exception
    ok(ROUTE, HTTP_ROUTE, "default-route-with-jwt", {"routeKey": "$default", "authorizationType": "JWT"}),
    ok(ROUTE, HTTP_ROUTE, "default-route-with-iam", {"routeKey": "$default", "authorizationType": "AWS_IAM"}),
    ok(
        ROUTE,
        HTTP_ROUTE,
        "websocket-default-route",
        {"routeKey": "$default", "authorizationType": "NONE", "routeResponseSelectionExpression": "$default"},
    ),
    ok(ROUTE, HTTP_ROUTE, "websocket-disconnect", {"routeKey": "$disconnect", "authorizationType": DELETE}),
    bad(
        ROUTE,
        HTTP_ROUTE,
        "default-route-unset",
        {"routeKey": "$default", "authorizationType": DELETE, "authorizerId": DELETE},
        "the catch-all",
    ),
    bad(
        ROUTE,
        HTTP_ROUTE,
        "default-route-none",
        {"routeKey": "$default", "authorizationType": "NONE", "authorizerId": DELETE},
        "'$default'",
    ),
    # ---- bucket policies open to '*' but narrowed by a condition (checkov CKV_AWS_70)
    ok(PUBLIC, BUCKET_POLICY, "vpc-endpoint", bucket_grant({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
    ok(PUBLIC, BUCKET_POLICY, "lower-case-vpce-key", bucket_grant({"StringEquals": {"aws:sourceVpce": "vpce-1a2b"}})),
    ok(PUBLIC, BUCKET_POLICY, "vpc", bucket_grant({"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d"}})),
    ok(PUBLIC, BUCKET_POLICY, "endpoint-account", bucket_grant({"StringEquals": {"aws:VpceAccount": "123456789012"}})),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "principal-account",
        bucket_grant({"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, principal={"AWS": "*"}),
    ),
    ok(PUBLIC, BUCKET_POLICY, "organization", bucket_grant({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "named-principal-arn",
        bucket_grant({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCOUNT}:user/auditor"}}),
    ),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "service-source-account",
        bucket_grant({"StringEquals": {"aws:SourceAccount": "123456789012"}}),
    ),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "trail-source-arn",
        bucket_grant({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{OTHER_ACCOUNT}:trail/*"}}),
    ),
    ok(
        PUBLIC,
        QUEUE_POLICY,
        "source-bucket-arn",
        {
            "policy": policy_doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::receipts"}},
                }
            )
        },
    ),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "deny-outside-the-endpoint",
        bucket_grant(None, deny_unless("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d")),
    ),
    ok(
        PUBLIC,
        BUCKET_POLICY,
        "deny-outside-the-vpc-if-exists",
        bucket_grant(None, deny_unless("StringNotEqualsIfExists", "aws:SourceVpc", "vpc-0a1b2c3d")),
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "secure-transport-only",
        bucket_grant({"Bool": {"aws:SecureTransport": "true"}}),
        "Read ('*')",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "date-only",
        bucket_grant({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "vpc-endpoint-if-exists",
        bucket_grant({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "everyone-but-one-principal",
        bucket_grant({"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCOUNT}:user/intruder"}}),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "principal-arn-of-any-account",
        bucket_grant({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*"}}, principal={"AWS": "*"}),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "deny-that-misses-the-action",
        bucket_grant(None, deny_unless("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d", "s3:PutObject")),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "deny-outside-the-endpoint-only-over-http",
        bucket_grant(
            None,
            deny_unless("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d")
            | {
                "Condition": {
                    "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
                    "Bool": {"aws:SecureTransport": "false"},
                }
            },
        ),
        "allows anyone",
    ),
    bad(
        PUBLIC,
        BUCKET_POLICY,
        "source-arn-of-any-bucket",
        bucket_grant({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
        "allows anyone",
    ),
    # ---- SNS topic policies granting other accounts (checkov CKV_AWS_385)
    ok(CROSS, TOPIC_POLICY),
    ok(CROSS, TOPIC_POLICY, "anyone-is-another-rules-finding", {"policy": policy_doc(topic_grant("*"))}),
    ok(CROSS, TOPIC_POLICY, "any-aws-principal", {"policy": policy_doc(topic_grant({"AWS": ["*"]}))}),
    ok(
        CROSS,
        TOPIC_POLICY,
        "partner-narrowed-to-its-role",
        {
            "policy": policy_doc(
                S3_PUBLISHES, topic_grant({"AWS": [PARTNER_ROLE]}, {"ArnEquals": {"aws:PrincipalArn": PARTNER_ROLE}})
            )
        },
    ),
    ok(
        CROSS,
        TOPIC_POLICY,
        "same-account-role",
        {"policy": policy_doc(topic_grant({"AWS": "arn:aws:iam::123456789012:role/publisher"}))},
    ),
    bad(
        CROSS,
        TOPIC_POLICY,
        "partner-role-unconditioned",
        {"policy": policy_doc(topic_grant({"AWS": [PARTNER_ROLE]}))},
        f"grants '{PARTNER_ROLE}' of another account",
    ),
    bad(
        CROSS,
        TOPIC_POLICY,
        "service-scoped-partner-not",
        {"policy": policy_doc(S3_PUBLISHES, topic_grant({"AWS": [PARTNER_ROLE]}))},
        "policy Partner grants",
    ),
    bad(
        CROSS,
        TOPIC_POLICY,
        "partner-account-id",
        {"policy": policy_doc(topic_grant({"AWS": OTHER_ACCOUNT}))},
        "of another account",
    ),
    bad(
        CROSS,
        TOPIC_POLICY,
        "condition-that-narrows-nothing",
        {"policy": policy_doc(topic_grant({"AWS": PARTNER_ROLE}, {"Bool": {"aws:SecureTransport": "true"}}))},
        "of another account",
    ),
    bad(
        CROSS,
        TOPIC,
        "inline-topic-policy",
        {"policy": policy_doc(topic_grant({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, Resource="*"))},
        "of another account",
    ),
    # ---- Lambda roles' inline policies (serverless-rules WS1003: actions only, whatever the resource)
    ok(
        STAR,
        ROLE,
        "named-action-on-any-resource",
        inline({"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": "*"}),
    ),
    ok(STAR, ROLE, "action-prefix", inline({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"})),
    bad(
        STAR,
        ROLE,
        "service-star-inline",
        inline({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}),
        "'s3:*'",
    ),
    bad(
        STAR,
        ROLE,
        "full-star-inline",
        inline({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}),
        "'*'",
    ),
    bad(
        STAR,
        ROLE,
        "star-prefixed-action",
        inline({"Effect": "Allow", "Action": ["s3:*Object"], "Resource": "arn:aws:s3:::b/*"}),
        "'s3:*Object'",
    ),
    # ---- Lambda code signing (checkov CKV_AWS_272) and function URL CORS (checkov CKV2_AWS_75)
    ok(SIGNING, FUNCTION),
    ok(
        SIGNING,
        FUNCTION,
        "container-image",
        {"packageType": "Image", "runtime": DELETE, "codeSigningConfigArn": DELETE},
    ),
    bad(SIGNING, FUNCTION, "unsigned", {"codeSigningConfigArn": DELETE}, "codeSigningConfigArn is not set"),
    ok(CORS, FUNCTION_URL),
    ok(
        CORS,
        FUNCTION_URL,
        "named-origin",
        {"cors": {"allowOrigins": ["https://shop.example.com"], "allowMethods": ["*"]}},
    ),
    bad(CORS, FUNCTION_URL, "open-cors", {"cors": {"allowOrigins": ["*"], "allowMethods": ["*"]}}, "both '*'"),
    # ---- DynamoDB keys (checkov CKV_AWS_119, CKV_AWS_271)
    ok(CMK, TABLE, "customer-managed-key", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN}}),
    ok(CMK, TABLE_REPLICA),
    bad(CMK, TABLE, "default-encryption", {}, "does not name a kmsKeyArn"),
    bad(CMK, TABLE, "aws-managed-key", {"serverSideEncryption": {"enabled": True}}, "does not name a kmsKeyArn"),
    bad(
        CMK,
        TABLE,
        "replica-without-key",
        {
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "replicas": [{"regionName": "eu-central-1"}],
        },
        "replicas.0.kmsKeyArn",
    ),
    bad(CMK, TABLE_REPLICA, "replica-resource-without-key", {"kmsKeyArn": DELETE}, "kmsKeyArn is not set"),
    # ---- API Gateway custom domains (checkov CKV_AWS_206)
    ok(TLS, REST_DOMAIN),
    ok(TLS, REST_DOMAIN, "tls13-policy", {"securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"}),
    ok(TLS, HTTP_DOMAIN, "http-api-domain"),
    bad(TLS, REST_DOMAIN, "policy-absent", {"securityPolicy": DELETE}, "'TLS_1_0'"),
    bad(TLS, REST_DOMAIN, "tls10", {"securityPolicy": "TLS_1_0"}, "TLS 1.0 or 1.1"),
    # ---- Step Functions execution data in the logs (checkov CKV_AWS_285)
    bad(
        SFN_LOGS,
        STATE_MACHINE,
        "without-execution-data",
        {"loggingConfiguration.includeExecutionData": False},
        "includeExecutionData is not true",
    ),
    ok(
        SFN_LOGS,
        STATE_MACHINE,
        "execution-data-opted-out",
        {"loggingConfiguration.includeExecutionData": False},
        config={"requireExecutionData": False},
    ),
]
