"""What the local system runs, read out of the recorded program: the same names, definitions and wiring.

:func:`read_system` turns an :class:`~offline.recording.ProgramRun` (``offline.harness.run_program``) into a
:class:`System`: tables with their indexes and seed items, queues with their redrive policies, functions
with their environments, asynchronous-invoke settings, SQS consumers, buses with their rules and targets,
state machines with their definitions, topics, buckets and HTTP routes. Nothing here repeats a name of
the program: change ``__main__.py`` and the local system follows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from offline.recording import ProgramRun, RecordedResource

DEFAULT_BUS: Final = "default"


class RecordingError(ValueError):
    """The recorded program lacks something the local system needs; the message names it."""


def _required(resource: RecordedResource, source: Mapping[str, Any], key: str) -> Any:
    value = source.get(key)
    if value in (None, ""):
        raise RecordingError(f"{resource.type} {resource.name!r} has no {key!r}")
    return value


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: its key schema, indexes and seed items, as ``CreateTable``/``PutItem`` take them."""

    name: str
    key_schema: tuple[dict[str, str], ...]
    attribute_definitions: tuple[dict[str, str], ...]
    indexes: tuple[dict[str, Any], ...]
    seed_items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Queue:
    """An SQS queue."""

    name: str
    arn: str
    url: str
    visibility_timeout_seconds: int
    redrive_policy: str | None


@dataclass(frozen=True)
class Function:
    """A Lambda function: its code package and environment."""

    name: str
    arn: str
    package: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class AsyncInvoke:
    """How Lambda retries an asynchronous invocation of a function, and where a failed one goes."""

    maximum_retry_attempts: int
    on_failure_destination: str | None


@dataclass(frozen=True)
class QueueConsumer:
    """An SQS event source mapping."""

    queue_arn: str
    function_name: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Target:
    """A rule target with its retry policy and dead-letter queue."""

    arn: str
    maximum_retry_attempts: int
    dead_letter_arn: str | None


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule on one bus."""

    name: str
    arn: str
    bus: str
    pattern: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class StateMachine:
    """A Step Functions state machine, with the definition the program generated."""

    name: str
    arn: str
    type: str
    definition: str
    role_arn: str


@dataclass(frozen=True)
class Route:
    """An HTTP API route, the function behind it and its JWT authorizer's audiences."""

    method: str
    path: str
    function_name: str
    jwt_audiences: tuple[str, ...]


@dataclass(frozen=True)
class System:
    """Everything the local system creates and runs, with physical names."""

    region: str
    account: str
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    functions: Mapping[str, Function]
    async_invokes: Mapping[str, AsyncInvoke]
    queue_consumers: tuple[QueueConsumer, ...]
    buses: tuple[str, ...]
    rules: tuple[Rule, ...]
    state_machines: tuple[StateMachine, ...]
    topics: tuple[str, ...]
    buckets: tuple[str, ...]
    eventbridge_buckets: frozenset[str]
    routes: tuple[Route, ...]
    throttle_burst: int
    throttle_rate: float

    def function(self, name_or_arn: str) -> Function:
        """A function by physical name or (qualified) ARN."""
        name = name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn
        try:
            return self.functions[name]
        except KeyError:
            raise RecordingError(f"no function named {name!r}") from None

    def function_of(self, package: str) -> Function:
        """The function whose code is ``handlers/<package>``."""
        for function in self.functions.values():
            if function.package == package:
                return function
        raise RecordingError(f"no function runs handlers/{package}")

    def queue(self, arn: str) -> Queue:
        """A queue by ARN."""
        for queue in self.queues:
            if queue.arn == arn:
                return queue
        raise RecordingError(f"no queue with ARN {arn!r}")


