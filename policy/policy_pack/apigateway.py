"""Amazon API Gateway (REST v1 and HTTP/WebSocket v2): logging, tracing, no cache clusters, authorization.

Default-route throttling needs the REST stage's method settings, so it is a stack rule in ``stack``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule

REST_API: Final = "aws:apigateway/restApi:RestApi"
REST_STAGE: Final = "aws:apigateway/stage:Stage"
REST_METHOD: Final = "aws:apigateway/method:Method"
REST_METHOD_SETTINGS: Final = "aws:apigateway/methodSettings:MethodSettings"
HTTP_API: Final = "aws:apigatewayv2/api:Api"
HTTP_STAGE: Final = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE: Final = "aws:apigatewayv2/route:Route"

SERVICE: Final = "apigateway"

# $context.requestId, $context.identity.sourceIp, $stageVariables.name, ...
_VARIABLE: Final = re.compile(r"\$(?:context|stageVariables|input)(?:\.[A-Za-z0-9_-]+)+")


def _access_logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.has("accessLogSettings.destinationArn"):
        yield "accessLogSettings.destinationArn is not set: requests to this stage are not logged"
    elif not props.has("accessLogSettings.format"):
        yield "accessLogSettings.format is not set"


def _structured_access_logs(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    log_format = props.text("accessLogSettings.format")
    if log_format is ABSENT:
        return  # apigateway-access-logging reports the missing format
    try:
        json.loads(_VARIABLE.sub("1", log_format))
    except json.JSONDecodeError:
        yield "accessLogSettings.format is not a JSON object once its $context variables are filled in"


def _rest_tracing(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("xrayTracingEnabled", False) is not True:
        yield "xrayTracingEnabled is not true: requests through this stage are not traced with X-Ray"


def _fix_rest_tracing(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    return None if props.flag("xrayTracingEnabled", False) is True else {"xrayTracingEnabled": True}


def _no_cache_cluster(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("cacheClusterEnabled", False) is True:
        size = props.get("cacheClusterSize", "0.5")
        yield (
            f"cacheClusterEnabled is true: a {size} GB cache cluster is billed every hour even with no "
            "traffic; cache in the client, CloudFront or DynamoDB instead"
        )


def _authorization(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    exempt = set(config["exemptRouteKeys"])
    if resource_type == REST_METHOD:
        method = props.text("httpMethod", "")
        if method.upper() == "OPTIONS":
            return  # CORS preflight carries no credentials
        if props.text("authorization", "NONE").upper() == "NONE":
            yield f"{method or 'the'} method has authorization 'NONE': use IAM, a Cognito or a Lambda authorizer"
        return
    route_key = props.text("routeKey", "")
    if route_key in exempt:
        return
    is_http_route = " " in route_key
    if route_key.split(" ", 1)[0].upper() == "OPTIONS" or not (is_http_route or route_key == "$connect"):
        # WebSocket routes other than $connect cannot take an authorizer, and a bare $default may be either kind.
        return
    if props.text("authorizationType", "NONE").upper() == "NONE":
        yield (
            f"route {route_key!r} has authorizationType 'NONE': use JWT, IAM or a Lambda authorizer, "
            "or list it in exemptRouteKeys if it is public on purpose"
        )


RULES: Final = [
    ResourceRule(
        name="apigateway-access-logging",
        summary="API Gateway stages (REST and HTTP/WebSocket) write access logs with a format",
        anchors=(
            "serverless-rules ES2000 / aws_apigateway_stage_logging_rule, aws_apigatewayv2_stage_logging_rule",
            "cdk-nag Serverless-APIGWAccessLogging",
            "cdk-nag AwsSolutions-APIG1",
            "checkov CKV_AWS_76",
            "checkov CKV_AWS_95",
            "Pulumi CP aws-apigatewayv2-stage-enable-access-logging",
            "Pulumi BP api-gateway-access-logging",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_STAGE, HTTP_STAGE),
        check=_access_logging,
    ),
    ResourceRule(
        name="apigateway-structured-access-logs",
        summary="API Gateway access logs are JSON",
        anchors=(
            "serverless-rules WS2001 / aws_api_gateway_stage_structured_logging, "
            "aws_apigatewayv2_stage_structured_logging",
            "cdk-nag Serverless-APIGWStructuredLogging",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(REST_STAGE, HTTP_STAGE),
        check=_structured_access_logs,
    ),
    ResourceRule(
        name="apigateway-rest-tracing",
        summary="API Gateway REST stages trace requests with X-Ray",
        anchors=(
            "serverless-rules WS2002 / aws_apigateway_stage_tracing_rule",
            "cdk-nag Serverless-APIGWXrayEnabled",
            "checkov CKV_AWS_73",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(REST_STAGE,),
        check=_rest_tracing,
        fix=_fix_rest_tracing,
    ),
    ResourceRule(
        name="apigateway-no-cache-cluster",
        summary=(
            "API Gateway REST stages run without a cache cluster, which is billed hourly "
            "(inverts checkov CKV_AWS_120 and AWSGuard apigateway-stage-cached for scale to zero)"
        ),
        anchors=("checkov CKV_AWS_120 (inverted)", "AWSGuard apigateway-stage-cached (inverted)"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_STAGE,),
        check=_no_cache_cluster,
    ),
    ResourceRule(
        name="apigateway-route-authorization",
        summary="API Gateway methods and routes require authorization (CORS preflight and listed public routes aside)",
        anchors=("cdk-nag AwsSolutions-APIG4", "checkov CKV_AWS_59", "checkov CKV_AWS_309"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_METHOD, HTTP_ROUTE),
        check=_authorization,
        config={"exemptRouteKeys": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
]
