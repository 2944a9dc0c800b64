"""The page's origin, locally: the site's files and the order API on one origin, as CloudFront serves them.

- Files come from ``web/public`` with the deployed content types, cache headers and the same
  Content-Security-Policy builder as the stack's response headers policy (with the local sign-in and
  broker as the allowed connections); extension-less paths load ``index.html``, like the SPA function.
- ``/config.json`` is written with :func:`orderflow.page.page_config`, as the stack writes it.
- Requests on the recorded routes go to the emulator's HTTP API (:mod:`offline.emulator.api`): the stage's
  default route throttling, the JWT authorizer (signature against the issuer's JWKS, issuer, expiry, and
  ``client_id``/``aud`` among the route's audiences), then the payload 2.0 event of the function behind the route.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from components.static_site import INDEX_DOCUMENT, cache_control, content_security_policy, content_type
from offline.emulator.api import HttpApi, JwtAuthorizer
from offline.emulator.recorded import RouteSpec

logger = logging.getLogger("local.api")

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class PageServer(ThreadingHTTPServer):
    """Serves the site and the API on one local origin.

    Parameters
    ----------
    address:
        ``(host, port)``; port 0 picks a free one.
    api:
        The emulator's HTTP API (routes, throttling, the functions behind them).
    site_dir:
        The page's files.
    authorizer:
        Verifies bearer tokens against the local sign-in.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        api: HttpApi,
        site_dir: Path,
        authorizer: JwtAuthorizer,
    ) -> None:
        super().__init__(address, PageHandler)
        self.host = address[0]
        self.api = api
        self.site_dir = site_dir.resolve()
        self.authorizer = authorizer
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
        matched = self.server.api.match(self.command, url.path)
        if matched is not None:
            self._api(matched[0], url.path, url.query)
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

    def _api(self, route: RouteSpec, path: str, query: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        claims = self.server.authorizer.claims(self.headers.get("Authorization"), route.jwt_audiences)
        result = self.server.api.request(
            self.command,
            path,
            claims=claims,
            body=body,
            headers=dict(self.headers.items()),
            query=query,
            source_ip=self.client_address[0],
        )
        logger.info("%s %s → %s", self.command, path, result.get("statusCode"))
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        self._send(int(result.get("statusCode", 200)), payload, headers)
