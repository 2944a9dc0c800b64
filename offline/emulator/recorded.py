"""What the emulator runs, read out of the recorded program: the same names, definitions and wiring.

:meth:`RecordedSystem.from_program` turns an :class:`~offline.recording.ProgramRun`
(``offline.harness.run_program``) into tables with their indexes and seed items, queues with their redrive
policies, functions with their environments, asynchronous-invoke settings, SQS consumers, buses with their
rules and targets, state machines with their definitions, topics, buckets and HTTP routes. Nothing here
repeats a name of the program: change ``__main__.py`` and the emulator follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from offline.emulator.semantics import AsyncRetryPolicy, QueueRedrive, TargetRetryPolicy
from offline.paths import HANDLERS_DIR, PROJECT_DIR
from offline.recording import ProgramRun, RecordedResource, json_input

__all__ = ["HANDLERS_DIR", "PROJECT_DIR"]  # the emulator's other modules and the test kits read them here

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
class QueueSpec:
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

    @property
    def redrive(self) -> QueueRedrive:
        """What SQS does with a message received from this queue and not deleted."""
        return QueueRedrive(self.visibility_timeout_seconds, self.max_receive_count)


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: its code package and environment."""

    name: str
    arn: str
    package: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class AsyncInvokeSpec:
    """How Lambda retries an asynchronous invocation of a function, and where a failed one goes."""

    function_name: str
    maximum_retry_attempts: int
    on_failure_destination: str | None
    on_success_destination: str | None = None
    maximum_event_age_seconds: int = 21_600

    @property
    def retry_policy(self) -> AsyncRetryPolicy:
        """How Lambda retries the function's asynchronous events."""
        return AsyncRetryPolicy(self.maximum_retry_attempts, self.maximum_event_age_seconds)


@dataclass(frozen=True)
class QueueConsumerSpec:
    """An SQS event source mapping."""

    queue_arn: str
    function_name: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_batching_window_seconds: float = 0.0
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A rule target with its retry policy, dead-letter queue and input transformation (if any)."""

    target_id: str
    arn: str
    maximum_retry_attempts: int
    dead_letter_arn: str | None
    input_transformation: Mapping[str, Any]
    maximum_event_age_seconds: int = 86_400

    @property
    def retry_policy(self) -> TargetRetryPolicy:
        """How EventBridge retries this target."""
        return TargetRetryPolicy(self.maximum_retry_attempts, self.maximum_event_age_seconds)


@dataclass(frozen=True)
class SubscriptionSpec:
    """An SNS subscription: its topic, endpoint, filter policy and dead-letter queue."""

    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    filter_policy: str | None
    filter_policy_scope: str | None
    raw_message_delivery: bool
    dead_letter_arn: str | None


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule on one bus."""

    name: str
    arn: str
    bus: str
    pattern: str
    targets: tuple[TargetSpec, ...]


@dataclass(frozen=True)
class MachineSpec:
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


def function_name(name_or_arn: str) -> str:
    """A function's physical name, from itself or its (qualified) ARN."""
    return name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn


def function_named(functions: Mapping[str, FunctionSpec], name_or_arn: str) -> FunctionSpec:
    """One of ``functions`` (by physical name) by physical name or (qualified) ARN."""
    name = function_name(name_or_arn)
    try:
        return functions[name]
    except KeyError:
        raise RecordingError(f"no function named {name!r}") from None


def function_of(functions: Mapping[str, FunctionSpec], package: str) -> FunctionSpec:
    """The one of ``functions`` whose code is ``handlers/<package>``."""
    for function in functions.values():
        if function.package == package:
            return function
    raise RecordingError(f"no function runs handlers/{package}")


def queue_with_arn(queues: Iterable[QueueSpec], arn: str) -> QueueSpec:
    """The one of ``queues`` with this ARN."""
    for queue in queues:
        if queue.arn == arn:
            return queue
    raise RecordingError(f"no queue with ARN {arn!r}")


