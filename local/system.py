"""The whole order system on this machine: the recorded dev stack in moto, the real handlers, the page.

:func:`running_system` records the program (the same harness as ``make preview``), runs it in the
emulator (:mod:`offline.emulator`, the one the tests and ``make capacity`` use: its tables with their seed
items, queues, topics, buckets, buses and state machines in moto, in this process) and starts four things
that stand in for AWS:

- the page's origin (:mod:`local.gateway`): the site's files and the order API on one origin, as the
  CloudFront distribution serves them;
- the sign-in (:mod:`local.signin`): Cognito managed login's endpoints, issuing the tokens every
  authorizer here verifies;
- the emulator's router (:mod:`offline.emulator.router`), pumped in the background: EventBridge rules and
  targets, asynchronous invocations, SQS pollers, SNS subscriptions, S3 notifications, on its virtual clock
  (a retry or a visibility timeout passes as soon as nothing else is left to do);
- the MQTT broker (:mod:`local.broker`): IoT Core's WebSocket endpoint, deciding with the real
  ``realtime_authorizer``; ``notify``'s IoT data plane publishes are broadcast on it.

The state machines run in moto's ASL interpreter with the Lambda tasks dispatched to the real handlers
(:mod:`offline.emulator.moto_seams`). Functions run with their recorded environment, except that ``COGNITO_ISSUER``
points at the local sign-in and log levels follow ``--verbose``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.awsrequest import AWSResponse

from local.broker import RealtimeBroker
from local.gateway import PageServer
from local.signin import DemoUser, SignIn, SignInServer
from offline.emulator.api import JwtAuthorizer
from offline.emulator.recorded import RecordedSystem
from offline.emulator.world import Emulator, running_emulator
from offline.harness import run_program
from orderflow.page import page_config, realtime_url

PROJECT_DIR: Final = Path(__file__).resolve().parents[1]
SITE_DIR: Final = PROJECT_DIR / "web" / "public"
CATALOGUE: Final = PROJECT_DIR / "handlers" / "shared" / "catalogue.json"
DEMO_PASSWORD: Final = "orderflow-demo"
DEMO_USERS: Final = (DemoUser("alice@example.com", DEMO_PASSWORD), DemoUser("bob@example.com", DEMO_PASSWORD))

logger = logging.getLogger("local")
POLL_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Ports:
    """Where the local servers listen (0: any free port)."""

    page: int = 8000
    sign_in: int = 8001
    mqtt: int = 8002


@dataclass
class LocalSystem:
    """The running system: its URLs, users and parts."""

    system: RecordedSystem
    page: PageServer
    sign_in: SignInServer
    broker: RealtimeBroker
    emulator: Emulator
    users: tuple[DemoUser, ...] = field(default=DEMO_USERS)

    def summary(self) -> dict[str, Any]:
        """URLs and sign-in details (what ``--ready-file`` holds)."""
        return {
            "url": f"{self.page.url}/",
            "signInUrl": self.sign_in.url,
            "mqttUrl": self.broker.url,
            "users": [{"email": u.email, "password": u.password, "sub": u.sub} for u in self.users],
        }


class BackgroundPump:
    """Pumps the emulator's router in a thread while the servers run, as AWS delivers on its own."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-event-router", daemon=True)

    def start(self) -> None:
        """Start delivering in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.emulator.router.pump()
            except Exception:  # keep serving: one bad delivery must not stop the system
                logger.exception("event routing failed")
            self._stop.wait(POLL_SECONDS)


def iot_resource_prefix(function_arn: str) -> str:
    """``arn:<partition>:iot:<region>:<account>`` of a function's partition, region and account."""
    _, partition, _, region, account, *_ = function_arn.split(":")
    return f"arn:{partition}:iot:{region}:{account}"


