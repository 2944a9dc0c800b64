"""Amazon API Gateway (REST v1 and HTTP/WebSocket v2): logging, tracing, throttling, authorization, timeouts.

APIs are seen however they are defined: resources (methods, routes, stages), an OpenAPI ``body``, or an
HTTP API's quick create (``target``/``routeKey`` on the Api, which makes a ``$default`` stage the program
cannot configure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import yaml
from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    CannotEvaluateError,
    Finding,
    Node,
    Props,
    ResourceRule,
    StackRule,
    StackView,
    lambda_identity,
    must_be_true,
    read_str,
    ref,
    same_target,
    turn_on,
)
from policy_pack.lambda_ import FUNCTION, LAMBDA_DEFAULT_TIMEOUT_SECONDS, function_for, function_keys

REST_API: Final = "aws:apigateway/restApi:RestApi"
REST_STAGE: Final = "aws:apigateway/stage:Stage"
REST_METHOD: Final = "aws:apigateway/method:Method"
REST_METHOD_SETTINGS: Final = "aws:apigateway/methodSettings:MethodSettings"
HTTP_API: Final = "aws:apigatewayv2/api:Api"
HTTP_STAGE: Final = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE: Final = "aws:apigatewayv2/route:Route"
REST_INTEGRATION: Final = "aws:apigateway/integration:Integration"
HTTP_INTEGRATION: Final = "aws:apigatewayv2/integration:Integration"
REST_DOMAIN: Final = "aws:apigateway/domainName:DomainName"
HTTP_DOMAIN: Final = "aws:apigatewayv2/domainName:DomainName"

# Security policies that negotiate TLS 1.2 or later only: TLS_1_2 and the enhanced SecurityPolicy_TLS12_*/TLS13_*
# policies (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-list.html).
MODERN_TLS_POLICY: Final = re.compile(r"^(TLS_1_2|SecurityPolicy_TLS1[23]_[A-Za-z0-9_]+)$")

# Integration timeouts when the program sets none (REST: 29 s; HTTP APIs: 30 s, also their maximum).
REST_DEFAULT_TIMEOUT_MS: Final = 29_000
HTTP_DEFAULT_TIMEOUT_MS: Final = 30_000
_HTTP_METHODS: Final = frozenset(
    {"get", "put", "post", "delete", "patch", "head", "options", "trace", "x-amazon-apigateway-any-method"}
)

SERVICE: Final = "apigateway"

# $context.requestId, $context.identity.sourceIp, $stageVariables.name, ...
_VARIABLE: Final = re.compile(r"\$(?:context|stageVariables|input)(?:\.[A-Za-z0-9_-]+)+")


def is_quick_create(props: Props) -> bool:
    """Whether an HTTP API is created with quick create (``target`` set), which makes its own ``$default`` stage."""
    return props.is_set("target")


QUICK_CREATE: Final = (
    "the API is created with quick create (target): AWS adds a $default stage and route the program cannot configure"
)


def _access_logging(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == HTTP_API:
        if is_quick_create(props):
            yield f"{QUICK_CREATE}, so its requests are never logged; declare a Stage with accessLogSettings"
        return
    if not props.is_set("accessLogSettings.destinationArn"):
        yield "accessLogSettings.destinationArn is not set: requests to this stage are not logged"
    elif not props.is_set("accessLogSettings.format"):
        yield "accessLogSettings.format is not set"


def _structured_access_logs(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    log_format = props.text("accessLogSettings.format")
    if log_format is ABSENT:
        return  # apigateway-access-logging reports the missing format
    try:
        json.loads(_VARIABLE.sub("1", log_format))
    except json.JSONDecodeError:
        yield "accessLogSettings.format is not a JSON object once its $context variables are filled in"


def _no_cache_cluster(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.flag("cacheClusterEnabled", False) is True:
        size = props.get("cacheClusterSize", "0.5")
        yield (
            f"cacheClusterEnabled is true: a {size} GB cache cluster is billed every hour even with no "
            "traffic; cache in the client, CloudFront or DynamoDB instead"
        )


def openapi_document(props: Props) -> Any:
    """An API's OpenAPI ``body`` parsed (JSON or YAML), :data:`ABSENT` when there is none.

    Raises
    ------
    CannotEvaluateError
        When the body is unknown during preview.
    """
    body = props.get("body")
    if body is ABSENT:
        return ABSENT
    if isinstance(body, Mapping):
        return body
    try:
        return yaml.safe_load(str(body))  # JSON is YAML too
    except yaml.YAMLError:
        return None


def unauthorized_operations(document: Any, exempt: set[str]) -> list[str]:
    """``METHOD /path`` of every OpenAPI operation without authorization (CORS preflight aside)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
        return []
    default_security = document.get("security")
    found = []
    for path, operations in document["paths"].items():
        if not isinstance(operations, Mapping):
            continue
        for method, operation in operations.items():
            if str(method).lower() not in _HTTP_METHODS or not isinstance(operation, Mapping):
                continue
            verb = "ANY" if str(method).lower() == "x-amazon-apigateway-any-method" else str(method).upper()
            key = f"{verb} {path}"
            if verb == "OPTIONS" or key in exempt:
                continue
            security = operation.get("security", default_security)
            if not security and not operation.get("x-amazon-apigateway-auth"):
                found.append(key)
    return found


