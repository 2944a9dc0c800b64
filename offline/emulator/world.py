"""The recorded program running in one moto account with the real Lambda handlers in-process: the emulator.

:func:`running_emulator` creates the recorded resources in moto (same physical names, the definitions
byte for byte), applies the moto seams (:mod:`offline.emulator.moto_seams`) and yields an
:class:`Emulator`: its clients, its Lambda runtime (:mod:`offline.emulator.lambdas`), its router of
deliveries (:mod:`offline.emulator.router`), its HTTP API (:mod:`offline.emulator.api`), its virtual clock
(:mod:`offline.emulator.clock`) and readers for tables, queues, executions and notifications. Executions
run on moto's interpreter threads; ``emulator.router.pump()`` waits for them and lets virtual time pass,
so a caller reads a quiescent system after each step. ``make local`` runs the same emulator, pumped by a
background thread.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
from moto import mock_aws

from offline.emulator.api import HttpApi
from offline.emulator.clock import VirtualClock
from offline.emulator.lambdas import LambdaRuntime, environment_variables
from offline.emulator.moto_seams import MOTO_CONFIG, MotoSeams, RetryClock, join_interpreter_threads, patched_moto
from offline.emulator.recorded import DEFAULT_BUS, RecordedSystem, RecordingError
from offline.emulator.router import CAPTURE_PATTERN, CAPTURE_RULE, EventRouter, capture_queue_name

NOTIFICATION_CAPTURE_QUEUE: Final = "emulator-capture-notifications"
"""The queue subscribed to every topic, from which the emulator reads what the topics publish."""


@dataclass(frozen=True)
class ExecutionView:
    """An execution as its history tells it.

    Attributes
    ----------
    arn, name, status, error, cause:
        As DescribeExecution returns them.
    input, output:
        Parsed JSON.
    states:
        Names of the states entered, in order.
    task_failures:
        ``(state, error)`` for every failed task attempt, in order.
    """

    arn: str
    name: str
    status: str
    error: str | None
    cause: str | None
    input: Any
    output: Any
    states: tuple[str, ...]
    task_failures: tuple[tuple[str, str], ...]

    @property
    def final_state(self) -> str:
        """The last state entered."""
        return self.states[-1] if self.states else ""


def read_execution(sfn: Any, arn: str) -> ExecutionView:
    """Describe an execution and walk its history."""
    described = sfn.describe_execution(executionArn=arn)
    events = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=arn, **({"nextToken": token} if token else {}))
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            break
    states: list[str] = []
    failures: list[tuple[str, str]] = []
    for event in events:
        if "stateEnteredEventDetails" in event:
            states.append(event["stateEnteredEventDetails"]["name"])
        elif "taskFailedEventDetails" in event:
            failures.append((states[-1] if states else "", str(event["taskFailedEventDetails"].get("error"))))
    output = described.get("output")
    return ExecutionView(
        arn=arn,
        name=described["name"],
        status=described["status"],
        error=described.get("error"),
        cause=described.get("cause"),
        input=json.loads(described["input"]) if described.get("input") else None,
        output=json.loads(output) if output else None,
        states=tuple(states),
        task_failures=tuple(failures),
    )


# ---------------------------------------------------------------------------------------------------
# The running flow
# ---------------------------------------------------------------------------------------------------


@dataclass
class Emulator:
    """The recorded system running in moto: clients, Lambda runtime, router, HTTP API, clock and readers."""

    system: RecordedSystem
    seams: MotoSeams
    runtime: LambdaRuntime
    clock: VirtualClock
    dynamodb: Any
    sqs: Any
    sfn: Any
    s3: Any
    events: Any
    sns: Any = None
    issuer: str | None = None
    capture_queue_urls: dict[str, str] = field(default_factory=dict)
    notification_queue_url: str = ""
    router: EventRouter = field(init=False)
    api: HttpApi = field(init=False)

    def __post_init__(self) -> None:
        self.router = EventRouter(self)
        self.api = HttpApi(self.system, self.runtime, self.clock.now, self.issuer)

    # ---- queues -------------------------------------------------------------------------------

    def drain_queue(self, url: str) -> list[str]:
        """Receive and delete every visible message of a queue; returns the bodies in order."""
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            bodies.extend(message["Body"] for message in messages)
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def queue_depths(self, names: Iterable[str]) -> dict[str, int]:
        """Visible plus in-flight messages per queue name."""
        depths = {}
        for name in names:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.system.queues[name].url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def peek_queue(self, name: str) -> list[dict[str, Any]]:
        """Every message of a queue (body parsed, attributes kept), left in place for later readers."""
        url = self.system.queues[name].url
        seen: dict[str, dict[str, Any]] = {}
        handles = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                seen[message["MessageId"]] = message
                handles.append(message["ReceiptHandle"])
        for handle in handles:
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return [
            {"body": json.loads(message["Body"]), "attributes": message.get("MessageAttributes", {})}
            for message in seen.values()
        ]

    def sns_messages(self) -> list[dict[str, Any]]:
        """Notifications published to the recorded topics since the last call (SNS envelopes)."""
        self.router.topics.poll()
        messages, self.router.topics.published = self.router.topics.published, []
        return messages

    def emails(self) -> list[tuple[str, dict[str, Any]]]:
        """E-mails SNS sent since the last call: ``(address, SNS envelope)``, after the subscriptions' filters."""
        self.router.topics.poll()
        sent, self.router.topics.emailed = self.router.topics.emailed, []
        return sent

    # ---- tables -------------------------------------------------------------------------------

    def scan(self, component: str) -> list[dict[str, Any]]:
        """Every item of a table, as plain values."""
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        items: list[dict[str, Any]] = []
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.system.table(component).name, ConsistentRead=True
        )
        for page in pages:
            items.extend({k: _plain(deserializer.deserialize(v)) for k, v in item.items()} for item in page["Items"])
        return items

    @property
    def receipts_bucket(self) -> str:
        """The bucket that sends its object events to EventBridge: the receipts.

        Found by role, not by position: buckets register in whatever order their names resolve.
        """
        [bucket] = self.system.eventbridge_buckets
        return bucket

    def item(self, component: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """One item by key, as plain values, or None."""
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        serializer, deserializer = TypeSerializer(), TypeDeserializer()
        response = self.dynamodb.get_item(
            TableName=self.system.table(component).name,
            Key={k: serializer.serialize(v) for k, v in key.items()},
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        return {k: _plain(deserializer.deserialize(v)) for k, v in response["Item"].items()}

    def put_item(self, component: str, item: Mapping[str, Any]) -> None:
        """Write one item (test setup)."""
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        self.dynamodb.put_item(
            TableName=self.system.table(component).name, Item={k: serializer.serialize(v) for k, v in item.items()}
        )

    # ---- workflows ----------------------------------------------------------------------------

    def list_executions(self, component: str) -> list[dict[str, Any]]:
        """ListExecutions of a workflow component, oldest first (name, status, ARN; no history)."""
        machine = self.system.machine(component)
        listed = []
        token = None
        while True:
            page = self.sfn.list_executions(stateMachineArn=machine.arn, **({"nextToken": token} if token else {}))
            listed.extend(page["executions"])
            token = page.get("nextToken")
            if not token:
                break
        return sorted(listed, key=lambda item: item["startDate"])

    def executions(self, component: str) -> list[ExecutionView]:
        """Every execution of a workflow component with its history, oldest first."""
        return [read_execution(self.sfn, item["executionArn"]) for item in self.list_executions(component)]

    def start_execution(self, component: str, payload: Any, *, name: str | None = None) -> ExecutionView:
        """Start an execution directly (as a test driver), wait for the flow to settle and read it back."""
        machine = self.system.machine(component)
        started = self.sfn.start_execution(
            stateMachineArn=machine.arn, name=name or str(uuid.uuid4()), input=json.dumps(payload)
        )
        self.router.pump()
        return read_execution(self.sfn, started["executionArn"])

    # ---- events -------------------------------------------------------------------------------

    def bus_events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Events routed on the custom bus so far (optionally one detail-type)."""
        return [
            event
            for bus, event in self.router.events
            if bus == self.system.custom_bus and (detail_type is None or event["detail-type"] == detail_type)
        ]

    def iot_publishes(self) -> list[tuple[str, dict[str, Any]]]:
        """Every IoT Core publish so far: ``(topic, payload)``."""
        from moto.iotdata.models import iotdata_backends

        backend = iotdata_backends[self.system.account][self.system.region]
        return [(topic, json.loads(payload)) for topic, payload in backend.published_payloads]


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset | tuple):
        return [_plain(v) for v in value]
    return value


_CLIENTS: dict[tuple[str, str], Any] = {}


_CLIENTS_LOCK: Final = threading.Lock()


def aws_client(service: str, region: str) -> Any:
    """A boto3 client for the test driver, created once per process (moto intercepts it in every world)."""
    with _CLIENTS_LOCK:
        if (service, region) not in _CLIENTS:
            _CLIENTS[(service, region)] = boto3.client(service, region_name=region)
        return _CLIENTS[(service, region)]


def create_resources(flow: Emulator) -> None:
    """Create every recorded resource in moto, with the recorded physical names, plus the emulator's captures.

    Raises
    ------
    RecordingError
        When moto names a resource differently from the recording, or state machines start each other in a cycle.
    """
    system = flow.system
    for table in system.tables.values():
        key_schema = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
        if table.range_key:
            key_schema.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
        extra: dict[str, Any] = {}
        if table.indexes:
            extra["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
                    + ([{"AttributeName": index.range_key, "KeyType": "RANGE"}] if index.range_key else []),
                    "Projection": {"ProjectionType": index.projection},
                }
                for index in table.indexes
            ]
        flow.dynamodb.create_table(
            TableName=table.name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=key_schema,
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind} for name, kind in sorted(table.attribute_types.items())
            ],
            **extra,
        )
        for item in table.seed_items:
            flow.dynamodb.put_item(TableName=table.name, Item=dict(item))

    # Dead-letter queues first: a redrive policy must name an existing queue.
    ordered = sorted(system.queues.values(), key=lambda queue: queue.dead_letter_arn is not None)
    for queue in ordered:
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout_seconds)}
        if queue.dead_letter_arn:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queue.dead_letter_arn, "maxReceiveCount": queue.max_receive_count}
            )
        url = flow.sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        if url != queue.url:
            raise RecordingError(f"queue {queue.name!r}: moto URL {url!r} differs from the recorded {queue.url!r}")

    sns = aws_client("sns", system.region)
    flow.notification_queue_url = flow.sqs.create_queue(QueueName=NOTIFICATION_CAPTURE_QUEUE)["QueueUrl"]
    capture_arn = f"arn:aws:sqs:{system.region}:{system.account}:{NOTIFICATION_CAPTURE_QUEUE}"
    for name, arn in system.topics.items():
        created = sns.create_topic(Name=name)["TopicArn"]
        if created != arn:
            raise RecordingError(f"topic {name!r}: moto ARN {created!r} differs from the recorded {arn!r}")
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=capture_arn)

    for bucket in system.buckets:
        flow.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": system.region})
        flow.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    for bus in system.buses:
        if bus != DEFAULT_BUS:
            flow.events.create_event_bus(Name=bus)
        queue_name = capture_queue_name(bus)
        url = flow.sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        flow.events.put_rule(Name=CAPTURE_RULE, EventBusName=bus, EventPattern=CAPTURE_PATTERN)
        flow.events.put_targets(
            Rule=CAPTURE_RULE,
            EventBusName=bus,
            Targets=[{"Id": "capture", "Arn": f"arn:aws:sqs:{system.region}:{system.account}:{queue_name}"}],
        )
        flow.capture_queue_urls[bus] = url

    iam = aws_client("iam", system.region)
    for role_arn in sorted({machine.role_arn for machine in system.machines.values()}):
        iam.create_role(RoleName=role_arn.rsplit("/", 1)[-1], AssumeRolePolicyDocument="{}")
    # A machine referenced by another's definition must exist first: create the referenced ones first.
    pending = dict(system.machines)
    while pending:
        ready = [m for m in pending.values() if not any(o.arn in m.definition for o in pending.values() if o is not m)]
        if not ready:
            raise RecordingError(f"state machines reference each other in a cycle: {sorted(pending)}")
        for machine in ready:
            created = flow.sfn.create_state_machine(
                name=machine.name, definition=machine.definition, roleArn=machine.role_arn, type=machine.type
            )["stateMachineArn"]
            if created != machine.arn:
                raise RecordingError(f"state machine {machine.name!r}: moto ARN {created!r} != {machine.arn!r}")
            del pending[machine.component]


@contextmanager
def running_emulator(
    system: RecordedSystem,
    *,
    jitter_seed: int = 0,
    overrides: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    pace_seconds: float = 0.0,
    issuer: str | None = None,
    follow_wall_clock: bool = False,
) -> Iterator[Emulator]:
    """Create the recorded system in a fresh moto account and run it with the real handlers.

    Parameters
    ----------
    system:
        The recorded program.
    jitter_seed:
        Seed of the Step Functions retry jitter draws.
    overrides, settings, pace_seconds:
        For the Lambda runtime (see :class:`~offline.emulator.lambdas.LambdaRuntime`).
    issuer:
        The token issuer the HTTP API's authorizer accepts instead of the recorded one.
    follow_wall_clock:
        Keep the virtual clock from running behind real time (see :class:`VirtualClock`): ``make local``.

    Yields
    ------
    Emulator
        The running emulator; moto and every patch are undone when the block exits.
    """
    runtime = LambdaRuntime(system, overrides=overrides, settings=settings, pace_seconds=pace_seconds)
    seams = MotoSeams(retry_clock=RetryClock(jitter_seed))
    clock = VirtualClock(follow_wall_clock=follow_wall_clock)
    router_box: list[EventRouter] = []

    def s3_sink(event: dict[str, Any]) -> None:
        router_box[0].s3.sink(event)

    with (
        environment_variables({"AWS_DEFAULT_REGION": system.region, "AWS_REGION": system.region}),
        mock_aws(config=MOTO_CONFIG),
        patched_moto(
            dispatcher=runtime.dispatch,
            s3_event_sink=s3_sink,
            eventbridge_buckets=system.eventbridge_buckets,
            seams=seams,
        ),
    ):
        region = system.region
        emulator = Emulator(
            system=system,
            seams=seams,
            runtime=runtime,
            clock=clock,
            dynamodb=aws_client("dynamodb", region),
            sqs=aws_client("sqs", region),
            sfn=aws_client("stepfunctions", region),
            s3=aws_client("s3", region),
            events=aws_client("events", region),
            sns=aws_client("sns", region),
            issuer=issuer,
        )
        router_box.append(emulator.router)
        with runtime.active():
            try:
                create_resources(emulator)
                yield emulator
            finally:
                join_interpreter_threads()
                emulator.router.close()
