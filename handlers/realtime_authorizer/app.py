"""AWS IoT Core custom authorizer of the real-time channel: the browser's Cognito JWT → an IoT policy.

Where the token travels
    The authorizer is created with signing disabled (the JWT carries its own signature). A browser
    opens ``wss://<iot-endpoint>/mqtt?x-amz-customauthorizer-name=<authorizer>`` and sends the JWT as
    the MQTT CONNECT password, which IoT passes base64-encoded in ``protocolData.mqtt.password`` (so the
    token never appears in a URL). A client may instead put it in the ``token`` query parameter of the
    WebSocket upgrade (``protocolData.http.queryString``); when the authorizer has a token key name, IoT
    also sets the top-level ``token``. The first one present, in that order (``token``, query parameter,
    MQTT password), is used.

What is verified
    RS256 signature against the user pool's JWKS (``<COGNITO_ISSUER>/.well-known/jwks.json``, fetched
    once and cached by the module-level ``PyJWKClient``), issuer = ``COGNITO_ISSUER``, expiry, issue time
    (with :data:`CLOCK_SKEW_SECONDS` of leeway, so a token minted a moment "in the future" by a clock
    slightly ahead is not refused), ``token_use`` (``access`` or ``id``), and the app client:
    ``client_id`` for access tokens, ``aud`` for id tokens, equal to ``COGNITO_CLIENT_ID``.

What is allowed
    ``iot:Connect`` as client id ``<sub>`` or ``<sub>-<suffix>`` (one connection per browser tab);
    ``iot:Subscribe`` on ``topicfilter/<prefix>/<sub>/*`` and ``iot:Receive`` on ``topic/<prefix>/<sub>/*``
    only. Nothing else (no publish). The session ends when the token expires (never later): a token with
    less than IoT's minimum session left is refused, so the client refreshes it first. Anything wrong →
    ``isAuthenticated: false``. The token is never logged.

Init is kept small (this runs on every browser connection): no Pydantic models and no X-Ray SDK; the
request is read with plain lookups and the claims checked by hand.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

import jwt
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

COGNITO_ISSUER: Final = os.environ["COGNITO_ISSUER"]
COGNITO_CLIENT_ID: Final = os.environ["COGNITO_CLIENT_ID"]
REALTIME_TOPIC_PREFIX: Final = os.environ["REALTIME_TOPIC_PREFIX"]

TOKEN_QUERY_PARAMETER: Final = "token"
# IoT bounds both durations to [300, 86400] seconds.
MIN_SESSION_SECONDS: Final = 300
MAX_SESSION_SECONDS: Final = 86_400
REFRESH_AFTER_SECONDS: Final = 300
"""Short, so IoT re-runs the authorizer soon after the token expires and drops the connection."""
CLOCK_SKEW_SECONDS: Final = 60
"""Leeway on ``iat`` (and ``nbf``) for clocks that disagree by a little."""
TOKEN_USES: Final = frozenset({"access", "id"})
# A Cognito sub is a UUID. It goes into policy ARNs: anything else (wildcards, slashes) is refused.
SUBJECT: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

logger = Logger()
metrics = Metrics()

# Module level: the JWKS is fetched on first use and reused by every invocation of this environment.
# An unknown key id (after a key rotation) triggers one refresh.
jwks_client = jwt.PyJWKClient(f"{COGNITO_ISSUER}/.well-known/jwks.json", lifespan=3600, timeout=2)


class Denied(Exception):  # noqa: N818 - reads as the outcome
    """Why a connection is refused (the message never contains the token)."""


@dataclass(frozen=True)
class CognitoClaims:
    """The claims we rely on, read only after the signature, issuer and times were verified."""

    sub: str
    token_use: str
    expires_at: int


def _section(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``parent[key]`` when it is an object, else an empty one (IoT omits protocols not used)."""
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def extract_token(event: Mapping[str, Any]) -> str:
    """The JWT from the request: top-level token, then ``token`` query parameter, then MQTT password.

    Parameters
    ----------
    event:
        The authorizer request IoT sent.

    Returns
    -------
    str
        The raw JWT.

    Raises
    ------
    Denied
        When no token was sent or the MQTT password is not valid base64.
    """
    top_level = event.get("token")
    if isinstance(top_level, str) and top_level:
        return top_level
    protocol_data = _section(event, "protocolData")
    query_string = _section(protocol_data, "http").get("queryString")
    if isinstance(query_string, str):
        values = parse_qs(query_string.lstrip("?")).get(TOKEN_QUERY_PARAMETER)
        if values and values[0]:
            return values[0]
    password = _section(protocol_data, "mqtt").get("password")
    if isinstance(password, str) and password:
        try:
            return base64.b64decode(password, validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise Denied("MQTT password is not base64-encoded ASCII") from error
    raise Denied("no token in the request")


def verify(token: str) -> CognitoClaims:
    """Verify a Cognito JWT and return its claims.

    Parameters
    ----------
    token:
        The raw JWT.

    Returns
    -------
    CognitoClaims
        Claims of a token signed by the pool, for our app client, issued and not expired.

    Raises
    ------
    Denied
        Naming the check that failed.
    """
    try:
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        payload = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            issuer=COGNITO_ISSUER,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise Denied(f"token rejected: {type(error).__name__}") from error
    sub, token_use = payload["sub"], payload["token_use"]
    if not isinstance(sub, str) or not SUBJECT.match(sub):
        raise Denied("unexpected claims: sub")
    if token_use not in TOKEN_USES:
        raise Denied("unexpected claims: token_use")
    audience = payload.get("client_id") if token_use == "access" else payload.get("aud")
    if audience != COGNITO_CLIENT_ID and audience != [COGNITO_CLIENT_ID]:
        raise Denied(f"{token_use} token issued for another app client")
    # PyJWT checked that exp is an integer time.
    return CognitoClaims(sub=sub, token_use=token_use, expires_at=int(payload["exp"]))


def session_seconds(claims: CognitoClaims, now: float) -> int:
    """How long IoT keeps the connection open: until the token expires, at most a day.

    Raises
    ------
    Denied
        When less than IoT's minimum session (300 s) is left: a longer session would outlive the
        token, so the client must refresh it and connect again.
    """
    remaining = claims.expires_at - int(now)
    if remaining < MIN_SESSION_SECONDS:
        raise Denied(f"token expires in {remaining} s, less than the minimum session of {MIN_SESSION_SECONDS} s")
    return min(remaining, MAX_SESSION_SECONDS)


def allow_policy(sub: str, function_arn: str) -> dict[str, Any]:
    """The IoT policy of one customer: connect as themselves, subscribe/receive on their topics only.

    Parameters
    ----------
    sub:
        The customer's Cognito subject (verified token).
    function_arn:
        This function's ARN; its partition, region and account scope the IoT resources.

    Returns
    -------
    dict[str, Any]
        An IoT policy document.
    """
    _, partition, _, region, account, *_ = function_arn.split(":")
    iot = f"arn:{partition}:iot:{region}:{account}"
    topics = f"{REALTIME_TOPIC_PREFIX}/{sub}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # A sub is a fixed-length UUID, so "<sub>-*" never matches another customer's client ids.
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": [f"{iot}:client/{sub}", f"{iot}:client/{sub}-*"]},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{iot}:topicfilter/{topics}"},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{iot}:topic/{topics}"},
        ],
    }


