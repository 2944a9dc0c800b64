"""The page's origin, locally: the site's files and the order API on one origin, as CloudFront serves them.

- Files come from ``web/public`` with the deployed content types, cache headers and the same
  Content-Security-Policy builder as the stack's response headers policy (with the local sign-in and
  broker as the allowed connections); extension-less paths load ``index.html``, like the SPA function.
- ``/config.json`` is written with :func:`orderflow.page.page_config`, as the stack writes it.
- Requests on the recorded routes go to the emulator's HTTP API (:mod:`offline.emulator.api`): the stage's
  default route throttling, the JWT authorizer (signature against the issuer's JWKS, issuer, expiry, and
  ``client_id``/``aud`` among the route's audiences), then the payload 2.0 event of the function behind the route.
- A presigned S3 ``GetObject`` link in an API reply (the receipt link) is served by this origin under ``/_s3/``
  from the emulated bucket, until it expires: the browser cannot reach S3 from here. The expiry is checked as S3
  checks it (``X-Amz-Date`` + ``X-Amz-Expires``); the signature is not, since the emulated S3 accepts any.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from botocore.exceptions import ClientError

from components.static_site import INDEX_DOCUMENT, cache_control, content_security_policy, content_type
from offline.emulator.api import HttpApi, JwtAuthorizer
from offline.emulator.recorded import RouteSpec

logger = logging.getLogger("local.api")

# The S3 hosts a presigned link can name: virtual-hosted (``<bucket>.s3.<region>.amazonaws.com``) or path-style.
S3_HOST: Final = re.compile(r"^(?:(?P<bucket>[a-z0-9.-]+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
LOCAL_S3_PREFIX: Final = "/_s3/"


def local_object_url(url: str) -> str | None:
    """The local origin's path for a presigned S3 link (``/_s3/<bucket>/<key>?<query>``), or None if ``url`` is none."""
    parts = urlsplit(url)
    match = S3_HOST.match(parts.hostname or "")
    if parts.scheme != "https" or match is None:
        return None
    path = parts.path.lstrip("/")
    if match["bucket"] is None:  # path-style: the bucket is the first segment
        bucket, _, key = path.partition("/")
    else:
        bucket, key = match["bucket"], path
    return f"{LOCAL_S3_PREFIX}{bucket}/{key}?{parts.query}" if bucket and key else None


def presigned_link_expired(query: Mapping[str, list[str]], now: datetime) -> bool:
    """Whether a SigV4 presigned link has expired (or is not one): ``X-Amz-Date`` + ``X-Amz-Expires`` is past.

    S3 refuses such a request with 403 AccessDenied, "Request has expired" (Amazon S3 User Guide, "Sharing objects
    with presigned URLs").
    """
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        lifetime = timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, IndexError, ValueError):
        return True
    return now > signed + lifetime


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
        elif url.path.startswith(LOCAL_S3_PREFIX):
            self._object(url.path.removeprefix(LOCAL_S3_PREFIX), parse_qs(url.query))
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

    def _object(self, path: str, query: Mapping[str, list[str]]) -> None:
        """An object of the emulated S3, for a presigned link that has not expired (403 once it has, as S3 does)."""
        bucket, _, key = path.partition("/")
        if presigned_link_expired(query, datetime.now(UTC)):
            self._send(HTTPStatus.FORBIDDEN, b"AccessDenied: Request has expired", {"Content-Type": "text/plain"})
            return
        try:
            found = boto3.client("s3", region_name=self.server.api.system.region).get_object(
                Bucket=bucket, Key=unquote(key)
            )
        except ClientError:
            self._send(HTTPStatus.NOT_FOUND, b"NoSuchKey", {"Content-Type": "text/plain"})
            return
        content = query.get("response-content-type", [found.get("ContentType") or "application/octet-stream"])[0]
        self._send(HTTPStatus.OK, found["Body"].read(), {"Content-Type": content, "Cache-Control": "no-store"})

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
        self._send(int(result.get("statusCode", 200)), _with_local_links(payload, headers), headers)


def _with_local_links(payload: bytes, headers: Mapping[str, str]) -> bytes:
    """A JSON reply whose ``url`` is a presigned S3 link, with the link served by this origin instead."""
    content_types = [value for name, value in headers.items() if name.lower() == "content-type"]
    if not content_types or not content_types[0].startswith("application/json"):
        return payload
    try:
        reply = json.loads(payload)
    except ValueError:
        return payload
    local = local_object_url(reply["url"]) if isinstance(reply, dict) and isinstance(reply.get("url"), str) else None
    if local is None:
        return payload
    return json.dumps({**reply, "url": local}).encode()
