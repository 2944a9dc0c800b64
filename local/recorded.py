"""What the local system runs, read out of the recorded program: the same names, definitions and wiring.

:func:`read_system` turns an :class:`~offline.recording.ProgramRun` (``offline.harness.run_program``) into a
:class:`System`: tables with their indexes and seed items, queues with their redrive policies, functions
with their environments, asynchronous-invoke settings, SQS consumers, buses with their rules and targets,
state machines with their definitions, topics, buckets and HTTP routes. Nothing here repeats a name of
the program: change ``__main__.py`` and the local system follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from offline.recording import ProgramRun, RecordedResource, json_input

DEFAULT_BUS: Final = "default"


class RecordingError(ValueError):
    """The recorded program lacks something the local system needs; the message names it."""


def required(resource: RecordedResource, source: Mapping[str, Any], key: str) -> Any:
    """``source[key]`` of a recorded resource (its inputs or outputs), or a :class:`RecordingError` naming both."""
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

    @property
    def dead_letter_arn(self) -> str | None:
        """The ARN of the queue that receives messages this queue gives up on, if any."""
        return json_input(self.redrive_policy).get("deadLetterTargetArn") if self.redrive_policy else None

    @property
    def max_receive_count(self) -> int | None:
        """How many receives a message gets before it moves to the dead-letter queue, if there is one."""
        redrive = json_input(self.redrive_policy) if self.redrive_policy else {}
        return int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None


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

    function_name: str
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
    """A rule target with its retry policy, dead-letter queue and input transformation (if any)."""

    target_id: str
    arn: str
    maximum_retry_attempts: int
    dead_letter_arn: str | None
    input_transformation: Mapping[str, Any]


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
    """A Step Functions state machine, by its ``Workflow`` component's name, with the generated definition."""

    component: str
    name: str
    arn: str
    type: str
    definition: str
    role_arn: str

    @property
    def document(self) -> dict[str, Any]:
        """The definition as a dict."""
        return dict(json.loads(self.definition))

    @property
    def queue_urls(self) -> set[str]:
        """URLs of the SQS queues the definition's Tasks send messages to (in any partition)."""
        return {
            str(state["Parameters"]["QueueUrl"])
            for state in self.document["States"].values()
            if state.get("Type") == "Task"
            and ":states:::sqs:sendMessage" in str(state.get("Resource", ""))
            and "QueueUrl" in (state.get("Parameters") or {})
        }


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
        return function_named(self.functions, name_or_arn)

    def function_of(self, package: str) -> Function:
        """The function whose code is ``handlers/<package>``."""
        return function_of(self.functions, package)

    def queue(self, arn: str) -> Queue:
        """A queue by ARN."""
        return queue_with_arn(self.queues, arn)


def function_name(name_or_arn: str) -> str:
    """A function's physical name, from itself or its (qualified) ARN."""
    return name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn


def function_named(functions: Mapping[str, Function], name_or_arn: str) -> Function:
    """One of ``functions`` (by physical name) by physical name or (qualified) ARN."""
    name = function_name(name_or_arn)
    try:
        return functions[name]
    except KeyError:
        raise RecordingError(f"no function named {name!r}") from None


def function_of(functions: Mapping[str, Function], package: str) -> Function:
    """The one of ``functions`` whose code is ``handlers/<package>``."""
    for function in functions.values():
        if function.package == package:
            return function
    raise RecordingError(f"no function runs handlers/{package}")


def queue_with_arn(queues: Iterable[Queue], arn: str) -> Queue:
    """The one of ``queues`` with this ARN."""
    for queue in queues:
        if queue.arn == arn:
            return queue
    raise RecordingError(f"no queue with ARN {arn!r}")