def deny() -> dict[str, Any]:
    """The response refusing a connection."""
    return {
        "isAuthenticated": False,
        "principalId": "denied",
        "disconnectAfterInSeconds": MIN_SESSION_SECONDS,
        "refreshAfterInSeconds": REFRESH_AFTER_SECONDS,
        "policyDocuments": [],
    }


def authorize(event: Mapping[str, Any], function_arn: str) -> dict[str, Any]:
    """Decide on one connection.

    Parameters
    ----------
    event:
        The raw authorizer request.
    function_arn:
        ``context.invoked_function_arn``.

    Returns
    -------
    dict[str, Any]
        The IoT custom authorizer response (allow or deny).
    """
    try:
        claims = verify(extract_token(event))
        session = session_seconds(claims, time.time())
    except Denied as reason:
        logger.info("Connection denied", reason=str(reason))
        metrics.add_metric(name="ConnectionsDenied", unit=MetricUnit.Count, value=1)
        return deny()
    logger.info("Connection allowed", sub=claims.sub, token_use=claims.token_use, session_seconds=session)
    metrics.add_metric(name="ConnectionsAuthorized", unit=MetricUnit.Count, value=1)
    return {
        "isAuthenticated": True,
        # IoT accepts only [a-zA-Z0-9]{1,128}; a Cognito sub is a UUID.
        "principalId": claims.sub.replace("-", ""),
        "disconnectAfterInSeconds": session,
        "refreshAfterInSeconds": REFRESH_AFTER_SECONDS,
        "policyDocuments": [allow_policy(claims.sub, function_arn)],
    }


# log_event=False explicitly: POWERTOOLS_LOGGER_LOG_EVENT must never log a request carrying a token.
@logger.inject_lambda_context(log_event=False, correlation_id_path="connectionMetadata.id")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """IoT Core custom authorizer entry point; ``context.invoked_function_arn`` gives region and account."""
    if not isinstance(event, Mapping):
        return deny()
    return authorize(event, context.invoked_function_arn)