def read_system(run: ProgramRun) -> System:
    """Read the order system out of a recorded program run.

    Raises
    ------
    RecordingError
        When a record lacks a key the local system needs (naming the resource and the key).
    """
    functions = {
        str(_required(r, r.outputs, "name")): Function(
            name=str(r.outputs["name"]),
            arn=str(_required(r, r.outputs, "arn")),
            package=str(_required(r, r.inputs, "handler")).split(".", 1)[0],
            environment={
                str(k): str(v) for k, v in ((r.inputs.get("environment") or {}).get("variables") or {}).items()
            },
            timeout_seconds=int(r.inputs.get("timeout") or 3),
            memory_mb=int(r.inputs.get("memorySize") or 128),
        )
        for r in run.of_type("aws:lambda/function:Function")
    }
    if not functions:
        raise RecordingError("the program declares no Lambda function")
    stage = next(iter(run.of_type("aws:apigatewayv2/stage:Stage")), None)
    throttling = (stage.inputs.get("defaultRouteSettings") or {}) if stage else {}
    return System(
        region=run.config.get("aws:region") or "us-east-1",
        account=next(iter(functions.values())).arn.split(":")[4],
        tables=_tables(run),
        queues=tuple(_queue(r) for r in run.of_type("aws:sqs/queue:Queue")),
        functions=functions,
        async_invokes={
            str(_required(r, r.inputs, "functionName")): AsyncInvoke(
                # Lambda's default for asynchronous invocations is two retries.
                maximum_retry_attempts=int(r.inputs.get("maximumRetryAttempts", 2)),
                on_failure_destination=((r.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get(
                    "destination"
                ),
            )
            for r in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        },
        queue_consumers=tuple(
            QueueConsumer(
                queue_arn=str(_required(r, r.inputs, "eventSourceArn")),
                function_name=str(_required(r, r.inputs, "functionName")),
                batch_size=int(r.inputs.get("batchSize") or 10),
                report_batch_item_failures="ReportBatchItemFailures" in (r.inputs.get("functionResponseTypes") or []),
            )
            for r in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        ),
        buses=(DEFAULT_BUS, *(str(r.outputs["name"]) for r in run.of_type("aws:cloudwatch/eventBus:EventBus"))),
        rules=_rules(run),
        state_machines=tuple(
            StateMachine(
                name=str(_required(r, r.outputs, "name")),
                arn=str(_required(r, r.outputs, "arn")),
                type=str(r.inputs.get("type") or "STANDARD"),
                definition=str(_required(r, r.inputs, "definition")),
                role_arn=str(_required(r, r.inputs, "roleArn")),
            )
            for r in run.of_type("aws:sfn/stateMachine:StateMachine")
        ),
        topics=tuple(str(r.outputs["name"]) for r in run.of_type("aws:sns/topic:Topic")),
        buckets=tuple(str(r.outputs["bucket"]) for r in run.of_type("aws:s3/bucket:Bucket")),
        eventbridge_buckets=frozenset(
            str(r.inputs["bucket"])
            for r in run.of_type("aws:s3/bucketNotification:BucketNotification")
            if r.inputs.get("eventbridge")
        ),
        routes=_routes(run, functions),
        throttle_burst=int(throttling.get("throttlingBurstLimit") or 5000),
        throttle_rate=float(throttling.get("throttlingRateLimit") or 10000),
    )


def _tables(run: ProgramRun) -> tuple[Table, ...]:
    seeds: dict[str, list[dict[str, Any]]] = {}
    for record in run.of_type("aws:dynamodb/tableItem:TableItem"):
        seeds.setdefault(str(_required(record, record.inputs, "tableName")), []).append(
            json.loads(_required(record, record.inputs, "item"))
        )
    tables = []
    for record in run.of_type("aws:dynamodb/table:Table"):
        name = str(_required(record, record.outputs, "name"))
        key_schema = [{"AttributeName": str(_required(record, record.inputs, "hashKey")), "KeyType": "HASH"}]
        if record.inputs.get("rangeKey"):
            key_schema.append({"AttributeName": str(record.inputs["rangeKey"]), "KeyType": "RANGE"})
        indexes = []
        for index in record.inputs.get("globalSecondaryIndexes") or []:
            schema = {k["keyType"]: k["attributeName"] for k in index.get("keySchemas") or []}
            index_keys = [{"AttributeName": schema["HASH"], "KeyType": "HASH"}]
            if "RANGE" in schema:
                index_keys.append({"AttributeName": schema["RANGE"], "KeyType": "RANGE"})
            indexes.append(
                {
                    "IndexName": str(index["name"]),
                    "KeySchema": index_keys,
                    "Projection": {"ProjectionType": str(index.get("projectionType") or "ALL")},
                }
            )
        tables.append(
            Table(
                name=name,
                key_schema=tuple(key_schema),
                attribute_definitions=tuple(
                    {"AttributeName": str(a["name"]), "AttributeType": str(a["type"])}
                    for a in record.inputs.get("attributes") or []
                ),
                indexes=tuple(indexes),
                seed_items=tuple(seeds.get(name, ())),
            )
        )
    return tuple(tables)


def _queue(record: RecordedResource) -> Queue:
    redrive = record.inputs.get("redrivePolicy")
    return Queue(
        name=str(_required(record, record.outputs, "name")),
        arn=str(_required(record, record.outputs, "arn")),
        url=str(_required(record, record.outputs, "url")),
        visibility_timeout_seconds=int(record.inputs.get("visibilityTimeoutSeconds") or 30),
        redrive_policy=redrive if isinstance(redrive, str) and redrive else None,
    )


def _rules(run: ProgramRun) -> tuple[Rule, ...]:
    targets: dict[tuple[str, str], list[Target]] = {}
    for record in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        if any(record.inputs.get(key) for key in ("input", "inputPath", "inputTransformer")):
            raise RecordingError(f"target {record.name!r} transforms its input; the local router delivers events whole")
        targets.setdefault(
            (str(record.inputs.get("eventBusName") or DEFAULT_BUS), str(_required(record, record.inputs, "rule"))), []
        ).append(
            Target(
                arn=str(_required(record, record.inputs, "arn")),
                # EventBridge's default retry policy: 185 attempts.
                maximum_retry_attempts=int((record.inputs.get("retryPolicy") or {}).get("maximumRetryAttempts", 185)),
                dead_letter_arn=(record.inputs.get("deadLetterConfig") or {}).get("arn"),
            )
        )
    rules = []
    for record in run.of_type("aws:cloudwatch/eventRule:EventRule"):
        bus = str(record.inputs.get("eventBusName") or DEFAULT_BUS)
        name = str(_required(record, record.outputs, "name"))
        rules.append(
            Rule(
                name=name,
                arn=str(_required(record, record.outputs, "arn")),
                bus=bus,
                pattern=str(_required(record, record.inputs, "eventPattern")),
                targets=tuple(targets.get((bus, name), ())),
            )
        )
    return tuple(rules)


def _routes(run: ProgramRun, functions: Mapping[str, Function]) -> tuple[Route, ...]:
    integrations = {str(r.id): r for r in run.of_type("aws:apigatewayv2/integration:Integration")}
    authorizers = {str(r.id): r for r in run.of_type("aws:apigatewayv2/authorizer:Authorizer")}
    routes = []
    for record in run.of_type("aws:apigatewayv2/route:Route"):
        target = str(_required(record, record.inputs, "target")).removeprefix("integrations/")
        integration = integrations.get(target)
        if integration is None:
            raise RecordingError(f"route {record.name!r} targets unknown integration {target!r}")
        uri = str(_required(integration, integration.inputs, "integrationUri"))
        function_name = uri.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in uri else uri
        if function_name not in functions:
            raise RecordingError(f"route {record.name!r} integrates unknown function {function_name!r}")
        authorizer = authorizers.get(str(record.inputs.get("authorizerId") or ""))
        if record.inputs.get("authorizationType") != "JWT" or authorizer is None:
            raise RecordingError(f"route {record.name!r} has no JWT authorizer; the local API serves JWT routes only")
        method, _, path = str(_required(record, record.inputs, "routeKey")).partition(" ")
        jwt = authorizer.inputs.get("jwtConfiguration") or {}
        routes.append(Route(method, path, function_name, tuple(str(a) for a in jwt.get("audiences") or ())))
    return tuple(routes)
