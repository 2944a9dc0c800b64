"""``realtime_authorizer``: real RS256 tokens made here, the JWKS served by patching ``PyJWKClient.fetch_data``.

The handler module is reloaded per test: each test starts like a new execution environment, with an
empty JWKS cache.
"""

from __future__ import annotations

import base64
import fnmatch
import importlib
import inspect
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.handlers.handlers_testkit import (
    ACCOUNT,
    ALICE,
    BOB,
    COGNITO_CLIENT_ID,
    COGNITO_ISSUER,
    REGION,
    LambdaContext,
    import_handler,
)

KID = "test-key-1"
POOL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IOT = f"arn:aws:iot:{REGION}:{ACCOUNT}"
HANDLERS_DIR = Path(__file__).resolve().parents[2] / "handlers"


def jwks() -> dict[str, Any]:
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(POOL_KEY.public_key()))
    return {"keys": [public_jwk | {"kid": KID, "alg": "RS256", "use": "sig"}]}


def token(
    sub: str = ALICE,
    *,
    token_use: str = "access",
    key: rsa.RSAPrivateKey = POOL_KEY,
    expires_in: int = 3600,
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": COGNITO_ISSUER,
        "token_use": token_use,
        "iat": now,
        "exp": now + expires_in,
    }
    claims |= {"client_id": COGNITO_CLIENT_ID} if token_use == "access" else {"aud": COGNITO_CLIENT_ID}
    claims |= overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": KID})


def via_query_string(raw_token: str) -> dict[str, Any]:
    """The request IoT sends for a browser connecting with ``?x-amz-customauthorizer-name=...&token=...``."""
    return {
        "signatureVerified": False,
        "protocols": ["tls", "http", "mqtt"],
        "protocolData": {
            "tls": {"serverName": f"example-ats.iot.{REGION}.amazonaws.com"},
            "http": {"headers": {}, "queryString": f"?x-amz-customauthorizer-name=orderflow&token={raw_token}"},
            "mqtt": {"clientId": ALICE},
        },
        "connectionMetadata": {"id": "conn-1"},
    }


def via_mqtt_password(raw_token: str) -> dict[str, Any]:
    return {
        "protocols": ["tls", "mqtt"],
        "protocolData": {"mqtt": {"username": "web", "password": base64.b64encode(raw_token.encode()).decode()}},
        "connectionMetadata": {"id": "conn-2"},
    }


