"""The pieces of ``make local`` on their own: what it reads from the program, the sign-in, the broker's
policy checks, the API's routes and the port check. The whole system is tried in a browser in tests/browser."""

from __future__ import annotations

import base64
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidMessage
from websockets.frames import Close

from local.__main__ import ClosedByBrowser, check_ports
from local.broker import authorizer_request, policy_allows
from local.gateway import PageServer, local_object_url, presigned_link_expired
from local.signin import DemoUser, SignIn, s256
from local.system import iot_resource_prefix
from offline.emulator.api import JwtAuthorizer, route_parameters
from offline.emulator.recorded import RecordedSystem, RouteSpec
from tests.recorded import recorded_program

ALICE = DemoUser("alice@example.com", "secret-1")


@pytest.fixture(scope="module")
def system():
    return RecordedSystem.from_program(recorded_program("dev"))


def test_the_local_system_is_read_from_the_recorded_program(system) -> None:
    assert {f.package for f in system.functions.values()} >= {"create_order", "get_order", "realtime_authorizer"}
    assert {(r.method, r.path) for r in system.routes} == {
        ("POST", "/orders"),
        ("GET", "/orders"),
        ("GET", "/orders/{orderId}"),
        ("GET", "/orders/{orderId}/receipt"),
    }
    assert {m.type for m in system.machines.values()} == {"STANDARD", "EXPRESS"}
    assert any(rule.pattern and rule.targets for rule in system.rules)
    orders = next(t for t in system.tables.values() if any(i.name == "byCustomer" for i in t.indexes))
    assert orders.hash_key == "orderId"
    inventory = next(t for t in system.tables.values() if t.seed_items)
    assert any(item["pk"]["S"].startswith("SKU#") for item in inventory.seed_items)
    assert system.throttle_burst == 10 and system.throttle_rate == 5  # Pulumi.dev.yaml


