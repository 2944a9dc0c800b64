"""The whole order system on this machine: the recorded dev stack in moto, the real handlers, the page.

:func:`running_system` records the program (the same harness as ``make preview``), creates its tables
(with their seed items), queues, topics, buckets, buses and state machines in moto (in this process), and
starts four things that stand in for AWS:

- the page's origin (:mod:`local.gateway`): the site's files and the order API on one origin, as the
  CloudFront distribution serves them;
- the sign-in (:mod:`local.signin`): Cognito managed login's endpoints, issuing the tokens every
  authorizer here verifies;
- the event router (:mod:`local.events`): EventBridge rules and targets, asynchronous invocations, SQS pollers;
- the MQTT broker (:mod:`local.broker`): IoT Core's WebSocket endpoint, deciding with the real
  ``realtime_authorizer``; ``notify``'s IoT data plane publishes are broadcast on it.

The state machines run in moto's ASL interpreter with the Lambda tasks dispatched to the real handlers
(:mod:`local.moto_seams`). Functions run with their recorded environment, except that ``COGNITO_ISSUER``
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
from moto import mock_aws

from local.broker import RealtimeBroker
from local.events import CAPTURE_PATTERN, CAPTURE_RULE, EventRouter, capture_queue_name
from local.gateway import JwtAuthorizer, PageServer
from local.lambdas import LambdaRuntime
from local.moto_seams import MOTO_CONFIG, patched_moto
from local.recorded import DEFAULT_BUS, System, read_system
from local.signin import DemoUser, SignIn, SignInServer
from offline.harness import run_program
from orderflow.page import page_config, realtime_url

PROJECT_DIR: Final = Path(__file__).resolve().parents[1]
SITE_DIR: Final = PROJECT_DIR / "web" / "public"
CATALOGUE: Final = PROJECT_DIR / "handlers" / "shared" / "catalogue.json"
DEMO_PASSWORD: Final = "orderflow-demo"
DEMO_USERS: Final = (DemoUser("alice@example.com", DEMO_PASSWORD), DemoUser("bob@example.com", DEMO_PASSWORD))

logger = logging.getLogger("local")


@dataclass(frozen=True)
class Ports:
    """Where the local servers listen (0: any free port)."""

    page: int = 8000
    sign_in: int = 8001
    mqtt: int = 8002


@dataclass
class LocalSystem:
    """The running system: its URLs, users and parts."""

    system: System
    page: PageServer
    sign_in: SignInServer
    broker: RealtimeBroker
    router: EventRouter
    runtime: LambdaRuntime
    users: tuple[DemoUser, ...] = field(default=DEMO_USERS)

    def summary(self) -> dict[str, Any]:
        """URLs and sign-in details (what ``--ready-file`` holds)."""
        return {
            "url": f"{self.page.url}/",
            "signInUrl": self.sign_in.url,
            "mqttUrl": self.broker.url,
            "users": [{"email": u.email, "password": u.password, "sub": u.sub} for u in self.users],
        }


def _create_resources(system: System, router: EventRouter, clients: Mapping[str, Any]) -> None:
    dynamodb, sqs, sfn, s3, events, sns = (
        clients[name] for name in ("dynamodb", "sqs", "stepfunctions", "s3", "events", "sns")
    )
    for table in system.tables:
        dynamodb.create_table(
            TableName=table.name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=list(table.key_schema),
            AttributeDefinitions=list(table.attribute_definitions),
            **({"GlobalSecondaryIndexes": list(table.indexes)} if table.indexes else {}),
        )
        for item in table.seed_items:
            dynamodb.put_item(TableName=table.name, Item=item)
    # Dead-letter queues first: a redrive policy must name an existing queue.
    for queue in sorted(system.queues, key=lambda q: q.redrive_policy is not None):
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout_seconds)}
        if queue.redrive_policy:
            attributes["RedrivePolicy"] = queue.redrive_policy
        sqs.create_queue(QueueName=queue.name, Attributes=attributes)
    for topic in system.topics:
        sns.create_topic(Name=topic)
    for bucket in system.buckets:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": system.region})
    for bus in system.buses:
        if bus != DEFAULT_BUS:
            events.create_event_bus(Name=bus)
        queue_url = sqs.create_queue(QueueName=capture_queue_name(bus))["QueueUrl"]
        events.put_rule(Name=CAPTURE_RULE, EventBusName=bus, EventPattern=CAPTURE_PATTERN)
        queue_arn = f"arn:aws:sqs:{system.region}:{system.account}:{capture_queue_name(bus)}"
        events.put_targets(Rule=CAPTURE_RULE, EventBusName=bus, Targets=[{"Id": "capture", "Arn": queue_arn}])
        router.capture_queue_urls[bus] = queue_url
    iam = clients["iam"]
    for role_arn in sorted({machine.role_arn for machine in system.state_machines}):
        iam.create_role(RoleName=role_arn.rsplit("/", 1)[-1], AssumeRolePolicyDocument="{}")
    # A machine another one starts must exist first.
    pending = list(system.state_machines)
    while pending:
        ready = [m for m in pending if not any(o.arn in m.definition for o in pending if o is not m)]
        if not ready:
            raise ValueError(f"state machines reference each other in a cycle: {[m.name for m in pending]}")
        for machine in ready:
            sfn.create_state_machine(
                name=machine.name, definition=machine.definition, roleArn=machine.role_arn, type=machine.type
            )
            pending.remove(machine)


def iot_resource_prefix(function_arn: str) -> str:
    """``arn:<partition>:iot:<region>:<account>`` of a function's partition, region and account."""
    _, partition, _, region, account, *_ = function_arn.split(":")
    return f"arn:{partition}:iot:{region}:{account}"