def read_functions(run: ProgramRun) -> dict[str, FunctionSpec]:
    """The Lambda functions, by physical name."""
    return {
        str(required(r, r.outputs, "name")): FunctionSpec(
            name=str(r.outputs["name"]),
            arn=str(required(r, r.outputs, "arn")),
            package=str(required(r, r.inputs, "handler")).split(".", 1)[0],
            environment={
                str(k): str(v) for k, v in ((r.inputs.get("environment") or {}).get("variables") or {}).items()
            },
            timeout_seconds=int(r.inputs.get("timeout") or 3),
            memory_mb=int(r.inputs.get("memorySize") or 128),
            reserved_concurrency=(
                int(r.inputs["reservedConcurrentExecutions"])
                if r.inputs.get("reservedConcurrentExecutions") not in (None, -1)
                else None
            ),
        )
        for r in run.of_type("aws:lambda/function:Function")
    }


def read_queues(run: ProgramRun) -> tuple[QueueSpec, ...]:
    """The SQS queues, in registration order."""
    return tuple(_queue(r) for r in run.of_type("aws:sqs/queue:Queue"))


def read_async_invokes(run: ProgramRun) -> dict[str, AsyncInvokeSpec]:
    """The asynchronous-invoke settings, by function name."""
    configs = {}
    for r in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        name = str(required(r, r.inputs, "functionName"))
        configs[name] = AsyncInvokeSpec(
            function_name=name,
            # Lambda's default for asynchronous invocations is two retries.
            maximum_retry_attempts=int(r.inputs.get("maximumRetryAttempts", 2)),
            on_failure_destination=((r.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get(
                "destination"
            ),
            on_success_destination=((r.inputs.get("destinationConfig") or {}).get("onSuccess") or {}).get(
                "destination"
            ),
            # Lambda keeps an asynchronous event for six hours by default.
            maximum_event_age_seconds=int(r.inputs.get("maximumEventAgeInSeconds") or 21_600),
        )
    return configs


def read_queue_consumers(run: ProgramRun) -> tuple[QueueConsumerSpec, ...]:
    """The SQS event source mappings."""
    return tuple(
        QueueConsumerSpec(
            queue_arn=str(required(r, r.inputs, "eventSourceArn")),
            function_name=str(required(r, r.inputs, "functionName")),
            batch_size=int(r.inputs.get("batchSize") or 10),
            report_batch_item_failures="ReportBatchItemFailures" in (r.inputs.get("functionResponseTypes") or []),
            maximum_batching_window_seconds=float(r.inputs.get("maximumBatchingWindowInSeconds") or 0),
            maximum_concurrency=(
                int((r.inputs.get("scalingConfig") or {})["maximumConcurrency"])
                if (r.inputs.get("scalingConfig") or {}).get("maximumConcurrency")
                else None
            ),
        )
        for r in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    )


def read_subscriptions(run: ProgramRun) -> tuple[SubscriptionSpec, ...]:
    """The SNS topic subscriptions."""
    return tuple(
        SubscriptionSpec(
            arn=str(r.outputs.get("arn") or r.name),
            topic_arn=str(required(r, r.inputs, "topic")),
            protocol=str(required(r, r.inputs, "protocol")),
            endpoint=str(required(r, r.inputs, "endpoint")),
            filter_policy=r.inputs.get("filterPolicy") or None,
            filter_policy_scope=r.inputs.get("filterPolicyScope") or None,
            raw_message_delivery=bool(r.inputs.get("rawMessageDelivery")),
            dead_letter_arn=json_input(r.inputs["redrivePolicy"]).get("deadLetterTargetArn")
            if r.inputs.get("redrivePolicy")
            else None,
        )
        for r in run.of_type("aws:sns/topicSubscription:TopicSubscription")
    )


def read_buses(run: ProgramRun) -> tuple[str, ...]:
    """The default bus and the program's own buses, by name."""
    return (DEFAULT_BUS, *(str(r.outputs["name"]) for r in run.of_type("aws:cloudwatch/eventBus:EventBus")))


def read_state_machines(run: ProgramRun) -> tuple[MachineSpec, ...]:
    """The state machines, in registration order."""
    return tuple(
        MachineSpec(
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


def _queue(record: RecordedResource) -> QueueSpec:
    redrive = record.inputs.get("redrivePolicy")
    return QueueSpec(
        name=str(required(record, record.outputs, "name")),
        arn=str(required(record, record.outputs, "arn")),
        url=str(required(record, record.outputs, "url")),
        visibility_timeout_seconds=int(record.inputs.get("visibilityTimeoutSeconds") or 30),
        redrive_policy=redrive if isinstance(redrive, str) and redrive else None,
    )


def read_rules(run: ProgramRun) -> tuple[RuleSpec, ...]:
    """The EventBridge rules of every bus, in registration order, each with its targets."""
    targets: dict[tuple[str, str], list[TargetSpec]] = {}
    for record in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        targets.setdefault(
            (str(record.inputs.get("eventBusName") or DEFAULT_BUS), str(required(record, record.inputs, "rule"))), []
        ).append(
            TargetSpec(
                target_id=str(record.inputs.get("targetId") or record.name),
                arn=str(required(record, record.inputs, "arn")),
                # EventBridge's default retry policy: 185 attempts.
                maximum_retry_attempts=int((record.inputs.get("retryPolicy") or {}).get("maximumRetryAttempts", 185)),
                # ... and 24 hours.
                maximum_event_age_seconds=int(
                    (record.inputs.get("retryPolicy") or {}).get("maximumEventAgeInSeconds") or 86_400
                ),
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
            RuleSpec(
                name=name,
                arn=str(required(record, record.outputs, "arn")),
                bus=bus,
                pattern=str(required(record, record.inputs, "eventPattern")),
                targets=tuple(targets.get((bus, name), ())),
            )
        )
    return tuple(rules)


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index."""

    name: str
    hash_key: str
    range_key: str | None
    projection: str


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table, by its component's logical name."""

    component: str
    name: str
    hash_key: str
    range_key: str | None
    attribute_types: Mapping[str, str]
    indexes: tuple[IndexSpec, ...]
    seed_items: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class RouteSpec:
    """An HTTP API route and the function behind it."""

    route_key: str
    function_name: str
    payload_format_version: str
    authorization_type: str
    jwt_issuer: str | None
    jwt_audiences: tuple[str, ...]

    @property
    def method(self) -> str:
        """The route's HTTP method."""
        return self.route_key.partition(" ")[0]

    @property
    def path(self) -> str:
        """The route's path template, e.g. ``/orders/{orderId}``."""
        return self.route_key.partition(" ")[2]


@dataclass(frozen=True)
class RecordedSystem:
    """Everything the order flow needs, read from one recorded program run.

    Build it with :meth:`from_program`; every lookup raises :class:`RecordingError` naming what is missing.
    """

    region: str
    account: str
    tables: Mapping[str, TableSpec]
    queues: Mapping[str, QueueSpec]
    functions: Mapping[str, FunctionSpec]
    async_invokes: Mapping[str, AsyncInvokeSpec]
    queue_consumers: tuple[QueueConsumerSpec, ...]
    buses: tuple[str, ...]
    rules: tuple[RuleSpec, ...]
    machines: Mapping[str, MachineSpec]
    topics: Mapping[str, str]
    eventbridge_buckets: frozenset[str]
    buckets: tuple[str, ...]
    routes: tuple[RouteSpec, ...]
    api_domain: str
    throttle_burst: int
    throttle_rate: float
    subscriptions: tuple[SubscriptionSpec, ...] = ()

    @classmethod
    def from_program(cls, run: ProgramRun) -> RecordedSystem:
        """Read the order system out of a recorded program run.

        Parameters
        ----------
        run:
            What ``offline.harness.run_program`` returned.

        Returns
        -------
        RecordedSystem
            Tables, queues, functions, rules, targets, state machines and routes, with physical names.

        Raises
        ------
        RecordingError
            When a record lacks a key the flow needs (the message names the resource and the key).
        """
        functions = read_functions(run)
        if not functions:
            raise RecordingError("the program declares no Lambda function")
        stage = next(iter(run.of_type("aws:apigatewayv2/stage:Stage")), None)
        throttling = (stage.inputs.get("defaultRouteSettings") or {}) if stage else {}
        return cls(
            region=run.config.get("aws:region") or "us-east-1",
            account=next(iter(functions.values())).arn.split(":")[4],
            tables=_tables(run),
            queues={queue.name: queue for queue in read_queues(run)},
            functions=functions,
            async_invokes=read_async_invokes(run),
            queue_consumers=read_queue_consumers(run),
            buses=read_buses(run),
            rules=read_rules(run),
            machines={machine.component: machine for machine in read_state_machines(run)},
            topics={str(r.outputs["name"]): str(r.outputs["arn"]) for r in run.of_type("aws:sns/topic:Topic")},
            eventbridge_buckets=read_eventbridge_buckets(run),
            buckets=read_buckets(run),
            routes=_routes(run, functions),
            api_domain=_api_domain(run),
            # API Gateway's account-level defaults when the stage sets none.
            throttle_burst=int(throttling.get("throttlingBurstLimit") or 5000),
            throttle_rate=float(throttling.get("throttlingRateLimit") or 10000),
            subscriptions=read_subscriptions(run),
        )

    # ---- lookups ------------------------------------------------------------------------------

    def table(self, component: str) -> TableSpec:
        """The table of a ``Table`` component (``orders``, ``timeline``, ...)."""
        try:
            return self.tables[component]
        except KeyError:
            raise RecordingError(f"no table component {component!r}; recorded: {sorted(self.tables)}") from None

    def machine(self, component: str) -> MachineSpec:
        """The state machine of a ``Workflow`` component (``fulfillment``, ``customer-status-workflow``)."""
        try:
            return self.machines[component]
        except KeyError:
            raise RecordingError(f"no workflow component {component!r}; recorded: {sorted(self.machines)}") from None

    def function(self, package: str) -> FunctionSpec:
        """The function whose code is ``handlers/<package>``."""
        return function_of(self.functions, package)

    def function_named(self, name_or_arn: str) -> FunctionSpec:
        """A function by physical name or (qualified) ARN."""
        return function_named(self.functions, name_or_arn)

    def queue_by_arn(self, arn: str) -> QueueSpec:
        """A queue by ARN."""
        return queue_with_arn(self.queues.values(), arn)

    def queue_by_url(self, url: str) -> QueueSpec:
        """A queue by URL."""
        for queue in self.queues.values():
            if queue.url == url:
                return queue
        raise RecordingError(f"no queue with URL {url!r}")

    def rules_on(self, bus: str) -> tuple[RuleSpec, ...]:
        """Rules of one bus (by name), in registration order."""
        return tuple(rule for rule in self.rules if rule.bus == bus)

    def async_retry_policy(self, function: str) -> AsyncRetryPolicy:
        """How Lambda retries asynchronous events of ``function`` (name or ARN): its config, or Lambda's defaults."""
        config = self.async_invokes.get(function_name(function))
        return config.retry_policy if config is not None else AsyncRetryPolicy()

    @property
    def custom_bus(self) -> str:
        """The order system's own bus."""
        custom = [bus for bus in self.buses if bus != DEFAULT_BUS]
        if len(custom) != 1:
            raise RecordingError(f"expected one custom event bus, recorded {custom}")
        return custom[0]

    @property
    def dead_letter_queues(self) -> dict[str, QueueSpec]:
        """Every queue failures end up in.

        Redrive policies' and rule targets' dead-letter queues, Lambda on-failure destinations, and the
        queues workflows park failed executions' input on.
        """
        arns = {queue.dead_letter_arn for queue in self.queues.values() if queue.dead_letter_arn}
        arns |= {target.dead_letter_arn for rule in self.rules for target in rule.targets if target.dead_letter_arn}
        arns |= {spec.on_failure_destination for spec in self.async_invokes.values() if spec.on_failure_destination}
        urls = {url for machine in self.machines.values() for url in machine.queue_urls}
        return {queue.name: queue for queue in self.queues.values() if queue.arn in arns or queue.url in urls}


def _tables(run: ProgramRun) -> dict[str, TableSpec]:
    seeds: dict[str, list[Mapping[str, Any]]] = {}
    for record in run.of_type("aws:dynamodb/tableItem:TableItem"):
        table_name = str(required(record, record.inputs, "tableName"))
        seeds.setdefault(table_name, []).append(json.loads(required(record, record.inputs, "item")))
    tables = {}
    for record in run.of_type("aws:dynamodb/table:Table"):
        name = str(required(record, record.outputs, "name"))
        attributes = {str(a["name"]): str(a["type"]) for a in record.inputs.get("attributes") or []}
        indexes = []
        for index in record.inputs.get("globalSecondaryIndexes") or []:
            schema = {k["keyType"]: k["attributeName"] for k in index.get("keySchemas") or []}
            hash_key = schema.get("HASH") or index.get("hashKey")
            if not hash_key:
                raise RecordingError(f"index {index.get('name')!r} of table {name!r} has no hash key")
            indexes.append(
                IndexSpec(
                    name=str(index["name"]),
                    hash_key=str(hash_key),
                    range_key=schema.get("RANGE") or index.get("rangeKey"),
                    projection=str(index.get("projectionType") or "ALL"),
                )
            )
        component = run.component_name(record)
        tables[component] = TableSpec(
            component=component,
            name=name,
            hash_key=str(required(record, record.inputs, "hashKey")),
            range_key=record.inputs.get("rangeKey"),
            attribute_types=attributes,
            indexes=tuple(indexes),
            seed_items=tuple(seeds.get(name, ())),
        )
    return tables


def _routes(run: ProgramRun, functions: Mapping[str, FunctionSpec]) -> tuple[RouteSpec, ...]:
    integrations = {
        str(r.outputs.get("id") or r.id): r for r in run.of_type("aws:apigatewayv2/integration:Integration")
    }
    authorizers = {str(r.outputs.get("id") or r.id): r for r in run.of_type("aws:apigatewayv2/authorizer:Authorizer")}
    routes = []
    for record in run.of_type("aws:apigatewayv2/route:Route"):
        target = str(required(record, record.inputs, "target"))
        integration = integrations.get(target.removeprefix("integrations/"))
        if integration is None:
            raise RecordingError(f"route {record.name!r} targets unknown integration {target!r}")
        uri = str(required(integration, integration.inputs, "integrationUri"))
        name = function_name(uri)
        if name not in functions:
            raise RecordingError(f"route {record.name!r} integrates unknown function {name!r}")
        authorizer = authorizers.get(str(record.inputs.get("authorizerId") or ""))
        jwt = (authorizer.inputs.get("jwtConfiguration") or {}) if authorizer else {}
        routes.append(
            RouteSpec(
                route_key=str(required(record, record.inputs, "routeKey")),
                function_name=name,
                payload_format_version=str(integration.inputs.get("payloadFormatVersion") or "1.0"),
                authorization_type=str(record.inputs.get("authorizationType") or "NONE"),
                jwt_issuer=jwt.get("issuer"),
                jwt_audiences=tuple(jwt.get("audiences") or ()),
            )
        )
    return tuple(routes)


def _api_domain(run: ProgramRun) -> str:
    apis = run.of_type("aws:apigatewayv2/api:Api")
    endpoint = str(apis[0].outputs.get("apiEndpoint") or "") if apis else ""
    return endpoint.removeprefix("https://").rstrip("/") or "api.example.com"
