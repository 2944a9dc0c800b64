"""AWS AppSync: X-Ray tracing, field-level logging, and no API-key-only auth on APIs that change data."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule, must_be_true, turn_on

GRAPHQL_API: Final = "aws:appsync/graphQLApi:GraphQLApi"

SERVICE: Final = "appsync"

API_KEY: Final = "API_KEY"

# AppSync's field log levels, least logged first (NONE logs nothing; ERROR, then INFO and DEBUG, then ALL).
FIELD_LOG_LEVELS: Final = ("NONE", "ERROR", "INFO", "DEBUG", "ALL")

_COMMENT: Final = re.compile(r"#[^\n]*")
# `type Mutation`, `extend type Mutation`, or a schema block that names another root type for mutations.
_MUTATION_TYPE: Final = re.compile(r"\btype\s+Mutation\b")
_SCHEMA_MUTATION: Final = re.compile(r"\bschema\b[^{]*\{[^}]*\bmutation\s*:", re.DOTALL)


def has_mutations(schema: str) -> bool:
    """Whether a GraphQL SDL schema declares mutations (comments ignored)."""
    text = _COMMENT.sub("", schema)
    return bool(_MUTATION_TYPE.search(text) or _SCHEMA_MUTATION.search(text))


def _auth_types(props: Props) -> list[str]:
    """The default authentication type, then every additional provider's."""
    types = [str(props.text("authenticationType", ""))]
    additional = props.each("additionalAuthenticationProviders")
    types += [str(provider.text("authenticationType", "")) for provider in additional]
    return types


def _no_api_key_only_mutations(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if any(kind != API_KEY for kind in _auth_types(props)):
        return
    schema = props.text("schema")
    if schema is ABSENT or not has_mutations(schema):
        return  # no schema here (managed elsewhere) or read-only: an API key only meters public reads
    yield (
        "the API authenticates with API keys only and its schema has mutations: anyone holding the key (it ships "
        "in the client) can change data; authorize mutations with Cognito user pools, OIDC, IAM or a Lambda "
        "authorizer (keep API_KEY as an additional provider for public queries if needed)"
    )


def _logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.has("logConfig"):
        yield "logConfig is not set: resolver errors leave no trace in CloudWatch Logs"
        return
    level = props.text("logConfig.fieldLogLevel", "NONE")
    minimum = config["minimumFieldLogLevel"]
    if level not in FIELD_LOG_LEVELS:
        yield f"logConfig.fieldLogLevel {level!r} is not one of {', '.join(FIELD_LOG_LEVELS)}"
    elif FIELD_LOG_LEVELS.index(level) < FIELD_LOG_LEVELS.index(minimum):
        yield f"logConfig.fieldLogLevel is {level!r}: log at least {minimum!r} so failed resolvers are recorded"
    if not props.is_set("logConfig.cloudwatchLogsRoleArn"):
        yield "logConfig.cloudwatchLogsRoleArn is not set: AppSync needs a role to write its logs"


RULES: Final = [
    ResourceRule(
        name="appsync-tracing",
        summary="AppSync GraphQL APIs trace requests with X-Ray",
        anchors=("serverless-rules WS3000 / aws_appsync_graphql_api_tracing_rule", "cdk-nag Serverless-AppSyncTracing"),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(GRAPHQL_API,),
        check=must_be_true("xrayEnabled", "resolvers are not traced with X-Ray"),
        fix=turn_on("xrayEnabled"),
    ),
    ResourceRule(
        name="appsync-mutations-not-api-key-only",
        summary=(
            "AppSync APIs whose schema has mutations authorize callers with more than an API key (Cognito, OIDC, "
            "IAM or Lambda)"
        ),
        anchors=("AWS Security Hub AppSync.5",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(GRAPHQL_API,),
        check=_no_api_key_only_mutations,
    ),
    ResourceRule(
        name="appsync-logging",
        summary="AppSync APIs send field-level logs to CloudWatch Logs at minimumFieldLogLevel or more",
        anchors=(
            "checkov CKV_AWS_193",
            "checkov CKV_AWS_194",
            "AWS Security Hub AppSync.2",
            "cdk-nag AwsSolutions-ASC3",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(GRAPHQL_API,),
        check=_logging,
        config={
            "minimumFieldLogLevel": {"type": "string", "enum": list(FIELD_LOG_LEVELS[1:]), "default": "ERROR"},
        },
    ),
]
