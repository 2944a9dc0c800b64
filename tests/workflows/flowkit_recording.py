"""What the order flow needs from a recorded program run: tables, queues, functions, rules, workflows, routes.

:class:`RecordedSystem` reads them out of a :class:`~offline.recording.ProgramRun` with their physical
names, so the flow is built from what the program declares, never from a second copy of its names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from offline.recording import ProgramRun, RecordedResource

PROJECT_DIR: Final = Path(__file__).resolve().parents[2]
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"
DEFAULT_BUS: Final = "default"


class RecordingError(ValueError):
    """The recorded program lacks something the flow needs; the message names the resource and key."""


# ---------------------------------------------------------------------------------------------------
# What the program recorded
# ---------------------------------------------------------------------------------------------------


def _component_name(resource: RecordedResource) -> str:
    """Logical name of the component that registered ``resource`` (``orders`` for ``orders-table``)."""
    return resource.parent.rsplit("::", 1)[-1]


def _required(resource: RecordedResource, source: Mapping[str, Any], key: str) -> Any:
    value = source.get(key)
    if value in (None, ""):
        raise RecordingError(f"{resource.type} {resource.name!r} has no {key!r}")
    return value


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
class QueueSpec:
    """An SQS queue and its redrive policy."""

    name: str
    arn: str
    url: str
    visibility_timeout_seconds: int
    dead_letter_arn: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function and what its code needs."""

    name: str
    arn: str
    package: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class AsyncInvokeSpec:
    """How Lambda retries an asynchronous invocation, and where a failed one goes."""

    function_name: str
    maximum_retry_attempts: int
    on_failure_destination: str | None


@dataclass(frozen=True)
class QueueConsumerSpec:
    """An SQS event source mapping."""

    queue_arn: str
    function_name: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class TargetSpec:
    """A rule target with its retry policy and dead-letter queue."""

    target_id: str
    arn: str
    maximum_retry_attempts: int
    dead_letter_arn: str | None
    input_transformation: Mapping[str, Any]


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule on one bus, with its targets."""

    name: str
    arn: str
    bus: str
    pattern: str
    targets: tuple[TargetSpec, ...]


@dataclass(frozen=True)
class MachineSpec:
    """A state machine, by its component's logical name."""

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
        """URLs of the SQS queues the definition's Tasks send messages to."""
        return {
            str(state["Parameters"]["QueueUrl"])
            for state in self.document["States"].values()
            if state.get("Type") == "Task"
            and str(state.get("Resource", "")).startswith("arn:aws:states:::sqs:sendMessage")
            and "QueueUrl" in (state.get("Parameters") or {})
        }