def _authorization(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    exempt = set(config["exemptRouteKeys"])
    if resource_type in (REST_API, HTTP_API):
        if resource_type == HTTP_API and is_quick_create(props):
            route_key = props.text("routeKey", "$default") if props.has("routeKey") else "$default"
            yield f"{QUICK_CREATE}: its route {route_key!r} has no authorizer, so anyone can call it"
        document = openapi_document(props)
        if document is None:
            yield "body is not valid OpenAPI JSON or YAML"
            return
        open_operations = unauthorized_operations(document, exempt)
        if open_operations:
            yield (
                f"the OpenAPI body defines {', '.join(open_operations)} with no security requirement: anyone can "
                "call them; add a security scheme (or list them in exemptRouteKeys if public on purpose)"
            )
        return
    if resource_type == REST_METHOD:
        method = props.text("httpMethod", "")
        if method.upper() == "OPTIONS":
            return  # CORS preflight carries no credentials
        if props.text("authorization", "NONE").upper() == "NONE":
            yield f"{method or 'the'} method has authorization 'NONE': use IAM, a Cognito or a Lambda authorizer"
        return
    route_key = props.text("routeKey", "")
    if route_key in exempt or route_key.split(" ", 1)[0].upper() == "OPTIONS":
        return
    if not _may_take_authorizer(props, route_key):
        return
    if props.text("authorizationType", "NONE").upper() == "NONE":
        catch_all = " (the catch-all for every request no other route matches)" if route_key == "$default" else ""
        yield (
            f"route {route_key!r}{catch_all} has authorizationType 'NONE': use JWT, IAM or a Lambda authorizer, "
            "or list it in exemptRouteKeys if it is public on purpose"
        )


# Route properties only WebSocket APIs accept (AWS::ApiGatewayV2::Route: "supported only for WebSocket APIs").
_WEBSOCKET_ROUTE_PROPERTIES: Final = ("routeResponseSelectionExpression", "modelSelectionExpression", "requestModels")


def _may_take_authorizer(props: Props, route_key: str) -> bool:
    """Whether a route, judged alone, is one that can take an authorizer.

    HTTP routes (``METHOD /path``, ``$default``) and a WebSocket API's ``$connect`` can; other WebSocket routes
    (``$disconnect``, custom keys, and a ``$default`` that sets a WebSocket-only property) cannot.
    """
    if " " in route_key or route_key == "$connect":
        return True
    if route_key != "$default":
        return False
    return not any(props.is_set(key) for key in _WEBSOCKET_ROUTE_PROPERTIES)


def _no_data_trace(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == REST_METHOD_SETTINGS:
        if props.flag("settings.dataTraceEnabled", False) is True:
            yield (
                "settings.dataTraceEnabled is true: full requests and responses (tokens, personal data) go to the logs"
            )
        return
    paths = ["defaultRouteSettings", *(f"routeSettings.{i}" for i in range(len(props.seq("routeSettings"))))]
    for path in paths:
        if props.flag(f"{path}.dataTraceEnabled", False) is True:
            yield f"{path}.dataTraceEnabled is true: full messages go to the logs"


def _domain_tls(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    # A REST custom domain without securityPolicy gets TLS_1_0; an HTTP API domain states it per configuration.
    path = "securityPolicy" if resource_type == REST_DOMAIN else "domainNameConfiguration.securityPolicy"
    policy = props.text(path, "TLS_1_0")
    if not MODERN_TLS_POLICY.match(policy):
        yield f"{path} is {policy!r}: clients may connect with TLS 1.0 or 1.1; use 'TLS_1_2' or a TLS 1.3 policy"


# ---- stack rules -------------------------------------------------------------------------------------------


def _api_of(stack: StackView, node: Node) -> Node | None:
    apis = ref(stack, node, "apiId", (HTTP_API,))
    return apis[0] if apis else None


def _throttled(settings: Props) -> bool:
    return bool(settings.number("throttlingBurstLimit", 0)) and bool(settings.number("throttlingRateLimit", 0))


def _throttling(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for api in stack.of_type(HTTP_API):
        if is_quick_create(api.props):
            yield Finding(f"API {api.name}: {QUICK_CREATE}, and that stage has no throttling", api.urn)
    routes_by_api: dict[str, set[str]] = {}
    for route in stack.of_type(HTTP_ROUTE):
        route_api = _api_of(stack, route)
        key = read_str(route, "routeKey")
        if route_api is not None and key:
            routes_by_api.setdefault(route_api.urn, set()).add(key)
    for stage in stack.of_type(HTTP_STAGE):
        if _throttled(stage.props.child("defaultRouteSettings")):
            continue
        throttled_routes = {str(item.get("routeKey")) for item in stage.props.each("routeSettings") if _throttled(item)}
        stage_api = _api_of(stack, stage)
        routes = routes_by_api.get(stage_api.urn, set()) if stage_api is not None else set()
        if throttled_routes and (not routes or routes <= throttled_routes):
            continue  # per-route throttling covers every route
        unthrottled = sorted(routes - throttled_routes)
        detail = f" (routes without routeSettings throttling: {', '.join(unthrottled)})" if throttled_routes else ""
        yield Finding(
            f"stage {stage.name} has no defaultRouteSettings.throttlingBurstLimit and throttlingRateLimit{detail}: the "
            "API scales without a ceiling and passes every burst to its integrations",
            stage.urn,
        )
    settings_nodes = stack.of_type(REST_METHOD_SETTINGS)
    for stage in stack.of_type(REST_STAGE):
        throttled = False
        for settings in settings_nodes:
            try:
                if settings.props.text("methodPath", "") != "*/*":
                    continue
                ok = _throttled(settings.props.child("settings"))
            except CannotEvaluateError:
                stack.cannot_evaluate(f"method settings {settings.name}")
                continue
            if (
                ok
                and same_target(settings, "restApi", stage, "restApi", stage)
                and same_target(settings, "stageName", stage, "stageName", stage)
            ):
                throttled = True
        if not throttled:
            yield Finding(
                f"stage {stage.name} has no method settings for '*/*' with throttlingBurstLimit and "
                "throttlingRateLimit: the API scales without a ceiling",
                stage.urn,
            )


def _integrations(stack: StackView) -> Iterator[tuple[Node, str, Node, float]]:
    """``(holder, label, function, timeout ms)`` of every Lambda integration: resources and OpenAPI bodies."""
    for integration in stack.of_type(REST_INTEGRATION, HTTP_INTEGRATION):
        uri_key = "uri" if integration.type == REST_INTEGRATION else "integrationUri"
        keys = function_keys(stack, integration, uri_key)
        function = function_for(stack, keys) if keys else None
        if function is None:
            continue
        default = REST_DEFAULT_TIMEOUT_MS if integration.type == REST_INTEGRATION else HTTP_DEFAULT_TIMEOUT_MS
        try:
            yield (
                integration,
                f"integration {integration.name}",
                function,
                integration.props.number("timeoutMilliseconds", default),
            )
        except CannotEvaluateError:
            stack.cannot_evaluate(f"timeout of {integration.name}")
    for api in stack.of_type(REST_API, HTTP_API):
        try:
            document = openapi_document(api.props)
        except CannotEvaluateError:
            continue  # its integrations are checked once the body is known
        paths = document.get("paths") if isinstance(document, Mapping) else None
        default = REST_DEFAULT_TIMEOUT_MS if api.type == REST_API else HTTP_DEFAULT_TIMEOUT_MS
        for path, operations in (paths or {}).items():
            for method, operation in (operations or {}).items() if isinstance(operations, Mapping) else ():
                settings = operation.get("x-amazon-apigateway-integration") if isinstance(operation, Mapping) else None
                if not isinstance(settings, Mapping):
                    continue
                uri = settings.get("uri")
                if not isinstance(uri, str) or ":function:" not in uri:
                    continue
                function = function_for(stack, lambda_identity(uri))
                if function is not None:
                    timeout = settings.get("timeoutInMillis", default)
                    label = f"the {str(method).upper()} {path} integration of {api.name}"
                    yield api, label, function, float(timeout) if isinstance(timeout, int | float) else default


def _integration_timeout(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for holder, label, function, timeout_ms in _integrations(stack):
        try:
            function_seconds = function.props.number("timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS)
        except CannotEvaluateError:
            stack.cannot_evaluate(f"timeout of {function.name}")
            continue
        if function_seconds * 1000 > timeout_ms:
            yield Finding(
                f"{label} gives up after {timeout_ms / 1000:g} s but function {function.name} may run "
                f"{function_seconds:g} s: callers get a 5xx while the function keeps working (and is billed); make "
                "the function's timeout shorter than the integration's",
                holder.urn,
            )


RULES: Final = [
    ResourceRule(
        name="apigateway-access-logging",
        summary="API Gateway stages (REST and HTTP/WebSocket) write access logs with a format; no quick-create APIs",
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
        resource_types=(REST_STAGE, HTTP_STAGE, HTTP_API),
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
        check=must_be_true("xrayTracingEnabled", "requests through this stage are not traced with X-Ray"),
        fix=turn_on("xrayTracingEnabled"),
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
        summary=(
            "API Gateway methods, routes (the $default catch-all included), OpenAPI body operations and quick-create "
            "APIs require authorization (CORS preflight and listed public routes aside)"
        ),
        anchors=("cdk-nag AwsSolutions-APIG4", "checkov CKV_AWS_59", "checkov CKV_AWS_309"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_METHOD, HTTP_ROUTE, REST_API, HTTP_API),
        check=_authorization,
        config={"exemptRouteKeys": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="apigateway-no-data-trace",
        summary="API Gateway stages do not log full requests and responses (dataTraceEnabled off)",
        anchors=("checkov CKV_AWS_276",),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_METHOD_SETTINGS, HTTP_STAGE),
        check=_no_data_trace,
    ),
    ResourceRule(
        name="apigateway-domain-tls",
        summary=(
            "API Gateway custom domain names accept TLS 1.2 or later only (securityPolicy TLS_1_2 or a TLS 1.3 policy)"
        ),
        anchors=(
            "checkov CKV_AWS_206",
            "Pulumi CP aws-apigateway-domainname-configure-security-policy, "
            "aws-apigatewayv2-domainname-configure-domain-name-security-policy",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_DOMAIN, HTTP_DOMAIN),
        check=_domain_tls,
    ),
    StackRule(
        name="apigateway-default-throttling",
        summary=(
            "API Gateway stages throttle requests (REST: method settings for '*/*'; HTTP: default route settings, "
            "or route settings for every route); no quick-create APIs"
        ),
        anchors=(
            "serverless-rules ES2003 / aws_api_gateway_method_settings_throttling_rule, "
            "aws_apigatewayv2_stage_throttling_rule",
            "cdk-nag Serverless-APIGWDefaultThrottling",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REST_STAGE, HTTP_STAGE, HTTP_API, REST_METHOD_SETTINGS),
        check=_throttling,
    ),
    StackRule(
        name="apigateway-integration-timeout",
        summary="API integrations wait at least as long as the function behind them may run (REST default 29 s)",
        anchors=(),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(REST_INTEGRATION, HTTP_INTEGRATION, REST_API, HTTP_API, FUNCTION),
        check=_integration_timeout,
    ),
]