@pytest.fixture
def jwks_fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Serve the pool's JWKS instead of fetching it over the network; records each fetch's URL."""
    fetched: list[str] = []

    def fetch_data(self: jwt.PyJWKClient) -> dict[str, Any]:
        fetched.append(self.uri)
        return jwks()

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    return fetched


@pytest.fixture
def app(jwks_fetches: list[str]) -> Iterator[ModuleType]:
    yield importlib.reload(import_handler("realtime_authorizer"))


def allows(response: dict[str, Any], action: str, resource: str) -> bool:
    """Evaluate an IoT policy the way IoT does for Allow statements (``*`` matches any characters)."""
    if not response["isAuthenticated"]:
        return False
    return any(
        statement["Effect"] == "Allow"
        and action in as_list(statement["Action"])
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"]))
        for document in response["policyDocuments"]
        for statement in document["Statement"]
    )


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_a_valid_access_token_in_the_query_string_allows_the_customers_own_channel(
    app: ModuleType, context: LambdaContext
) -> None:
    response = app.lambda_handler(via_query_string(token(ALICE)), context)

    assert response["isAuthenticated"] is True
    assert response["principalId"] == ALICE.replace("-", "")
    assert response["principalId"].isalnum()
    assert 300 <= response["disconnectAfterInSeconds"] <= 3600
    assert response["refreshAfterInSeconds"] == 300
    [document] = response["policyDocuments"]
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": [f"{IOT}:client/{ALICE}", f"{IOT}:client/{ALICE}-*"]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{IOT}:topicfilter/orders/{ALICE}/*"},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{IOT}:topic/orders/{ALICE}/*"},
    ]
    assert len(json.dumps(document)) <= 2048  # IoT's limit per policy document


def test_one_customers_token_never_grants_another_customers_channel(app: ModuleType, context: LambdaContext) -> None:
    alice = app.lambda_handler(via_query_string(token(ALICE)), context)
    bob = app.lambda_handler(via_query_string(token(BOB)), context)

    for own, other, policy in ((ALICE, BOB, alice), (BOB, ALICE, bob)):
        assert allows(policy, "iot:Connect", f"{IOT}:client/{own}")
        assert allows(policy, "iot:Connect", f"{IOT}:client/{own}-tab1")
        assert not allows(policy, "iot:Connect", f"{IOT}:client/{other}-tab1")
        assert allows(policy, "iot:Subscribe", f"{IOT}:topicfilter/orders/{own}/order-1")
        assert allows(policy, "iot:Receive", f"{IOT}:topic/orders/{own}/order-1")
        assert not allows(policy, "iot:Connect", f"{IOT}:client/{other}")
        assert not allows(policy, "iot:Subscribe", f"{IOT}:topicfilter/orders/{other}/order-1")
        assert not allows(policy, "iot:Subscribe", f"{IOT}:topicfilter/orders/#")
        assert not allows(policy, "iot:Receive", f"{IOT}:topic/orders/{other}/order-1")
        assert not allows(policy, "iot:Publish", f"{IOT}:topic/orders/{own}/order-1")


def test_an_id_token_is_accepted_on_its_audience(app: ModuleType, context: LambdaContext) -> None:
    assert app.lambda_handler(via_query_string(token(token_use="id")), context)["isAuthenticated"] is True


def test_the_session_never_outlives_the_token(app: ModuleType, context: LambdaContext) -> None:
    response = app.lambda_handler(via_query_string(token(expires_in=900)), context)

    assert response["isAuthenticated"] is True
    assert 890 <= response["disconnectAfterInSeconds"] <= 900


@pytest.mark.parametrize("seconds_left", [5, 299])
def test_a_token_about_to_expire_is_refused_rather_than_given_a_longer_session(
    app: ModuleType, context: LambdaContext, seconds_left: int
) -> None:
    # IoT's shortest session is 300 s: granting it would keep the connection open after the token expired.
    response = app.lambda_handler(via_query_string(token(expires_in=seconds_left)), context)

    assert response["isAuthenticated"] is False
    assert response["policyDocuments"] == []


def test_a_token_issued_slightly_in_the_future_is_accepted(app: ModuleType, context: LambdaContext) -> None:
    # The pool's clock may run a few seconds ahead of this function's.
    raw = token(iat=int(time.time()) + 30)

    assert app.lambda_handler(via_query_string(raw), context)["isAuthenticated"] is True


def test_the_token_can_come_as_the_mqtt_password_or_the_token_field(app: ModuleType, context: LambdaContext) -> None:
    raw = token()

    assert app.lambda_handler(via_mqtt_password(raw), context)["isAuthenticated"] is True
    assert app.lambda_handler({"token": raw, "protocolData": {}}, context)["isAuthenticated"] is True


@pytest.mark.parametrize(
    "raw_token",
    [
        token(expires_in=-600),
        token(iat=int(time.time()) + 3600),
        token(sub="alice"),
        token(key=ATTACKER_KEY),
        token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"),
        token(client_id="another-app-client"),
        token(token_use="id", aud="another-app-client"),
        token(token_use="refresh"),
        token(token_use=None),
        token(sub="alice/+/#"),
        token(sub=None),
        jwt.encode({"sub": ALICE, "iss": COGNITO_ISSUER, "token_use": "access"}, key=None, algorithm="none"),
        "not-a-jwt",
    ],
    ids=[
        "expired",
        "issued-an-hour-ahead",
        "sub-not-a-uuid",
        "forged-with-another-key",
        "wrong-issuer",
        "wrong-client",
        "id-token-wrong-audience",
        "wrong-token-use",
        "no-token-use",
        "wildcards-in-sub",
        "no-sub",
        "unsigned",
        "garbage",
    ],
)
def test_a_bad_token_is_denied(app: ModuleType, context: LambdaContext, raw_token: str) -> None:
    response = app.lambda_handler(via_query_string(raw_token), context)

    assert response["isAuthenticated"] is False
    assert response["policyDocuments"] == []


@pytest.mark.parametrize(
    "event",
    [
        {"protocolData": {"http": {"headers": {}, "queryString": "?x-amz-customauthorizer-name=orderflow"}}},
        {"protocolData": {"mqtt": {"username": "web", "password": "%%% not base64 %%%"}}},
        {"protocolData": "not an object"},
    ],
    ids=["no-token", "password-not-base64", "malformed-request"],
)
def test_a_request_without_a_usable_token_is_denied(
    app: ModuleType, context: LambdaContext, event: dict[str, Any]
) -> None:
    assert app.lambda_handler(event, context)["isAuthenticated"] is False


def test_the_jwks_is_fetched_once_across_invocations(
    app: ModuleType, context: LambdaContext, jwks_fetches: list[str]
) -> None:
    for sub in (ALICE, BOB, ALICE, BOB, ALICE):
        assert app.lambda_handler(via_query_string(token(sub)), context)["isAuthenticated"] is True

    assert jwks_fetches == [f"{COGNITO_ISSUER}/.well-known/jwks.json"]


def test_the_token_never_appears_in_the_logs(
    monkeypatch: pytest.MonkeyPatch, jwks_fetches: list[str], context: LambdaContext
) -> None:
    # Even with event logging switched on for every function (read when the handler module is imported).
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    app = importlib.reload(import_handler("realtime_authorizer"))
    log_handler = app.logger.registered_handler
    assert isinstance(log_handler, logging.StreamHandler)
    logs = io.StringIO()
    previous_stream = log_handler.setStream(logs)
    good, expired = token(), token(expires_in=-600)
    try:
        app.lambda_handler(via_query_string(good), context)
        app.lambda_handler(via_query_string(expired), context)
        app.lambda_handler(via_mqtt_password(good), context)
    finally:
        log_handler.setStream(previous_stream)

    written = logs.getvalue()
    assert written.count("Connection allowed") == 2
    assert "ExpiredSignatureError" in written
    for raw in (good, expired, base64.b64encode(good.encode()).decode()):
        for part in raw.split("."):
            assert part not in written


def test_pyjwkclient_fetch_data_still_has_the_shape_the_tests_patch() -> None:
    # Canary: the JWKS is served by replacing PyJWKClient.fetch_data; fail loudly if PyJWT changes it.
    assert list(inspect.signature(jwt.PyJWKClient.fetch_data).parameters) == ["self"]
    assert "self.fetch_data()" in inspect.getsource(jwt.PyJWKClient.get_jwk_set)


def test_its_init_loads_neither_pydantic_nor_the_xray_sdk() -> None:
    # It runs on every browser connection: init stays small (benchmarks/cold_start.py measures it).
    script = (
        "import sys, realtime_authorizer.app; "
        "print(sorted(m for m in ('pydantic', 'aws_xray_sdk') if m in sys.modules))"
    )
    environment = {**os.environ, "PYTHONPATH": str(HANDLERS_DIR), "LAMBDA_TASK_ROOT": str(HANDLERS_DIR)}
    completed = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
