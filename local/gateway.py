"""The page's origin, locally: the site's files and the order API on one origin, as CloudFront serves them.

- Files come from ``web/public`` with the deployed content types, cache headers and the same
  Content-Security-Policy builder as the stack's response headers policy (with the local sign-in and
  broker as the allowed connections); extension-less paths load ``index.html``, like the SPA function.
- ``/config.json`` is written with :func:`orderflow.page.page_config`, as the stack writes it.
- Requests on the recorded routes go through an emulation of the HTTP API's JWT authorizer (signature
  against the issuer's JWKS, issuer, expiry, and ``client_id``/``aud`` among the route's audiences) and of
  the stage's default route throttling, then become the payload 2.0 event of the function behind the route.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import jwt

from components.static_site import INDEX_DOCUMENT, cache_control, content_security_policy, content_type
from local.lambdas import LambdaRuntime
from local.recorded import Route, System

logger = logging.getLogger("local.api")

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class TokenBucket:
    """The stage's default route throttling: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, burst: int, rate: float) -> None:
        self.capacity = float(burst)
        self.rate = rate
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Whether one more request may pass now."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


class JwtAuthorizer:
    """What API Gateway's JWT authorizer checks, against the local issuer."""

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
        audience = claims.get("aud")
        presented = {claims.get("client_id"), *(audience if isinstance(audience, list) else [audience])}
        return claims if presented & set(audiences) else None


def route_parameters(route: Route, method: str, path: str) -> dict[str, str] | None:
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


class PageServer(ThreadingHTTPServer):
    """Serves the site and the API on one local origin.

    Parameters
    ----------
    address:
        ``(host, port)``; port 0 picks a free one.
    system, runtime:
        The recorded program and the functions' runtime.
    site_dir:
        The page's files.
    authorizer:
        The JWT authorizer emulation.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        system: System,
        runtime: LambdaRuntime,
        site_dir: Path,
        authorizer: JwtAuthorizer,
    ) -> None:
        super().__init__(address, PageHandler)
        self.host = address[0]
        self.system = system
        self.runtime = runtime
        self.site_dir = site_dir.resolve()
        self.authorizer = authorizer
        self.throttle = TokenBucket(system.throttle_burst, system.throttle_rate)
        self.page_config: dict[str, Any] = {}
        self.csp = content_security_policy([])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that left mid-reply (a reload, a click away) is ordinary; anything else is reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("%s closed the connection mid-reply", client_address[0])
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """``http://host:port``: the page's origin."""
        return f"http://{self.host}:{self.server_port}"

    def configure(self, page_config: Mapping[str, Any], connect_sources: list[str]) -> None:
        """Set what ``/config.json`` says and which connections the CSP allows."""
        self.page_config = dict(page_config)
        self.csp = content_security_policy(connect_sources)


class PageHandler(BaseHTTPRequestHandler):
    """Files, ``/config.json`` and the API routes of :class:`PageServer`."""

    server: PageServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: API calls are logged by the API path itself."""

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, "Content-Security-Policy": self.server.csp, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})

    def do_GET(self) -> None:
        """A file, the runtime config, or an API route."""
        self._handle()

    def do_HEAD(self) -> None:
        """What GET would answer, without the body."""
        self._handle()

    def do_POST(self) -> None:
        """An API route."""
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        for route in self.server.system.routes:
            parameters = route_parameters(route, self.command, url.path)
            if parameters is not None:
                self._api(route, parameters, url.path, url.query)
                return
        if self.command == "POST":
            self._json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        elif url.path == "/config.json":
            self._json(HTTPStatus.OK, self.server.page_config, {"Cache-Control": "no-cache"})
        else:
            self._file(url.path)

    def _file(self, path: str) -> None:
        key = path.lstrip("/") or INDEX_DOCUMENT
        if "." not in key.rsplit("/", 1)[-1]:
            key = INDEX_DOCUMENT  # the single-page app's routes
        target = (self.server.site_dir / key).resolve()
        if not target.is_relative_to(self.server.site_dir) or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found", {"Content-Type": "text/plain"})
            return
        self._send(
            HTTPStatus.OK, target.read_bytes(), {"Content-Type": content_type(key), "Cache-Control": cache_control(key)}
        )

    def _api(self, route: Route, parameters: dict[str, str], path: str, query: str) -> None:
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        if not self.server.throttle.take():
            self._json(HTTPStatus.TOO_MANY_REQUESTS, {"message": "Too Many Requests"}, {"apigw-requestid": request_id})
            return
        claims = self.server.authorizer.claims(self.headers.get("Authorization"), route.jwt_audiences)
        if claims is None:
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"message": "Unauthorized"},
                {"apigw-requestid": request_id, "www-authenticate": "Bearer"},
            )
            return
        event = self._event(route, parameters, path, query, body, claims, request_id)
        outcome = self.server.runtime.invoke(route.function_name, event)
        logger.info("%s %s → %s", self.command, path, outcome.result.get("statusCode") if outcome.succeeded else 500)
        if not outcome.succeeded:
            # A function error reaches the client as API Gateway's generic 500.
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
            return
        result = outcome.result
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        self._send(int(result.get("statusCode", 200)), payload, {**headers, "apigw-requestid": request_id})

    def _event(
        self,
        route: Route,
        parameters: dict[str, str],
        path: str,
        query: str,
        body: str | None,
        claims: Mapping[str, Any],
        request_id: str,
    ) -> dict[str, Any]:
        """The payload 2.0 event API Gateway sends for this request."""
        now = datetime.now(UTC)
        host = self.headers.get("Host", "localhost")
        route_key = f"{route.method} {route.path}"
        query_parameters = dict(parse_qsl(query))
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "requestContext": {
                "accountId": self.server.system.account,
                "apiId": "local",
                # The JWT authorizer passes every claim as a string.
                "authorizer": {"jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}},
                "domainName": host,
                "domainPrefix": host.split(".", 1)[0],
                "http": {
                    "method": self.command,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.client_address[0],
                    "userAgent": self.headers.get("User-Agent", ""),
                },
                "requestId": request_id,
                "routeKey": route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if query_parameters:
            event["queryStringParameters"] = query_parameters
        if parameters:
            event["pathParameters"] = parameters
        if body is not None:
            event["body"] = body
        return event