def test_the_sign_in_issues_tokens_only_for_the_verifier_that_made_the_challenge() -> None:
    sign_in = SignIn("client-1", [ALICE])
    sign_in.issuer = "http://127.0.0.1:1"
    verifier = "v" * 43
    code = sign_in.issue_code(ALICE, "http://127.0.0.1:2/", s256(verifier))
    form = {"client_id": "client-1", "grant_type": "authorization_code", "code": code}

    with pytest.raises(ValueError, match="invalid_grant"):
        sign_in.exchange(form | {"redirect_uri": "http://127.0.0.1:2/", "code_verifier": "w" * 43})
    # The code is spent even by a failed attempt: a stolen code cannot be tried again.
    with pytest.raises(ValueError, match="invalid_grant"):
        sign_in.exchange(form | {"redirect_uri": "http://127.0.0.1:2/", "code_verifier": verifier})

    code = sign_in.issue_code(ALICE, "http://127.0.0.1:2/", s256(verifier))
    tokens = sign_in.exchange(form | {"code": code, "redirect_uri": "http://127.0.0.1:2/", "code_verifier": verifier})
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    identity = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert access["token_use"] == "access" and access["client_id"] == "client-1" and access["sub"] == ALICE.sub
    assert identity["aud"] == "client-1" and identity["email"] == ALICE.email
    refreshed = sign_in.exchange(
        {"client_id": "client-1", "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert jwt.decode(refreshed["access_token"], options={"verify_signature": False})["sub"] == ALICE.sub
    with pytest.raises(ValueError, match="invalid_client"):
        sign_in.exchange(form | {"client_id": "other"})


def test_the_api_authorizer_checks_signature_issuer_expiry_and_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in = SignIn("client-1", [ALICE])
    sign_in.issuer = "http://127.0.0.1:1"
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: sign_in.jwks())
    authorizer = JwtAuthorizer(sign_in.issuer)
    token = sign_in.tokens(ALICE)["access_token"]

    assert authorizer.claims(f"Bearer {token}", ("client-1",))["sub"] == ALICE.sub
    assert authorizer.claims(f"Bearer {token}", ("another-client",)) is None
    assert authorizer.claims(token, ("client-1",)) is None  # not a bearer header
    forged = SignIn("client-1", [ALICE])
    forged.issuer = sign_in.issuer
    assert authorizer.claims(f"Bearer {forged.tokens(ALICE)['access_token']}", ("client-1",)) is None
    sign_in.token_seconds = -120
    assert authorizer.claims(f"Bearer {sign_in.tokens(ALICE)['access_token']}", ("client-1",)) is None


def test_iot_policies_are_evaluated_as_iot_does() -> None:
    prefix = iot_resource_prefix("arn:aws:lambda:eu-west-1:123456789012:function:authorizer")
    documents = [
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Connect",
                    "Resource": [f"{prefix}:client/a", f"{prefix}:client/a-*"],
                },
                {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{prefix}:topicfilter/orders/a/*"},
                {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": f"{prefix}:topicfilter/orders/a/secret"},
            ]
        }
    ]
    assert prefix == "arn:aws:iot:eu-west-1:123456789012"
    assert policy_allows(documents, "iot:Connect", f"{prefix}:client/a-tab1")
    assert not policy_allows(documents, "iot:Connect", f"{prefix}:client/b")
    assert policy_allows(documents, "iot:Subscribe", f"{prefix}:topicfilter/orders/a/+")
    assert not policy_allows(documents, "iot:Subscribe", f"{prefix}:topicfilter/orders/b/+")
    assert not policy_allows(documents, "iot:Subscribe", f"{prefix}:topicfilter/orders/a/secret")  # Deny wins
    assert not policy_allows(documents, "iot:Publish", f"{prefix}:topic/orders/a/x")
    assert not policy_allows([], "iot:Connect", f"{prefix}:client/a")


def test_the_authorizer_gets_the_password_base64_encoded_as_from_iot() -> None:
    session = SimpleNamespace(client_id="a-tab1", username="", password="header.payload.signature")
    request = authorizer_request(session)

    assert base64.b64decode(request["protocolData"]["mqtt"]["password"]) == b"header.payload.signature"
    assert request["protocolData"]["mqtt"]["clientId"] == "a-tab1"
    assert json.dumps(request)  # what Lambda would be handed


def test_routes_match_their_own_paths_only() -> None:
    route = RouteSpec("GET /orders/{orderId}", "get-order", "2.0", "JWT", None, ("client-1",))

    assert route_parameters(route, "GET", "/orders/abc") == {"orderId": "abc"}
    assert route_parameters(route, "POST", "/orders/abc") is None
    assert route_parameters(route, "GET", "/orders") is None
    assert route_parameters(route, "GET", "/orders/abc/extra") is None


def test_a_taken_port_is_named_with_the_option_to_change_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = check_ports("127.0.0.1", {"--port": 0, "--sign-in-port": port})

    assert message is not None
    assert f"port {port}" in message and "in use" in message
    assert message.endswith('make local ARGS="--sign-in-port N"')  # the make form, not a bare option
    assert check_ports("127.0.0.1", {"--port": 0}) is None


def test_a_connection_the_browser_closed_is_kept_off_the_console_and_other_errors_are_not() -> None:
    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            "websockets.server", logging.ERROR, __file__, 1, "failed", None, (type(error), error, None)
        )

    quiet = ClosedByBrowser()
    assert not quiet.filter(record(ConnectionClosedOK(Close(1001, "going away"), Close(1001, "going away"), True)))
    assert not quiet.filter(record(BrokenPipeError(32, "Broken pipe")))
    assert quiet.filter(record(ValueError("a real failure")))
    # A reload before the WebSocket's upgrade request: websockets logs "opening handshake failed".
    cut_before_the_request = InvalidMessage("did not receive a valid HTTP request")
    cut_before_the_request.__cause__ = EOFError("connection closed while reading HTTP request line")
    assert not quiet.filter(record(cut_before_the_request))
    assert not quiet.filter(record(ConnectionClosedError(None, None)))  # cut while the server answered the upgrade
    malformed_request = InvalidMessage("did not receive a valid HTTP request")
    malformed_request.__cause__ = ValueError("invalid HTTP request line")
    assert quiet.filter(record(malformed_request))


def test_the_page_server_reports_a_real_error_but_not_a_browser_leaving_mid_reply(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = PageServer(("127.0.0.1", 0), api=None, site_dir=Path("."), authorizer=None)  # type: ignore[arg-type]
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), KeyError("boom")):
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 5))
    finally:
        server.server_close()
    reported = capsys.readouterr().err
    # One report, the KeyError's (its traceback may quote the source line that names the other two errors).
    assert reported.count("Traceback (most recent call last)") == 1
    assert "KeyError: 'boom'" in reported
    assert "BrokenPipeError: [Errno 32]" not in reported and "ConnectionResetError: [Errno 104]" not in reported


def test_a_presigned_s3_link_is_served_by_the_local_origin_until_it_expires() -> None:
    virtual = (
        "https://receipts-1.s3.eu-west-1.amazonaws.com/receipts/a/o.json?X-Amz-Expires=300&X-Amz-Date=20261206T100000Z"
    )
    path_style = "https://s3.eu-west-1.amazonaws.com/receipts-1/receipts/a/o.json?X-Amz-Expires=300"
    assert local_object_url(virtual) == (
        "/_s3/receipts-1/receipts/a/o.json?X-Amz-Expires=300&X-Amz-Date=20261206T100000Z"
    )
    assert local_object_url(path_style) == "/_s3/receipts-1/receipts/a/o.json?X-Amz-Expires=300"
    assert local_object_url("https://example.com/receipts/a/o.json") is None
    assert local_object_url("http://receipts-1.s3.eu-west-1.amazonaws.com/k") is None

    query = parse_qs(urlsplit(virtual).query)
    signed = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert not presigned_link_expired(query, signed + timedelta(seconds=300))
    assert presigned_link_expired(query, signed + timedelta(seconds=301))
    assert presigned_link_expired({"X-Amz-Expires": ["300"]}, signed)  # not a SigV4 presigned link
