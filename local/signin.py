"""A local stand-in for Cognito managed login: the same OAuth endpoints, tokens of the same shape.

``/oauth2/authorize`` shows a sign-in form and, for a known user and password, redirects back with a
one-time code; ``/oauth2/token`` exchanges it (checking the PKCE verifier against the S256 challenge) or a
refresh token for RS256 access and id tokens signed by a key made at start-up; ``/logout`` returns to an
allowed URL; ``/.well-known/jwks.json`` publishes the public key. The issuer is this server's URL: the
handlers' ``COGNITO_ISSUER`` points here, so the real realtime authorizer verifies these tokens exactly as
it verifies Cognito's, and the local API's JWT authorizer does the same checks as API Gateway's.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CODE_SECONDS: Final = 300
KEY_ID: Final = "local-1"


@dataclass(frozen=True)
class DemoUser:
    """A customer who can sign in locally."""

    email: str
    password: str

    @property
    def sub(self) -> str:
        """A stable UUID, as Cognito's ``sub`` is."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"orderflow-local:{self.email}"))


@dataclass(frozen=True)
class _Grant:
    user: DemoUser
    redirect_uri: str
    challenge: str
    expires: float


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SignIn:
    """Users, codes, refresh tokens and the signing key of the local issuer.

    Parameters
    ----------
    client_id:
        The app client id the page uses (the recorded one).
    users:
        Who may sign in.
    token_minutes:
        Lifetime of access and id tokens.
    """

    def __init__(self, client_id: str, users: list[DemoUser], token_minutes: int = 60) -> None:
        self.client_id = client_id
        self.users = {user.email: user for user in users}
        self.token_seconds = token_minutes * 60
        self.issuer = ""
        self.redirect_uris: set[str] = set()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, DemoUser] = {}
        self._lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        """The public key set, as Cognito publishes it."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [public | {"kid": KEY_ID, "alg": "RS256", "use": "sig"}]}

    def authenticate(self, email: str, password: str) -> DemoUser | None:
        """The user with this e-mail and password, or None."""
        user = self.users.get(email.strip().lower())
        return user if user is not None and secrets.compare_digest(user.password, password) else None

    def issue_code(self, user: DemoUser, redirect_uri: str, challenge: str) -> str:
        """A one-time authorization code bound to the redirect URI and the PKCE challenge."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(user, redirect_uri, challenge, time.time() + CODE_SECONDS)
        return code

    def exchange(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint: ``authorization_code`` (with PKCE) or ``refresh_token``.

        Raises
        ------
        ValueError
            With the OAuth error code (``invalid_grant``, ``invalid_client``, ...).
        """
        if form.get("client_id") != self.client_id:
            raise ValueError("invalid_client")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)
            if (
                grant is None
                or grant.expires < time.time()
                or grant.redirect_uri != form.get("redirect_uri")
                or not secrets.compare_digest(grant.challenge, s256(form.get("code_verifier", "")))
            ):
                raise ValueError("invalid_grant")
            refresh = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh[refresh] = grant.user
            return {**self.tokens(grant.user), "refresh_token": refresh}
        if grant_type == "refresh_token":
            with self._lock:
                user = self._refresh.get(form.get("refresh_token", ""))
            if user is None:
                raise ValueError("invalid_grant")
            return self.tokens(user)
        raise ValueError("unsupported_grant_type")

    def tokens(self, user: DemoUser) -> dict[str, Any]:
        """Access and id tokens with Cognito's claims."""
        now = int(time.time())
        common = {"sub": user.sub, "iss": self.issuer, "iat": now, "auth_time": now, "exp": now + self.token_seconds}
        access = common | {
            "token_use": "access",
            "client_id": self.client_id,
            "scope": "openid email",
            "username": user.sub,
            "jti": str(uuid.uuid4()),
        }
        identity = common | {
            "token_use": "id",
            "aud": self.client_id,
            "email": user.email,
            "email_verified": True,
            "cognito:username": user.sub,
        }
        headers = {"kid": KEY_ID}
        return {
            "access_token": jwt.encode(access, self._key, algorithm="RS256", headers=headers),
            "id_token": jwt.encode(identity, self._key, algorithm="RS256", headers=headers),
            "token_type": "Bearer",
            "expires_in": self.token_seconds,
        }


# The look of Cognito managed login's form (a card with the shop's name), kept in one style element that the
# page's CSP allows by its hash: nothing else may style or script the page.
_PAGE_STYLE: Final = (
    "body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f6f7fa;color:#1d2330;"
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.45}"
    "main{width:min(24rem,calc(100% - 2rem));background:#fff;border:1px solid #d7dbe3;border-radius:.75rem;"
    "padding:1.5rem;box-shadow:0 2px 12px rgb(29 35 48/8%)}"
    "h1{font-size:1.4rem;margin:0 0 .25rem}p.note{color:#535b6b;font-size:.9rem;margin:0 0 1rem}"
    "label{display:block;font-weight:600;margin:.75rem 0 .25rem}"
    "input{box-sizing:border-box;width:100%;min-height:2.75rem;font:inherit;padding:.35rem .5rem;"
    "border:1px solid #8a93a3;border-radius:.35rem}"
    "button{width:100%;min-height:2.75rem;margin-top:1.25rem;font:inherit;font-weight:600;color:#fff;"
    "background:#1f5fbf;border:1px solid #1f5fbf;border-radius:.4rem;cursor:pointer}"
    "input:focus-visible,button:focus-visible{outline:3px solid #f2b400;outline-offset:2px}"
    "[role=alert]{color:#b3261e;background:#fdecea;border:1px solid #b3261e;border-radius:.4rem;padding:.5rem .75rem}"
)
_PAGE: Final = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in: orderflow shop (local)</title><style>"""
    + _PAGE_STYLE.replace("{", "{{").replace("}", "}}")
    + """</style></head>
