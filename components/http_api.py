"""``HttpApi``: an API Gateway HTTP API where every route needs a JWT and every request is logged.

A ``$default`` stage with JSON access logs in the API's own log group (with retention), default
route throttling (burst and rate from stack config: the ceiling that protects what sits behind the
API), Lambda proxy integrations with payload format 2.0 whose invoke permissions are scoped to the
route, a JWT authorizer on every route, and CORS limited to the configured origins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from components.children import invoke_permission, owned_log_group, tags_input
from components.function import Function
from components.naming import HTTP_API, physical_name

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

# Fields of API Gateway's $context documented for HTTP APIs; one JSON object per request.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "principalId": "$context.authorizer.claims.sub",
}


def access_log_format() -> str:
    """The stage's access-log format: a JSON object per request."""
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def parse_route_key(route_key: str) -> tuple[str, str]:
    """Split ``"POST /orders"`` into method and path.

    Raises
    ------
    ValueError
        When the method is unknown or the path does not start with ``/``.
    """
    method, _, path = route_key.partition(" ")
    if method not in HTTP_METHODS or not path.startswith("/"):
        raise ValueError(f"route key {route_key!r} must look like 'POST /orders'")
    return method, path


def route_source_arn(execution_arn: str, route_key: str) -> str:
    """``aws:SourceArn`` of one route on any stage: path parameters become ``*``."""
    method, path = parse_route_key(route_key)
    segments = ["*" if s.startswith("{") else s for s in path.strip("/").split("/")]
    return f"{execution_arn}/*/{method}/{'/'.join(segments)}"


def route_child_name(route_key: str) -> str:
    """URN-safe child name for a route: ``POST /orders/{orderId}`` → ``post-orders-orderid``."""
    return "".join(c if c.isalnum() else "-" for c in route_key.lower()).replace("--", "-").strip("-")


@dataclass
class JwtAuthorizerArgs:
    """The JWT authorizer every route uses."""

    issuer: pulumi.Input[str]
    """Token issuer URL (e.g. a Cognito user pool's)."""
    audiences: Sequence[pulumi.Input[str]]
    """Accepted ``aud``/``client_id`` values (e.g. the app client id)."""


@dataclass
class HttpApiArgs:
    """Inputs of :class:`HttpApi`."""

    routes: Mapping[str, Function]
    """Route key (``"POST /orders"``) → the function that serves it."""
    authorizer: JwtAuthorizerArgs
    """JWT authorizer applied to every route."""
    throttling_burst_limit: int
    """Default route burst limit (requests)."""
    throttling_rate_limit: float
    """Default route steady-state limit (requests per second)."""
    log_retention_days: int
    """Retention of the access-log group."""
    allowed_origins: Sequence[str] = ()
    """CORS origins; none means browsers on other origins are refused."""
    allowed_headers: Sequence[str] = field(
        default_factory=lambda: ["authorization", "content-type", "idempotency-key", "x-correlation-id"]
    )
    """Request headers browsers may send."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (API, stage, access-log group), on top of the provider's default tags."""


class HttpApi(pulumi.ComponentResource):
    """An HTTP API with JWT-authorized Lambda routes, throttling and JSON access logs."""

    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    authorizer: aws.apigatewayv2.Authorizer
    log_group: aws.cloudwatch.LogGroup
    url: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    id: pulumi.Output[str]

    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        methods = sorted({parse_route_key(key)[0] for key in args.routes})
        tags = tags_input(args.tags)
        api_name = physical_name(pulumi.get_project(), pulumi.get_stack(), name, HTTP_API)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=api_name,
            protocol_type="HTTP",
            cors_configuration={
                "allow_origins": list(args.allowed_origins),
                "allow_methods": [*methods, "OPTIONS"],
                "allow_headers": list(args.allowed_headers),
                "max_age": 3600,
            },
            tags=tags,
            opts=child,
        )
        self.log_group = owned_log_group(
            f"{name}-access-logs", f"/aws/apigateway/{api_name}", args.log_retention_days, child, args.tags
        )
        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt",
            api_id=self.api.id,
            authorizer_type="JWT",
            name="jwt",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration={"issuer": args.authorizer.issuer, "audiences": list(args.authorizer.audiences)},
            opts=child,
        )
        routes: list[pulumi.Resource] = []
        for route_key, function in args.routes.items():
            role = route_child_name(route_key)
            integration = aws.apigatewayv2.Integration(
                f"{name}-{role}-integration",
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_uri=function.arn,
                payload_format_version="2.0",
                opts=child,
            )
            invoke_permission(
                f"{name}-{role}-invoke",
                function.name,
                "apigateway.amazonaws.com",
                self.api.execution_arn.apply(partial(route_source_arn, route_key=route_key)),
                child,
            )
            routes.append(
                aws.apigatewayv2.Route(
                    f"{name}-{role}",
                    api_id=self.api.id,
                    route_key=route_key,
                    authorization_type="JWT",
                    authorizer_id=self.authorizer.id,
                    target=integration.id.apply(lambda integration_id: f"integrations/{integration_id}"),
                    opts=child,
                )
            )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings={"destination_arn": self.log_group.arn, "format": access_log_format()},
            default_route_settings={
                "throttling_burst_limit": args.throttling_burst_limit,
                "throttling_rate_limit": args.throttling_rate_limit,
            },
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        self.url = self.stage.invoke_url
        # The host alone, for a CDN origin serving the API on a site's own domain.
        self.domain_name = self.api.api_endpoint.apply(lambda endpoint: endpoint.removeprefix("https://"))
        self.id = self.api.id
        self.register_outputs({"url": self.url, "domainName": self.domain_name, "id": self.id})
