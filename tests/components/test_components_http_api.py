"""HttpApi: JWT on every route, each function invocable only by its route, throttled, JSON access logs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from components.http_api import HttpApi, HttpApiArgs, JwtAuthorizerArgs
from tests.components.conftest import PREFIX, TAGS, Built, build, worker_function

ISSUER = "https://issuer.example.com/pool"
AUDIENCE = "client-1"


def api(handlers: Path, **overrides: Any) -> HttpApi:
    worker = worker_function(handlers)
    args = HttpApiArgs(
        routes={"POST /orders": worker, "GET /orders/{orderId}": worker},
        authorizer=JwtAuthorizerArgs(issuer=ISSUER, audiences=[AUDIENCE]),
        throttling_burst_limit=20,
        throttling_rate_limit=10.0,
        log_retention_days=14,
        tags=TAGS,
    )
    return HttpApi("shop", replace(args, **overrides))


def output(built: Built, name: str, key: str) -> object:
    return built.child(name).outputs[key]


def test_defaults(handlers: Path) -> None:
    built = build(lambda: api(handlers))

    assert built.component.type == "orderflow:api:HttpApi"
    assert built.kinds() == {
        ("aws:apigatewayv2/api:Api", "shop-api"),
        ("aws:cloudwatch/logGroup:LogGroup", "shop-access-logs"),
        ("aws:apigatewayv2/authorizer:Authorizer", "shop-jwt"),
        ("aws:apigatewayv2/integration:Integration", "shop-post-orders-integration"),
        ("aws:lambda/permission:Permission", "shop-post-orders-invoke"),
        ("aws:apigatewayv2/route:Route", "shop-post-orders"),
        ("aws:apigatewayv2/integration:Integration", "shop-get-orders-orderid-integration"),
        ("aws:lambda/permission:Permission", "shop-get-orders-orderid-invoke"),
        ("aws:apigatewayv2/route:Route", "shop-get-orders-orderid"),
        ("aws:apigatewayv2/stage:Stage", "shop-stage"),
    }
    assert built.inputs("shop-api") == {
        "name": f"{PREFIX}-shop",
        "protocolType": "HTTP",
        "corsConfiguration": {
            "allowOrigins": [],
            "allowMethods": ["GET", "POST", "OPTIONS"],
            "allowHeaders": ["authorization", "content-type", "idempotency-key", "x-correlation-id"],
            "maxAge": 3600,
        },
    }
    assert built.inputs("shop-access-logs") == {"name": f"/aws/apigateway/{PREFIX}-shop", "retentionInDays": 14}
    api_id = built.child("shop-api").id
    assert built.inputs("shop-jwt") == {
        "apiId": api_id,
        "authorizerType": "JWT",
        "name": "jwt",
        "identitySources": ["$request.header.Authorization"],
        "jwtConfiguration": {"issuer": ISSUER, "audiences": [AUDIENCE]},
    }


def test_defaults_each_route_is_jwt_authorized_and_invokes_only_its_function(handlers: Path) -> None:
    built = build(lambda: api(handlers))

    api_id = built.child("shop-api").id
    function = built.run.named("worker-function")
    execution_arn = output(built, "shop-api", "executionArn")
    for role, route_key, source in (
        ("post-orders", "POST /orders", "POST/orders"),
        ("get-orders-orderid", "GET /orders/{orderId}", "GET/orders/*"),
    ):
        integration = built.child(f"shop-{role}-integration")
        assert built.inputs(f"shop-{role}-integration") == {
            "apiId": api_id,
            "integrationType": "AWS_PROXY",
            "integrationUri": function.outputs["arn"],
            "payloadFormatVersion": "2.0",
        }
        assert built.inputs(f"shop-{role}") == {
            "apiId": api_id,
            "routeKey": route_key,
            "authorizationType": "JWT",
            "authorizerId": built.child("shop-jwt").id,
            "target": f"integrations/{integration.id}",
        }
        assert built.inputs(f"shop-{role}-invoke") == {
            "action": "lambda:InvokeFunction",
            "function": function.outputs["name"],
            "principal": "apigateway.amazonaws.com",
            "sourceArn": f"{execution_arn}/*/{source}",
        }


def test_defaults_the_stage_is_throttled_and_logs_json_after_the_routes_exist(handlers: Path) -> None:
    built = build(lambda: api(handlers))

    stage = built.inputs("shop-stage")
    log_format = stage["accessLogSettings"].pop("format")
    assert json.loads(log_format)["requestId"] == "$context.requestId"
    assert stage == {
        "apiId": built.child("shop-api").id,
        "name": "$default",
        "autoDeploy": True,
        "accessLogSettings": {"destinationArn": output(built, "shop-access-logs", "arn")},
        "defaultRouteSettings": {"throttlingBurstLimit": 20, "throttlingRateLimit": 10.0},
    }
    routes = {built.child("shop-post-orders").urn, built.child("shop-get-orders-orderid").urn}
    assert routes <= set(built.child("shop-stage").dependencies)


def test_cors_origins_and_headers_are_the_callers(handlers: Path) -> None:
    built = build(
        lambda: api(handlers, allowed_origins=["https://shop.example.com"], allowed_headers=["authorization"])
    )

    cors = built.inputs("shop-api")["corsConfiguration"]
    assert cors["allowOrigins"] == ["https://shop.example.com"]
    assert cors["allowHeaders"] == ["authorization"]


def test_a_malformed_route_key_fails(handlers: Path) -> None:
    with pytest.raises(ValueError, match="'FETCH /orders' must look like 'POST /orders'"):
        build(lambda: api(handlers, routes={"FETCH /orders": worker_function(handlers, "other")}))