<body><main>
<h1>Sign in to orderflow shop</h1>
<p class="note">Local sign-in standing in for Cognito managed login.</p>
{error}
<form method="post" action="/login">
{hidden}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>
"""
)
_PAGE_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self' http://127.0.0.1:* http://localhost:*; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_PAGE_STYLE.encode()).digest()).decode()}'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SignInHandler(BaseHTTPRequestHandler):
    """HTTP endpoints of :class:`SignIn` (the server's ``sign_in`` attribute)."""

    server: SignInServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the local system logs what matters itself."""

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: Any) -> None:
        origin = self.headers.get("Origin")
        headers = {"Cache-Control": "no-store"}
        # The token endpoint answers the page's cross-origin fetch, as Cognito's does.
        if origin in self.server.allowed_origins:
            headers |= {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": location})

    def _form(self, query: Mapping[str, str], error: str = "") -> None:
        fields = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope")
        hidden = "\n".join(
            f'<input type="hidden" name="{name}" value="{html.escape(query.get(name, ""))}">' for name in fields
        )
        notice = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        self._send(
            HTTPStatus.OK, _PAGE.format(error=notice, hidden=hidden).encode(), "text/html; charset=utf-8", _PAGE_HEADERS
        )

    def do_OPTIONS(self) -> None:
        """CORS preflight of the token endpoint."""
        origin = self.headers.get("Origin", "")
        headers = {"Access-Control-Max-Age": "600"}
        if origin in self.server.allowed_origins:
            headers |= {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "content-type",
            }
        self._send(HTTPStatus.NO_CONTENT, b"", "text/plain", headers)

    def do_GET(self) -> None:
        """JWKS, the sign-in form, and sign-out."""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        sign_in = self.server.sign_in
        if url.path == "/.well-known/jwks.json":
            self._json(HTTPStatus.OK, sign_in.jwks())
        elif url.path == "/oauth2/authorize":
            problem = self._authorize_problem(query)
            if problem:
                self._send(HTTPStatus.BAD_REQUEST, problem.encode(), "text/plain; charset=utf-8")
            else:
                self._form(query)
        elif url.path == "/logout":
            target = query.get("logout_uri", "")
            if query.get("client_id") != sign_in.client_id or target not in sign_in.redirect_uris:
                self._send(HTTPStatus.BAD_REQUEST, b"logout_uri is not a sign-out URL of this client", "text/plain")
            else:
                self._redirect(target)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def do_POST(self) -> None:
        """The sign-in form's submission and the token endpoint."""
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        sign_in = self.server.sign_in
        if self.path == "/oauth2/token":
            try:
                self._json(HTTPStatus.OK, sign_in.exchange(form))
            except ValueError as error:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        elif self.path == "/login":
            problem = self._authorize_problem(form)
            user = sign_in.authenticate(form.get("email", ""), form.get("password", ""))
            if problem:
                self._send(HTTPStatus.BAD_REQUEST, problem.encode(), "text/plain; charset=utf-8")
            elif user is None:
                self._form(form, "Incorrect e-mail address or password.")
            else:
                code = sign_in.issue_code(user, form["redirect_uri"], form["code_challenge"])
                self._redirect(f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def _authorize_problem(self, query: Mapping[str, str]) -> str:
        sign_in = self.server.sign_in
        if query.get("client_id") != sign_in.client_id:
            return "unknown client_id"
        if query.get("redirect_uri") not in sign_in.redirect_uris:
            return "redirect_uri is not a callback URL of this client"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "PKCE is required: code_challenge with code_challenge_method S256"
        return ""


class SignInServer(ThreadingHTTPServer):
    """The local sign-in, bound to ``address``; its URL is the tokens' issuer."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sign_in: SignIn) -> None:
        super().__init__(address, SignInHandler)
        self.host = address[0]
        self.sign_in = sign_in
        self.allowed_origins: set[str] = set()
        sign_in.issuer = self.url

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash), the ``iss`` of every token."""
        return f"http://{self.host}:{self.server_port}"

    def allow_page(self, origin: str) -> None:
        """Let the page at ``origin`` sign in (callback and sign-out URL ``<origin>/``, CORS on the token endpoint)."""
        self.allowed_origins.add(origin)
        self.sign_in.redirect_uris.add(f"{origin}/")