def read_system(run: ProgramRun) -> System:
    """Read the order system out of a recorded program run.

    Raises
    ------
    RecordingError
        When a record lacks a key the local system needs (naming the resource and the key), or a rule target
        transforms its input (the local router delivers events whole).
    """
    functions = read_functions(run)
    if not functions:
        raise RecordingError("the program declares no Lambda function")
    rules = read_rules(run)
    for rule in rules:
        for target in rule.targets:
            if target.input_transformation:
                raise RecordingError(
                    f"target {target.target_id!r} transforms its input; the local router delivers events whole"
                )
    stage = next(iter(run.of_type("aws:apigatewayv2/stage:Stage")), None)
    throttling = (stage.inputs.get("defaultRouteSettings") or {}) if stage else {}
    return System(
        region=run.config.get("aws:region") or "us-east-1",
        account=next(iter(functions.values())).arn.split(":")[4],
        tables=_tables(run),
        queues=read_queues(run),
        functions=functions,
        async_invokes=read_async_invokes(run),
        queue_consumers=read_queue_consumers(run),
        buses=read_buses(run),
        rules=rules,
        state_machines=read_state_machines(run),
        topics=tuple(str(r.outputs["name"]) for r in run.of_type("aws:sns/topic:Topic")),
        buckets=read_buckets(run),
        eventbridge_buckets=read_eventbridge_buckets(run),
        routes=_routes(run, functions),
        throttle_burst=int(throttling.get("throttlingBurstLimit") or 5000),
        throttle_rate=float(throttling.get("throttlingRateLimit") or 10000),
    )


def read_functions(run: ProgramRun) -> dict[str, Function]:
    """The Lambda functions, by physical name."""
    return {
        str(required(r, r.outputs, "name")): Function(
            name=str(r.outputs["name"]),
            arn=str(required(r, r.outputs, "arn")),
            package=str(required(r, r.inputs, "handler")).split(".", 1)[0],
            environment={
                str(k): str(v) for k, v in ((r.inputs.get("environment") or {}).get("variables") or {}).items()
            },
            timeout_seconds=int(r.inputs.get("timeout") or 3),
            memory_mb=int(r.inputs.get("memorySize") or 128),
        )
        for r in run.of_type("aws:lambda/function:Function")
    }


def read_queues(run: ProgramRun) -> tuple[Queue, ...]:
    """The SQS queues, in registration order."""
    return tuple(_queue(r) for r in run.of_type("aws:sqs/queue:Queue"))


