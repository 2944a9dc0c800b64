"""AWS AppSync: X-Ray tracing on GraphQL APIs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

GRAPHQL_API: Final = "aws:appsync/graphQLApi:GraphQLApi"

SERVICE: Final = "appsync"


def _tracing(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("xrayEnabled", False) is not True:
        yield "xrayEnabled is not true: resolvers are not traced with X-Ray"


def _fix_tracing(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    return None if props.flag("xrayEnabled", False) is True else {"xrayEnabled": True}


RULES: Final = [
    ResourceRule(
        name="appsync-tracing",
        summary="AppSync GraphQL APIs trace requests with X-Ray",
        anchors=("serverless-rules WS3000 / aws_appsync_graphql_api_tracing_rule", "cdk-nag Serverless-AppSyncTracing"),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(GRAPHQL_API,),
        check=_tracing,
        fix=_fix_tracing,
    ),
]