def _iot_publishes_to(brokers: list[RealtimeBroker]) -> Any:
    """Botocore handlers sending ``iot-data`` Publish calls to the broker (the first of ``brokers``) instead of moto."""

    def keep_parameters(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_publish"] = (params["topic"], params.get("payload") or b"", int(params.get("qos", 0)))

    def publish(context: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        topic, payload, qos = context["local_publish"]
        brokers[0].publish(topic, payload if isinstance(payload, bytes) else str(payload).encode(), qos)
        logger.info("IoT publish → %s", topic)
        return AWSResponse("", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    return keep_parameters, publish


@contextmanager
def running_system(
    *, host: str = "127.0.0.1", ports: Ports = Ports(), pace_seconds: float = 0.25, verbose: bool = False
) -> Iterator[LocalSystem]:
    """Record the dev stack, create it in moto and serve it; everything stops when the block exits.

    Raises
    ------
    OSError
        When a port is taken (the caller names it; see :func:`local.__main__.check_ports`).
    """
    run = run_program("dev")
    # The Pulumi SDK ran the program on this thread's event loop; its worker threads are no longer needed.
    loop = asyncio.get_event_loop()
    loop.run_until_complete(loop.shutdown_default_executor())
    system = RecordedSystem.from_program(run)
    client_id = str(run.outputs["userPoolClientId"])
    topic_prefix = str(run.outputs["realtimeTopicPrefix"])
    authorizer_name = str(run.outputs["iotAuthorizerName"])

    sign_in = SignIn(client_id, list(DEMO_USERS))
    sign_in_server = SignInServer((host, ports.sign_in), sign_in)
    environment = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
    saved = {name: os.environ.get(name) for name in (*environment, "AWS_DEFAULT_REGION")}
    os.environ.update(environment | {"AWS_DEFAULT_REGION": system.region})
    # Quiet functions unless asked: their logs and metrics would drown what the local system reports.
    quiet = {} if verbose else {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    broker_box: list[RealtimeBroker] = []
    keep_parameters, publish = _iot_publishes_to(broker_box)
    try:
        with running_emulator(
            system,
            overrides={"COGNITO_ISSUER": sign_in_server.url},
            settings=quiet,
            pace_seconds=pace_seconds,
            issuer=sign_in_server.url,
            follow_wall_clock=True,
        ) as emulator:
            # On the default session (moto starts a fresh one) before any handler creates its clients, so
            # theirs carry these handlers too.
            if boto3.DEFAULT_SESSION is None:
                boto3.setup_default_session(region_name=system.region)
            session = boto3.DEFAULT_SESSION
            assert session is not None  # set just above
            session.events.register("before-parameter-build.iot-data.Publish", keep_parameters)
            session.events.register("before-call.iot-data.Publish", publish)
            authorizer_function = system.function("realtime_authorizer")
            broker = RealtimeBroker(
                host,
                ports.mqtt,
                lambda request: emulator.runtime.invoke(authorizer_function.name, request, source="iot").result or {},
                iot_resource_prefix(authorizer_function.arn),
            )
            broker_box.append(broker)
            page = PageServer(
                (host, ports.page), api=emulator.api, site_dir=SITE_DIR, authorizer=JwtAuthorizer(sign_in_server.url)
            )
            sign_in_server.allow_page(page.url)
            page.configure(
                page_config(
                    api_base_url="",
                    sign_in_url=sign_in_server.url,
                    client_id=client_id,
                    realtime=realtime_url(f"{host}:{broker.port}", authorizer_name, scheme="ws"),
                    topic_prefix=topic_prefix,
                    catalogue=json.loads(CATALOGUE.read_text()),
                ),
                connect_sources=[sign_in_server.url, f"ws://{host}:{broker.port}"],
            )
            # Every function's init now, as Lambda's would run before the first request.
            for function in system.functions.values():
                emulator.runtime.module(function.package)
            pump = BackgroundPump(emulator)
            broker.start()
            pump.start()
            servers = [sign_in_server, page]
            threads = [_serve(server) for server in servers]
            try:
                yield LocalSystem(system, page, sign_in_server, broker, emulator)
            finally:
                for server in servers:
                    server.shutdown()
                    server.server_close()
                for thread in threads:
                    thread.join(timeout=5)
                pump.stop()
                broker.stop()
    finally:
        sign_in_server.server_close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(server: Any) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name=f"local-{type(server).__name__}", daemon=True)
    thread.start()
    return thread