@dataclass(frozen=True)
class RouteSpec:
    """An HTTP API route and the function behind it."""

    route_key: str
    function_name: str
    payload_format_version: str
    authorization_type: str
    jwt_issuer: str | None
    jwt_audiences: tuple[str, ...]


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
        region = run.config.get("aws:region") or "us-east-1"
        functions = {}
        for record in run.of_type("aws:lambda/function:Function"):
            handler = str(_required(record, record.inputs, "handler"))
            variables = (record.inputs.get("environment") or {}).get("variables") or {}
            functions[str(_required(record, record.outputs, "name"))] = FunctionSpec(
                name=str(record.outputs["name"]),
                arn=str(_required(record, record.outputs, "arn")),
                package=handler.split(".", 1)[0],
                environment={str(key): str(value) for key, value in variables.items()},
                timeout_seconds=int(record.inputs.get("timeout") or 3),
                memory_mb=int(record.inputs.get("memorySize") or 128),
            )
        account = next(iter(functions.values())).arn.split(":")[4] if functions else "123456789012"
        return cls(
            region=region,
            account=account,
            tables=_tables(run),
            queues=_queues(run),
            functions=functions,
            async_invokes=_async_invokes(run),
            queue_consumers=_queue_consumers(run),
            buses=(DEFAULT_BUS, *(str(r.outputs["name"]) for r in run.of_type("aws:cloudwatch/eventBus:EventBus"))),
            rules=_rules(run),
            machines=_machines(run),
            topics={str(r.outputs["name"]): str(r.outputs["arn"]) for r in run.of_type("aws:sns/topic:Topic")},
            eventbridge_buckets=frozenset(
                str(r.inputs["bucket"])
                for r in run.of_type("aws:s3/bucketNotification:BucketNotification")
                if r.inputs.get("eventbridge")
            ),
            buckets=tuple(str(r.outputs["bucket"]) for r in run.of_type("aws:s3/bucket:Bucket")),
            routes=_routes(run, functions),
            api_domain=_api_domain(run),
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
        for spec in self.functions.values():
            if spec.package == package:
                return spec
        raise RecordingError(f"no function runs handlers/{package}")

    def function_named(self, name_or_arn: str) -> FunctionSpec:
        """A function by physical name or (qualified) ARN."""
        name = name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn
        try:
            return self.functions[name]
        except KeyError:
            raise RecordingError(f"no function named {name!r}") from None

    def queue_by_arn(self, arn: str) -> QueueSpec:
        """A queue by ARN."""
        for queue in self.queues.values():
            if queue.arn == arn:
                return queue
        raise RecordingError(f"no queue with ARN {arn!r}")

    def queue_by_url(self, url: str) -> QueueSpec:
        """A queue by URL."""
        for queue in self.queues.values():
            if queue.url == url:
                return queue
        raise RecordingError(f"no queue with URL {url!r}")

    def rules_on(self, bus: str) -> tuple[RuleSpec, ...]:
        """Rules of one bus (by name), in registration order."""
        return tuple(rule for rule in self.rules if rule.bus == bus)

    @property
    def custom_bus(self) -> str:
        """The order system's own bus."""
        custom = [bus for bus in self.buses if bus != DEFAULT_BUS]
        if len(custom) != 1:
            raise RecordingError(f"expected one custom event bus, recorded {custom}")
        return custom[0]

    @property
    def dead_letter_queues(self) -> dict[str, QueueSpec]:
        """Every queue failures end up in: redrive policies' and rule targets' dead-letter queues, Lambda
        on-failure destinations, and the queues workflows park failed executions' input on."""
        arns = {queue.dead_letter_arn for queue in self.queues.values() if queue.dead_letter_arn}
        arns |= {target.dead_letter_arn for rule in self.rules for target in rule.targets if target.dead_letter_arn}
        arns |= {spec.on_failure_destination for spec in self.async_invokes.values() if spec.on_failure_destination}
        urls = {url for machine in self.machines.values() for url in machine.queue_urls}
        return {queue.name: queue for queue in self.queues.values() if queue.arn in arns or queue.url in urls}


def _tables(run: ProgramRun) -> dict[str, TableSpec]:
    seeds: dict[str, list[Mapping[str, Any]]] = {}
    for record in run.of_type("aws:dynamodb/tableItem:TableItem"):
        table_name = str(_required(record, record.inputs, "tableName"))
        seeds.setdefault(table_name, []).append(json.loads(_required(record, record.inputs, "item")))
    tables = {}
    for record in run.of_type("aws:dynamodb/table:Table"):
        name = str(_required(record, record.outputs, "name"))
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
        component = _component_name(record)
        tables[component] = TableSpec(
            component=component,
            name=name,
            hash_key=str(_required(record, record.inputs, "hashKey")),
            range_key=record.inputs.get("rangeKey"),
            attribute_types=attributes,
            indexes=tuple(indexes),
            seed_items=tuple(seeds.get(name, ())),
        )
    return tables


def _queues(run: ProgramRun) -> dict[str, QueueSpec]:
    queues = {}
    for record in run.of_type("aws:sqs/queue:Queue"):
        redrive_raw = record.inputs.get("redrivePolicy")
        redrive = json.loads(redrive_raw) if isinstance(redrive_raw, str) and redrive_raw else {}
        name = str(_required(record, record.outputs, "name"))
        queues[name] = QueueSpec(
            name=name,
            arn=str(_required(record, record.outputs, "arn")),
            url=str(_required(record, record.outputs, "url")),
            visibility_timeout_seconds=int(record.inputs.get("visibilityTimeoutSeconds") or 30),
            dead_letter_arn=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
        )
    return queues


def _async_invokes(run: ProgramRun) -> dict[str, AsyncInvokeSpec]:
    configs = {}
    for record in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        name = str(_required(record, record.inputs, "functionName"))
        destination = ((record.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        configs[name] = AsyncInvokeSpec(
            function_name=name,
            # Lambda's default for asynchronous invocations is two retries.
            maximum_retry_attempts=int(record.inputs.get("maximumRetryAttempts", 2)),
            on_failure_destination=destination,
        )
    return configs


def _queue_consumers(run: ProgramRun) -> tuple[QueueConsumerSpec, ...]:
    return tuple(
        QueueConsumerSpec(
            queue_arn=str(_required(r, r.inputs, "eventSourceArn")),
            function_name=str(_required(r, r.inputs, "functionName")),
            batch_size=int(r.inputs.get("batchSize") or 10),
            report_batch_item_failures="ReportBatchItemFailures" in (r.inputs.get("functionResponseTypes") or []),
        )
        for r in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    )


def _rules(run: ProgramRun) -> tuple[RuleSpec, ...]:
    targets: dict[tuple[str, str], list[TargetSpec]] = {}
    for record in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        bus = str(record.inputs.get("eventBusName") or DEFAULT_BUS)
        retry = record.inputs.get("retryPolicy") or {}
        transformation = {
            key: record.inputs[key] for key in ("input", "inputPath", "inputTransformer") if record.inputs.get(key)
        }
        targets.setdefault((bus, str(_required(record, record.inputs, "rule"))), []).append(
            TargetSpec(
                target_id=str(record.inputs.get("targetId") or record.name),
                arn=str(_required(record, record.inputs, "arn")),
                # EventBridge's default retry policy: 185 attempts over 24 hours.
                maximum_retry_attempts=int(retry.get("maximumRetryAttempts", 185)),
                dead_letter_arn=(record.inputs.get("deadLetterConfig") or {}).get("arn"),
                input_transformation=transformation,
            )
        )
    rules = []
    for record in run.of_type("aws:cloudwatch/eventRule:EventRule"):
        bus = str(record.inputs.get("eventBusName") or DEFAULT_BUS)
        name = str(_required(record, record.outputs, "name"))
        rules.append(
            RuleSpec(
                name=name,
                arn=str(_required(record, record.outputs, "arn")),
                bus=bus,
                pattern=str(_required(record, record.inputs, "eventPattern")),
                targets=tuple(targets.get((bus, name), ())),
            )
        )
    return tuple(rules)


def _machines(run: ProgramRun) -> dict[str, MachineSpec]:
    machines = {}
    for record in run.of_type("aws:sfn/stateMachine:StateMachine"):
        component = _component_name(record)
        machines[component] = MachineSpec(
            component=component,
            name=str(_required(record, record.outputs, "name")),
            arn=str(_required(record, record.outputs, "arn")),
            type=str(record.inputs.get("type") or "STANDARD"),
            definition=str(_required(record, record.inputs, "definition")),
            role_arn=str(_required(record, record.inputs, "roleArn")),
        )
    return machines


def _routes(run: ProgramRun, functions: Mapping[str, FunctionSpec]) -> tuple[RouteSpec, ...]:
    integrations = {
        str(r.outputs.get("id") or r.id): r for r in run.of_type("aws:apigatewayv2/integration:Integration")
    }
    authorizers = {str(r.outputs.get("id") or r.id): r for r in run.of_type("aws:apigatewayv2/authorizer:Authorizer")}
    routes = []
    for record in run.of_type("aws:apigatewayv2/route:Route"):
        target = str(_required(record, record.inputs, "target"))
        integration = integrations.get(target.removeprefix("integrations/"))
        if integration is None:
            raise RecordingError(f"route {record.name!r} targets unknown integration {target!r}")
        uri = str(_required(integration, integration.inputs, "integrationUri"))
        function_name = uri.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in uri else uri
        if function_name not in functions:
            raise RecordingError(f"route {record.name!r} integrates unknown function {function_name!r}")
        authorizer = authorizers.get(str(record.inputs.get("authorizerId") or ""))
        jwt = (authorizer.inputs.get("jwtConfiguration") or {}) if authorizer else {}
        routes.append(
            RouteSpec(
                route_key=str(_required(record, record.inputs, "routeKey")),
                function_name=function_name,
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
