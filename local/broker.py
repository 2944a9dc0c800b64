"""An MQTT broker with a WebSocket listener standing in for AWS IoT Core, its decisions made by the real authorizer.

The broker is amqtt's. On CONNECT, :class:`CustomAuthorizerPlugin` builds the request IoT Core sends a
custom authorizer (the MQTT username, the base64 of the password, the client id), invokes the recorded
``realtime_authorizer`` function, and lets the client in only when it says ``isAuthenticated`` and its
policy allows ``iot:Connect`` on ``client/<client id>``. The policy documents are kept on the session, and
:class:`IotPolicyTopicPlugin` evaluates them as IoT does for every SUBSCRIBE (``iot:Subscribe`` on
``topicfilter/<filter>``), every delivery (``iot:Receive`` on ``topic/<topic>``) and every client PUBLISH
(``iot:Publish``); a refused subscription gets the SUBACK failure code 0x80.

What the ``notify`` function publishes through the IoT data plane (``iot-data`` Publish) is broadcast here.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from offline.recording import as_list

POLICY_ATTRIBUTE: Final = "iot_policy_documents"
SHUTDOWN_SECONDS: Final = 1.0
logger = logging.getLogger("local.broker")

Authorize = Callable[[dict[str, Any]], dict[str, Any]]
"""Runs the custom authorizer function on a request and returns its response."""


def policy_allows(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Evaluate IoT policy documents as IoT does: an explicit Deny wins, else some Allow must match.

    ``*`` in an action or resource matches any characters, ``?`` one.
    """
    allowed = False
    for document in documents:
        for statement in as_list(document.get("Statement", [])):
            actions = [str(a) for a in as_list(statement.get("Action", []))]
            resources = [str(r) for r in as_list(statement.get("Resource", []))]
            if any(fnmatch.fnmatchcase(action, a) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources
            ):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def authorizer_request(session: Session) -> dict[str, Any]:
    """The request IoT Core sends a custom authorizer for an MQTT-over-WebSocket CONNECT."""
    mqtt: dict[str, Any] = {"clientId": session.client_id}
    if session.username is not None:
        mqtt["username"] = session.username
    if session.password is not None:
        # IoT hands the authorizer the password base64-encoded.
        raw = session.password if isinstance(session.password, bytes) else str(session.password).encode()
        mqtt["password"] = base64.b64encode(raw).decode()
    return {
        "signatureVerified": False,
        "protocols": ["tls", "http", "mqtt"],
        "protocolData": {"mqtt": mqtt},
        "connectionMetadata": {"id": str(uuid.uuid4())},
    }


class CustomAuthorizerPlugin(BaseAuthPlugin):
    """Authenticates every CONNECT with the custom authorizer function."""

    @dataclass
    class Config:
        """``authorize`` invokes the function; ``resource_prefix`` is ``arn:<partition>:iot:<region>:<account>``."""

        authorize: Any
        resource_prefix: str

    async def authenticate(self, *, session: Session) -> bool | None:
        """Whether the authorizer lets this client connect as its client id."""
        response = await asyncio.to_thread(self.config.authorize, authorizer_request(session))
        documents = response.get("policyDocuments") or [] if response.get("isAuthenticated") is True else []
        allowed = policy_allows(documents, "iot:Connect", f"{self.config.resource_prefix}:client/{session.client_id}")
        session.attributes[POLICY_ATTRIBUTE] = documents if allowed else []
        logger.info("CONNECT %s: %s", session.client_id, "allowed" if allowed else "refused")
        return allowed


class IotPolicyTopicPlugin(BaseTopicPlugin):
    """Applies the connection's policy to every subscribe, delivery and publish."""

    @dataclass
    class Config:
        """``resource_prefix`` is ``arn:<partition>:iot:<region>:<account>``."""

        resource_prefix: str

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        """Whether the session's policy allows ``action`` on ``topic``."""
        if session is None or topic is None or action is None:
            return False
        documents = session.attributes.get(POLICY_ATTRIBUTE, [])
        prefix = self.config.resource_prefix
        check = {
            Action.SUBSCRIBE: ("iot:Subscribe", f"{prefix}:topicfilter/{topic}"),
            Action.RECEIVE: ("iot:Receive", f"{prefix}:topic/{topic}"),
            Action.PUBLISH: ("iot:Publish", f"{prefix}:topic/{topic}"),
        }[action]
        allowed = policy_allows(documents, *check)
        if not allowed and action is not Action.RECEIVE:
            logger.info("%s %s by %s: refused", action.value.upper(), topic, session.client_id)
        return allowed


class RealtimeBroker:
    """The broker on its own event loop thread.

    Parameters
    ----------
    host, port:
        Where the WebSocket listener binds (``ws://host:port/mqtt``).
    authorize:
        Invokes the custom authorizer function.
    resource_prefix:
        ``arn:<partition>:iot:<region>:<account>`` of the resources its policies name.
    """

    def __init__(self, host: str, port: int, authorize: Authorize, resource_prefix: str) -> None:
        self.host = host
        self.port = port
        self.config = {
            "listeners": {"default": {"type": "ws", "bind": f"{host}:{port}"}},
            "plugins": {
                f"{__name__}.CustomAuthorizerPlugin": {"authorize": authorize, "resource_prefix": resource_prefix},
                f"{__name__}.IotPolicyTopicPlugin": {"resource_prefix": resource_prefix},
            },
        }
        self._loop = asyncio.new_event_loop()
        self._broker: Broker | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-mqtt-broker", daemon=True)

    @property
    def url(self) -> str:
        """Where browsers connect."""
        return f"ws://{self.host}:{self.port}/mqtt"

    def start(self) -> None:
        """Start listening; returns once the listener is bound."""
        self._thread.start()
        self._broker = Broker(self.config, loop=self._loop)
        asyncio.run_coroutine_threadsafe(self._broker.start(), self._loop).result(timeout=15)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Deliver a message to every subscriber the policy lets receive it (from any thread)."""
        if self._broker is None:
            raise RuntimeError("the broker is not started")
        future = asyncio.run_coroutine_threadsafe(
            self._broker.internal_message_broadcast(topic, payload, qos), self._loop
        )
        future.result(timeout=10)

    def stop(self) -> None:
        """Close every connection and stop the loop."""
        if self._broker is not None:
            # Closing the listener and the sessions is quick; amqtt's own wait for its tasks is not.
            closing = asyncio.wait_for(self._broker.shutdown(), timeout=SHUTDOWN_SECONDS)
            try:
                asyncio.run_coroutine_threadsafe(closing, self._loop).result(timeout=SHUTDOWN_SECONDS + 1)
            except Exception:  # already closing, or slow: stopping the loop is what matters
                logger.debug("broker shutdown", exc_info=True)
        # The authorizer calls ran on the loop's executor threads: let them end with the loop.
        if self._loop.is_running():
            shutdown = asyncio.run_coroutine_threadsafe(self._loop.shutdown_default_executor(), self._loop)
            shutdown.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
