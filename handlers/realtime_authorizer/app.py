"""AWS IoT Core custom authorizer of the real-time channel: the browser's Cognito JWT → an IoT policy.

Where the token travels
    The authorizer is created with signing disabled (the JWT carries its own signature). A browser
    opens ``wss://<iot-endpoint>/mqtt?x-amz-customauthorizer-name=<authorizer>&token=<JWT>``: browsers
    cannot set headers on a WebSocket upgrade, so the token is the ``token`` query parameter, which
    IoT passes in ``protocolData.http.queryString``. Device SDK clients may instead send the JWT as
    the MQTT CONNECT password (``protocolData.mqtt.password``, base64-encoded by IoT). When the
    authorizer has a token key name, IoT also sets the top-level ``token``. The first one present,
    in that order (``token``, query parameter, MQTT password), is used.

What is verified
    RS256 signature against the user pool's JWKS (``<COGNITO_ISSUER>/.well-known/jwks.json``, fetched
    once and cached by the module-level ``PyJWKClient``), issuer = ``COGNITO_ISSUER``, expiry,
    ``token_use`` (``access`` or ``id``), and the app client: ``client_id`` for access tokens, ``aud``
    for id tokens, equal to ``COGNITO_CLIENT_ID``.

What is allowed
    ``iot:Connect`` as client id = the token's ``sub`` only; ``iot:Subscribe`` on
    ``topicfilter/<prefix>/<sub>/*`` and ``iot:Receive`` on ``topic/<prefix>/<sub>/*`` only. Nothing
    else (no publish). Anything wrong → ``isAuthenticated: false``. The token is never logged.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qs

import jwt
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
# A sub goes into policy ARNs: refuse anything that could widen them (wildcards, slashes).
SUBJECT: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,127}$")

logger = Logger()
# Patch only what this function calls (the JWKS fetch goes through http.client): patch_all would
# import requests, sqlite3 and more just to patch them, which costs cold-start time.
tracer = Tracer(patch_modules=("httplib",))
metrics = Metrics()

# Module level: the JWKS is fetched on first use and reused by every invocation of this environment.
# An unknown key id (after a key rotation) triggers one refresh.
jwks_client = jwt.PyJWKClient(f"{COGNITO_ISSUER}/.well-known/jwks.json", lifespan=3600, timeout=2)


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class HttpContext(_Lenient):
    """``protocolData.http`` of the authorizer request."""

    headers: dict[str, str] = Field(default_factory=dict)
    query_string: str = Field(default="", alias="queryString")


class MqttContext(_Lenient):
    """``protocolData.mqtt`` of the authorizer request (the password is base64)."""

    username: str | None = None
    password: str | None = None
    client_id: str | None = Field(default=None, alias="clientId")


class ProtocolData(_Lenient):
    """``protocolData``: what the client sent, per protocol."""

    http: HttpContext | None = None
    mqtt: MqttContext | None = None


class AuthorizerRequest(_Lenient):
    """The event IoT Core sends a custom authorizer."""

    token: str | None = None
    protocol_data: ProtocolData = Field(default_factory=ProtocolData, alias="protocolData")


class CognitoClaims(_Lenient):
    """The claims we rely on, read only after the signature, issuer and expiry were verified."""

    sub: str = Field(pattern=SUBJECT.pattern)
    token_use: Literal["access", "id"]
    exp: int
    client_id: str | None = None
    aud: str | list[str] | None = None


class Denied(Exception):  # noqa: N818 - reads as the outcome
    """Why a connection is refused (the message never contains the token)."""


def extract_token(request: AuthorizerRequest) -> str:
    """The JWT from the request: top-level token, then ``token`` query parameter, then MQTT password.

    Parameters
    ----------
    request:
        The parsed authorizer request.

    Returns
    -------
    str
        The raw JWT.

    Raises
    ------
    Denied
        When no token was sent or the MQTT password is not valid base64.
    """
    if request.token:
        return request.token
    http = request.protocol_data.http
    if http is not None:
        values = parse_qs(http.query_string.lstrip("?")).get(TOKEN_QUERY_PARAMETER)
        if values and values[0]:
            return values[0]
    mqtt = request.protocol_data.mqtt
    if mqtt is not None and mqtt.password:
        try:
            return base64.b64decode(mqtt.password, validate=True).decode("ascii")
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
        Claims of a token signed by the pool, for our app client, not expired.

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
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise Denied(f"token rejected: {type(error).__name__}") from error
    try:
        claims = CognitoClaims.model_validate(payload)
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, issue["loc"])) for issue in error.errors(include_input=False))
        raise Denied(f"unexpected claims: {fields}") from error
    audience = claims.client_id if claims.token_use == "access" else claims.aud
    if audience != COGNITO_CLIENT_ID and not (isinstance(audience, list) and audience == [COGNITO_CLIENT_ID]):
        raise Denied(f"{claims.token_use} token issued for another app client")
    return claims


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
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{iot}:client/{sub}"},
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


@tracer.capture_method(capture_response=False)
def authorize(event: dict[str, Any], function_arn: str) -> dict[str, Any]:
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
        request = parse(event=event, model=AuthorizerRequest)
    except ValidationError as error:
        logger.warning("Malformed authorizer request", problems=error.error_count())
        metrics.add_metric(name="ConnectionsDenied", unit=MetricUnit.Count, value=1)
        return deny()
    try:
        claims = verify(extract_token(request))
    except Denied as reason:
        logger.info("Connection denied", reason=str(reason))
        metrics.add_metric(name="ConnectionsDenied", unit=MetricUnit.Count, value=1)
        return deny()
    remaining = claims.exp - int(time.time())
    logger.info("Connection allowed", sub=claims.sub, token_use=claims.token_use)
    metrics.add_metric(name="ConnectionsAuthorized", unit=MetricUnit.Count, value=1)
    return {
        "isAuthenticated": True,
        # IoT accepts only [a-zA-Z0-9]{1,128}; a Cognito sub is a UUID.
        "principalId": claims.sub.replace("-", ""),
        "disconnectAfterInSeconds": min(max(remaining, MIN_SESSION_SECONDS), MAX_SESSION_SECONDS),
        "refreshAfterInSeconds": REFRESH_AFTER_SECONDS,
        "policyDocuments": [allow_policy(claims.sub, function_arn)],
    }


# log_event=False explicitly: POWERTOOLS_LOGGER_LOG_EVENT must never log a request carrying a token.
@logger.inject_lambda_context(log_event=False, correlation_id_path="connectionMetadata.id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """IoT Core custom authorizer entry point.

    Parameters
    ----------
    event:
        The authorizer request (token, protocolData, connectionMetadata).
    context:
        The Lambda context; its ``invoked_function_arn`` gives the region and account.

    Returns
    -------
    dict[str, Any]
        ``isAuthenticated``, ``principalId``, ``disconnectAfterInSeconds``, ``refreshAfterInSeconds``,
        ``policyDocuments``.
    """
    return authorize(event, context.invoked_function_arn)
