"""The recorded HTTP API: route matching, stage throttling, the JWT authorizer, payload 2.0 events.

:class:`HttpApi` answers a request as API Gateway's HTTP API would: a recorded route or 404, the stage's
default route throttling (429), the JWT authorizer's verdict (401), then the payload 2.0 event of the
function behind the route; a function error reaches the client as API Gateway's generic 500.
:class:`JwtAuthorizer` verifies a bearer token's signature against the issuer's JWKS, as the managed
authorizer does before it compares issuer and audience.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl

import jwt

from offline.emulator.lambdas import LambdaRuntime
from offline.emulator.recorded import RecordedSystem, RouteSpec
from offline.emulator.semantics import TokenBucket

UNAUTHORIZED: Final = {"message": "Unauthorized"}


class JwtAuthorizer:
    """Verifies a bearer token as API Gateway's JWT authorizer does: signature (the issuer's JWKS), issuer, expiry.

    API Gateway developer guide, "Control access to HTTP APIs with JWT authorizers"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
    """

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.jwks = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", lifespan=3600, timeout=2)

    def claims(self, authorization: str | None, audiences: tuple[str, ...]) -> dict[str, Any] | None:
        """The token's claims when it is valid for one of ``audiences``, else None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization.removeprefix("Bearer ").strip()
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self.issuer, options={"verify_aud": False})
        except jwt.PyJWTError:
            return None
        return claims if audience_matches(claims, audiences) else None


def audience_matches(claims: Mapping[str, Any], audiences: tuple[str, ...]) -> bool:
    """Whether ``aud`` or, for Cognito access tokens, ``client_id`` is one of the route's audiences."""
    audience = claims.get("aud")
    presented = {claims.get("client_id"), *(audience if isinstance(audience, list) else [audience])}
    return bool(presented & set(audiences))


def route_parameters(route: RouteSpec, method: str, path: str) -> dict[str, str] | None:
    """The path parameters when ``method path`` matches the route, else None."""
    if route.method != method:
        return None
    expected, actual = route.path.strip("/").split("/"), path.strip("/").split("/")
    if len(expected) != len(actual):
        return None
    parameters = {}
    for pattern, segment in zip(expected, actual, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            parameters[pattern[1:-1]] = segment
        elif pattern != segment:
            return None
    return parameters


class HttpApi:
    """The recorded routes of the HTTP API, in front of the Lambda runtime.

    Parameters
    ----------
    system:
        The recorded program (routes, stage throttling, domain).
    runtime:
        Runs the functions behind the routes.
    now:
        The clock the throttle refills on (the emulator's virtual clock).
    issuer:
        The token issuer the authorizer accepts, when not the recorded one (``make local``'s sign-in).
    """

    def __init__(
        self, system: RecordedSystem, runtime: LambdaRuntime, now: Callable[[], float], issuer: str | None = None
    ) -> None:
        self.system = system
        self.runtime = runtime
        self.routes = system.routes
        self.now = now
        self.issuer = issuer
        self.throttle = TokenBucket(system.throttle_rate, system.throttle_burst, start=now())
        """The stage's default route throttling (requests from any thread take tokens under a lock)."""
        self._throttle_lock = threading.Lock()

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        """The recorded route for ``method path`` and its path parameters, or None."""
        for route in self.routes:
            parameters = route_parameters(route, method, path)
            if parameters is not None:
                return route, parameters
        return None

    def authorized(self, route: RouteSpec, claims: Mapping[str, Any] | None) -> bool:
        """The JWT authorizer's verdict on verified claims: the route's issuer and one of its audiences."""
        if route.authorization_type != "JWT":
            return True
        if not claims or claims.get("iss") != (self.issuer or route.jwt_issuer):
            return False
        return audience_matches(claims, route.jwt_audiences)

    def request(
        self,
        method: str,
        path: str,
        *,
        claims: Mapping[str, Any] | None,
        body: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
        query: str = "",
        source_ip: str = "203.0.113.10",
    ) -> dict[str, Any]:
        """Send one request; returns the HTTP response as API Gateway gives it (``statusCode``, ``body``...).

        Raises
        ------
        LookupError
            When no recorded route matches ``method`` and ``path``.
        """
        matched = self.match(method, path)
        if matched is None:
            raise LookupError(f"no recorded route for {method} {path}")
        route, path_parameters = matched
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
        with self._throttle_lock:
            throttled = not self.throttle.take(self.now())
        if throttled:
            return _json_response(429, {"message": "Too Many Requests"}, request_id)
        if not self.authorized(route, claims):
            return _json_response(401, UNAUTHORIZED, request_id, {"www-authenticate": "Bearer"})
        raw_body = json.dumps(body) if isinstance(body, Mapping) else body
        event = self.event(route, path_parameters, method, path, query, raw_body, claims or {}, headers, request_id)
        event["requestContext"]["http"]["sourceIp"] = source_ip
        invocation = self.runtime.invoke(route.function_name, event, source="apigateway")
        if not invocation.succeeded:
            # A function error reaches the client as API Gateway's generic 500.
            return _json_response(500, {"message": "Internal Server Error"}, request_id)
        response = dict(invocation.result)
        # HTTP APIs name the request in every response, as the correlation id handlers fall back to.
        response["headers"] = {**(response.get("headers") or {}), "apigw-requestid": request_id}
        return response

    def event(
        self,
        route: RouteSpec,
        path_parameters: Mapping[str, str],
        method: str,
        path: str,
        query: str,
        body: str | None,
        claims: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        request_id: str,
    ) -> dict[str, Any]:
        """The payload 2.0 event API Gateway sends the function.

        API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP APIs"
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
        """
        now = datetime.fromtimestamp(self.now(), UTC)
        sent = {name.lower(): value for name, value in (headers or {}).items()}
        domain = sent.get("host") or self.system.api_domain
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"content-type": "application/json", "host": domain} | sent,
            "requestContext": {
                "accountId": self.system.account,
                "apiId": self.system.api_domain.split(".", 1)[0],
                # The JWT authorizer passes every claim as a string.
                "authorizer": {"jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}},
                "domainName": domain,
                "domainPrefix": domain.split(".", 1)[0],
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.10",
                    "userAgent": sent.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": route.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        query_parameters = dict(parse_qsl(query))
        if query_parameters:
            event["queryStringParameters"] = query_parameters
        if path_parameters:
            event["pathParameters"] = dict(path_parameters)
        if body is not None:
            event["body"] = body
        return event


def _json_response(status: int, body: Any, request_id: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "apigw-requestid": request_id, **(headers or {})},
        "body": json.dumps(body),
    }