def _iot_publishes_to(broker: RealtimeBroker) -> Any:
    """Botocore handlers sending ``iot-data`` Publish calls to the broker instead of moto."""

    def keep_parameters(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_publish"] = (params["topic"], params.get("payload") or b"", int(params.get("qos", 0)))

    def publish(context: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        topic, payload, qos = context["local_publish"]
        broker.publish(topic, payload if isinstance(payload, bytes) else str(payload).encode(), qos)
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
    system = read_system(run)
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
    runtime = LambdaRuntime(system, {"COGNITO_ISSUER": sign_in_server.url}, pace_seconds, settings=quiet)
    try:
        with mock_aws(config=MOTO_CONFIG):
            session = boto3.Session(region_name=system.region)
            boto3.DEFAULT_SESSION = session
            clients = {
                name: session.client(name)
                for name in ("dynamodb", "sqs", "stepfunctions", "s3", "events", "sns", "iam")
            }
            router = EventRouter(system, runtime, clients)
            authorizer_function = system.function_of("realtime_authorizer")
            broker = RealtimeBroker(
                host,
                ports.mqtt,
                lambda request: runtime.invoke(authorizer_function.name, request).result or {},
                iot_resource_prefix(authorizer_function.arn),
            )
            keep_parameters, publish = _iot_publishes_to(broker)
            # Registered on the session before any handler creates its clients, so theirs carry them too.
            session.events.register("before-parameter-build.iot-data.Publish", keep_parameters)
            session.events.register("before-call.iot-data.Publish", publish)
            with patched_moto(
                dispatch=runtime.dispatch,
                s3_event_sink=lambda event: router.accept(DEFAULT_BUS, event),
                eventbridge_buckets=system.eventbridge_buckets,
            ):
                _create_resources(system, router, clients)
                page = PageServer(
                    (host, ports.page),
                    system=system,
                    runtime=runtime,
                    site_dir=SITE_DIR,
                    authorizer=JwtAuthorizer(sign_in_server.url),
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
                    runtime.module(function)
                broker.start()
                router.start()
                servers = [sign_in_server, page]
                threads = [_serve(server) for server in servers]
                try:
                    yield LocalSystem(system, page, sign_in_server, broker, router, runtime)
                finally:
                    for server in servers:
                        server.shutdown()
                        server.server_close()
                    for thread in threads:
                        thread.join(timeout=5)
                    router.stop()
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
