"""What the order flow needs from a recorded program run: tables, queues, functions, rules, workflows, routes.

:class:`RecordedSystem` reads them out of a :class:`~offline.recording.ProgramRun` with their physical
names, so the flow is built from what the program declares, never from a second copy of its names. Queues,
functions, rules, state machines and the rest are read by the local system's reader (``local.recorded``);
only the views the flow needs beyond it (tables and routes by key, lookups by component) are read here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from local.recorded import (
    DEFAULT_BUS,
    RecordingError,
    function_named,
    function_of,
    queue_with_arn,
    read_async_invokes,
    read_buckets,
    read_buses,
    read_eventbridge_buckets,
    read_functions,
    read_queue_consumers,
    read_queues,
    read_rules,
    read_state_machines,
    required,
)
from local.recorded import AsyncInvoke as AsyncInvokeSpec
from local.recorded import Function as FunctionSpec
from local.recorded import Queue as QueueSpec
from local.recorded import QueueConsumer as QueueConsumerSpec
from local.recorded import Rule as RuleSpec
from local.recorded import StateMachine as MachineSpec
from local.recorded import Target as TargetSpec
from local.recorded import function_name as function_name_of
from offline.recording import ProgramRun

PROJECT_DIR: Final = Path(__file__).resolve().parents[2]
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"

# The flow's names for the records ``local.recorded`` reads; only tables and routes are read differently here.
__all__ = [
    "DEFAULT_BUS",
    "HANDLERS_DIR",
    "PROJECT_DIR",
    "AsyncInvokeSpec",
    "FunctionSpec",
    "IndexSpec",
    "MachineSpec",
    "QueueConsumerSpec",
    "QueueSpec",
    "RecordedSystem",
    "RecordingError",
    "RouteSpec",
    "RuleSpec",
    "TableSpec",
    "TargetSpec",
]


# ---------------------------------------------------------------------------------------------------
# What the program recorded
# ---------------------------------------------------------------------------------------------------


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
        functions = read_functions(run)
        account = next(iter(functions.values())).arn.split(":")[4] if functions else "123456789012"
        return cls(
            region=run.config.get("aws:region") or "us-east-1",
            account=account,
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
        function_name = function_name_of(uri)
        if function_name not in functions:
            raise RecordingError(f"route {record.name!r} integrates unknown function {function_name!r}")
        authorizer = authorizers.get(str(record.inputs.get("authorizerId") or ""))
        jwt = (authorizer.inputs.get("jwtConfiguration") or {}) if authorizer else {}
        routes.append(
            RouteSpec(
                route_key=str(required(record, record.inputs, "routeKey")),
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