def read_async_invokes(run: ProgramRun) -> dict[str, AsyncInvoke]:
    """The asynchronous-invoke settings, by function name."""
    configs = {}
    for r in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        name = str(required(r, r.inputs, "functionName"))
        configs[name] = AsyncInvoke(
            function_name=name,
            # Lambda's default for asynchronous invocations is two retries.
            maximum_retry_attempts=int(r.inputs.get("maximumRetryAttempts", 2)),
            on_failure_destination=((r.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get(
                "destination"
            ),
        )
    return configs


def read_queue_consumers(run: ProgramRun) -> tuple[QueueConsumer, ...]:
    """The SQS event source mappings."""
    return tuple(
        QueueConsumer(
            queue_arn=str(required(r, r.inputs, "eventSourceArn")),
            function_name=str(required(r, r.inputs, "functionName")),
            batch_size=int(r.inputs.get("batchSize") or 10),
            report_batch_item_failures="ReportBatchItemFailures" in (r.inputs.get("functionResponseTypes") or []),
        )
        for r in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    )


def read_buses(run: ProgramRun) -> tuple[str, ...]:
    """The default bus and the program's own buses, by name."""
    return (DEFAULT_BUS, *(str(r.outputs["name"]) for r in run.of_type("aws:cloudwatch/eventBus:EventBus")))


def read_state_machines(run: ProgramRun) -> tuple[StateMachine, ...]:
    """The state machines, in registration order."""
    return tuple(
        StateMachine(
            component=run.component_name(r),
            name=str(required(r, r.outputs, "name")),
            arn=str(required(r, r.outputs, "arn")),
            type=str(r.inputs.get("type") or "STANDARD"),
            definition=str(required(r, r.inputs, "definition")),
            role_arn=str(required(r, r.inputs, "roleArn")),
        )
        for r in run.of_type("aws:sfn/stateMachine:StateMachine")
    )


def read_buckets(run: ProgramRun) -> tuple[str, ...]:
    """The S3 buckets, by name."""
    return tuple(str(r.outputs["bucket"]) for r in run.of_type("aws:s3/bucket:Bucket"))


def read_eventbridge_buckets(run: ProgramRun) -> frozenset[str]:
    """The buckets that send their object events to EventBridge."""
    return frozenset(
        str(r.inputs["bucket"])
        for r in run.of_type("aws:s3/bucketNotification:BucketNotification")
        if r.inputs.get("eventbridge")
    )


def _tables(run: ProgramRun) -> tuple[Table, ...]:
    seeds: dict[str, list[dict[str, Any]]] = {}
    for record in run.of_type("aws:dynamodb/tableItem:TableItem"):
        seeds.setdefault(str(required(record, record.inputs, "tableName")), []).append(
            json.loads(required(record, record.inputs, "item"))
        )
    tables = []
    for record in run.of_type("aws:dynamodb/table:Table"):
        name = str(required(record, record.outputs, "name"))
        key_schema = [{"AttributeName": str(required(record, record.inputs, "hashKey")), "KeyType": "HASH"}]
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
        name=str(required(record, record.outputs, "name")),
        arn=str(required(record, record.outputs, "arn")),
        url=str(required(record, record.outputs, "url")),
        visibility_timeout_seconds=int(record.inputs.get("visibilityTimeoutSeconds") or 30),
        redrive_policy=redrive if isinstance(redrive, str) and redrive else None,
    )


def read_rules(run: ProgramRun) -> tuple[Rule, ...]:
    """The EventBridge rules of every bus, in registration order, each with its targets."""
    targets: dict[tuple[str, str], list[Target]] = {}
    for record in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        targets.setdefault(
            (str(record.inputs.get("eventBusName") or DEFAULT_BUS), str(required(record, record.inputs, "rule"))), []
        ).append(
            Target(
                target_id=str(record.inputs.get("targetId") or record.name),
                arn=str(required(record, record.inputs, "arn")),
                # EventBridge's default retry policy: 185 attempts.
                maximum_retry_attempts=int((record.inputs.get("retryPolicy") or {}).get("maximumRetryAttempts", 185)),
                dead_letter_arn=(record.inputs.get("deadLetterConfig") or {}).get("arn"),
                input_transformation={
                    key: record.inputs[key]
                    for key in ("input", "inputPath", "inputTransformer")
                    if record.inputs.get(key)
                },
            )
        )
    rules = []
    for record in run.of_type("aws:cloudwatch/eventRule:EventRule"):
        bus = str(record.inputs.get("eventBusName") or DEFAULT_BUS)
        name = str(required(record, record.outputs, "name"))
        rules.append(
            Rule(
                name=name,
                arn=str(required(record, record.outputs, "arn")),
                bus=bus,
                pattern=str(required(record, record.inputs, "eventPattern")),
                targets=tuple(targets.get((bus, name), ())),
            )
        )
    return tuple(rules)


def _routes(run: ProgramRun, functions: Mapping[str, Function]) -> tuple[Route, ...]:
    integrations = {str(r.id): r for r in run.of_type("aws:apigatewayv2/integration:Integration")}
    authorizers = {str(r.id): r for r in run.of_type("aws:apigatewayv2/authorizer:Authorizer")}
    routes = []
    for record in run.of_type("aws:apigatewayv2/route:Route"):
        target = str(required(record, record.inputs, "target")).removeprefix("integrations/")
        integration = integrations.get(target)
        if integration is None:
            raise RecordingError(f"route {record.name!r} targets unknown integration {target!r}")
        uri = str(required(integration, integration.inputs, "integrationUri"))
        name = function_name(uri)
        if name not in functions:
            raise RecordingError(f"route {record.name!r} integrates unknown function {name!r}")
        authorizer = authorizers.get(str(record.inputs.get("authorizerId") or ""))
        if record.inputs.get("authorizationType") != "JWT" or authorizer is None:
            raise RecordingError(f"route {record.name!r} has no JWT authorizer; the local API serves JWT routes only")
        method, _, path = str(required(record, record.inputs, "routeKey")).partition(" ")
        jwt = authorizer.inputs.get("jwtConfiguration") or {}
        routes.append(Route(method, path, name, tuple(str(a) for a in jwt.get("audiences") or ())))
    return tuple(routes)
