"""AWS AppSync: X-Ray tracing on GraphQL APIs."""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ResourceRule, must_be_true, turn_on

GRAPHQL_API: Final = "aws:appsync/graphQLApi:GraphQLApi"

SERVICE: Final = "appsync"


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
]
