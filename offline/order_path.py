"""What one order does to a recorded stack: every request, invocation, transition, event and write.

:func:`walk_order` follows an order through the resources the program recorded, the way AWS would
route it: the page's API routes → their integrated functions → the events each function puts (from the
workload profile) → the bus rules whose patterns match → their targets (functions, state machines,
queues, buses) → every state of each state machine's *recorded* definition, taking Choice branches
from the profile's outcome and Catch paths for the failures it names → the tables, topics, buckets,
IoT endpoints those states and functions touch. The result is a :class:`Usage`: quantities per order,
weighted by the outcome mix, that ``offline/capacity.py`` turns into ceilings and cost.

Nothing here knows orderflow's names: state counts come from the recorded ASL, routing from the
recorded patterns and targets, resources from the functions' recorded environment.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from offline.emulator.recorded import read_rules
from offline.emulator.router import event_matches
from offline.recording import ProgramRun, RecordedResource

DEFAULT_PROFILE: Final = Path(__file__).resolve().parent / "capacity-profile.yaml"

FUNCTION: Final = "aws:lambda/function:Function"
ROUTE: Final = "aws:apigatewayv2/route:Route"
INTEGRATION: Final = "aws:apigatewayv2/integration:Integration"
STAGE: Final = "aws:apigatewayv2/stage:Stage"
BUS: Final = "aws:cloudwatch/eventBus:EventBus"
RULE: Final = "aws:cloudwatch/eventRule:EventRule"
TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"
ARCHIVE: Final = "aws:cloudwatch/eventArchive:EventArchive"
STATE_MACHINE: Final = "aws:sfn/stateMachine:StateMachine"
QUEUE: Final = "aws:sqs/queue:Queue"
EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"
TABLE: Final = "aws:dynamodb/table:Table"
TOPIC: Final = "aws:sns/topic:Topic"
SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
BUCKET_NOTIFICATION: Final = "aws:s3/bucketNotification:BucketNotification"
IOT_AUTHORIZER: Final = "aws:iot/authorizer:Authorizer"
INVOKE_CONFIG: Final = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
SAMPLING_RULE: Final = "aws:xray/samplingRule:SamplingRule"
DEFAULT_BUS: Final = "default"
MAX_STATES_PER_EXECUTION: Final = 500


class ProfileError(ValueError):
    """The workload profile is malformed or does not fit the recorded program; the message says where."""


# ---- the profile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One AWS call a handler makes per invocation (or per record, for a queue consumer)."""

    service: str
    """``dynamodb``, ``events``, ``sns``, ``iot``, ``s3`` or ``sqs``."""
    variable: str
    """The handler's environment variable that names the resource."""
    requests: float = 1.0
    write_units: float = 0.0
    write_units_per_line: float = 0.0
    hot_key_write_units: float = 0.0
    read_units: float = 0.0
    source: str = ""
    detail_type: str = ""


@dataclass(frozen=True)
class FunctionProfile:
    """A handler's cost drivers: its own CPU time, init time and AWS calls."""

    cpu_ms: float
    init_ms: float
    calls: tuple[Call, ...] = ()
    per_record_calls: tuple[Call, ...] = ()
    listed: bool = True
    failed_calls: tuple[Call, ...] | None = None
    """The calls of an invocation that raises the error an outcome names (``None``: the same as ``calls``)."""


@dataclass(frozen=True)
class Outcome:
    """One kind of order and its share of all orders."""

    name: str
    share: float
    choices: Mapping[str, Any]
    failures: Mapping[str, str]


@dataclass(frozen=True)
class Profile:
    """The workload profile (``offline/capacity-profile.yaml``)."""

    path: Path
    latency_ms: Mapping[str, float]
    cold_start_share: float
    order_lines: float
    hottest_key_share: float
    event_bytes: float
    page_requests: tuple[tuple[str, float], ...]
    connects_per_order: float
    connection_minutes_per_order: float
    subscribers_per_topic: float
    client_retry: Mapping[str, float]
    outcomes: tuple[Outcome, ...]
    lambda_log_bytes: Mapping[str, float]
    api_access_log_bytes: float
    state_machine_log_bytes: Mapping[str, float]
    xray_reservoir: float
    xray_fixed_rate: float
    sqs_poll_seconds: float
    defaults: FunctionProfile
    functions: Mapping[str, FunctionProfile]
    route_calls: Mapping[str, tuple[Call, ...]] = field(default_factory=dict)
    """The calls a route's function makes for that route, where they differ from the function's ``calls``."""

    def function(self, package: str) -> FunctionProfile:
        """The profile of a handler package (the defaults, marked unlisted, when the file has none)."""
        found = self.functions.get(package)
        if found is not None:
            return found
        return FunctionProfile(self.defaults.cpu_ms, self.defaults.init_ms, listed=False)

    def warm_ms(self, package: str, records: float = 1.0) -> float:
        """Warm duration of one invocation: own CPU time plus one round trip per AWS call."""
        spec = self.function(package)
        calls = sum(call.requests * self.latency(call.service) for call in spec.calls)
        per_record = sum(call.requests * self.latency(call.service) for call in spec.per_record_calls)
        return spec.cpu_ms + calls + records * per_record

    def duration_ms(self, package: str, records: float = 1.0) -> float:
        """Mean billed duration: warm duration plus the cold-start share of the init time."""
        return self.warm_ms(package, records) + self.cold_start_share * self.function(package).init_ms

    def latency(self, service: str) -> float:
        """One round trip to ``service`` in milliseconds.

        Raises
        ------
        ProfileError
            When the profile gives no latency for it.
        """
        if service not in self.latency_ms:
            raise ProfileError(f"{self.path.name}: latencyMs has no entry for {service!r}")
        return float(self.latency_ms[service])


_CALL_SERVICES: Final = ("dynamodb", "events", "sns", "iot", "s3", "sqs")


def _number(where: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < minimum:
        raise ProfileError(f"{where} must be a number >= {minimum:g}, got {value!r}")
    return float(value)


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProfileError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _call(where: str, raw: Any) -> Call:
    entry = _mapping(where, raw)
    services = [service for service in _CALL_SERVICES if service in entry]
    if len(services) != 1:
        raise ProfileError(f"{where} must name exactly one of {', '.join(_CALL_SERVICES)}")
    service = services[0]
    known = {service, "requests", "writeUnits", "writeUnitsPerLine", "hotKeyWriteUnits", "readUnits"}
    known |= {"source", "detailType"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ProfileError(f"{where} has unknown keys {unknown}")
    if service == "events" and not (entry.get("source") and entry.get("detailType")):
        raise ProfileError(f"{where}: an events call needs source and detailType")
    return Call(
        service=service,
        variable=str(entry[service]),
        requests=_number(f"{where}.requests", entry.get("requests", 1)),
        write_units=_number(f"{where}.writeUnits", entry.get("writeUnits", 0)),
        write_units_per_line=_number(f"{where}.writeUnitsPerLine", entry.get("writeUnitsPerLine", 0)),
        hot_key_write_units=_number(f"{where}.hotKeyWriteUnits", entry.get("hotKeyWriteUnits", 0)),
        read_units=_number(f"{where}.readUnits", entry.get("readUnits", 0)),
        source=str(entry.get("source", "")),
        detail_type=str(entry.get("detailType", "")),
    )


def _function_profile(where: str, raw: Any) -> FunctionProfile:
    spec = _mapping(where, raw)
    unknown = sorted(set(spec) - {"cpuMs", "initMs", "calls", "perRecordCalls", "failedCalls"})
    if unknown:
        raise ProfileError(f"{where} has unknown keys {unknown}")
    return FunctionProfile(
        cpu_ms=_number(f"{where}.cpuMs", spec.get("cpuMs")),
        init_ms=_number(f"{where}.initMs", spec.get("initMs", 0)),
        calls=tuple(_call(f"{where}.calls[{i}]", c) for i, c in enumerate(spec.get("calls") or [])),
        per_record_calls=tuple(
            _call(f"{where}.perRecordCalls[{i}]", c) for i, c in enumerate(spec.get("perRecordCalls") or [])
        ),
        failed_calls=(
            tuple(_call(f"{where}.failedCalls[{i}]", c) for i, c in enumerate(spec.get("failedCalls") or []))
            if "failedCalls" in spec
            else None
        ),
    )


def load_profile(path: Path = DEFAULT_PROFILE) -> Profile:
    """Read and check a workload profile.

    Raises
    ------
    ProfileError
        Naming the file and the key of the first bad value (outcome shares must add up to 1).
    """
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ProfileError(f"{path}: cannot read the profile ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML ({error})") from error
    root = _mapping(path.name, document)
    name = path.name

    def section(key: str) -> Mapping[str, Any]:
        return _mapping(f"{name}: {key}", root.get(key, {}))

    workload, page, logs, xray, sqs = (section(k) for k in ("workload", "page", "logs", "xray", "sqs"))
    realtime = _mapping(f"{name}: page.realtime", page.get("realtime", {}))
    requests = []
    route_calls: dict[str, tuple[Call, ...]] = {}
    for index, raw in enumerate(page.get("requests") or []):
        entry = _mapping(f"{name}: page.requests[{index}]", raw)
        requests.append(
            (str(entry.get("route")), _number(f"{name}: page.requests[{index}].perOrder", entry.get("perOrder")))
        )
        if "calls" in entry:
            where = f"{name}: page.requests[{index}].calls"
            route_calls[str(entry.get("route"))] = tuple(
                _call(f"{where}[{i}]", c) for i, c in enumerate(entry["calls"])
            )
    outcomes = []
    for index, raw in enumerate(root.get("outcomes") or []):
        entry = _mapping(f"{name}: outcomes[{index}]", raw)
        outcomes.append(
            Outcome(
                name=str(entry.get("name", f"outcome {index + 1}")),
                share=_number(f"{name}: outcomes[{index}].share", entry.get("share")),
                choices=dict(_mapping(f"{name}: outcomes[{index}].choices", entry.get("choices", {}))),
                failures={
                    str(k): str(v)
                    for k, v in _mapping(f"{name}: outcomes[{index}].failures", entry.get("failures", {})).items()
                },
            )
        )
    if not outcomes or abs(sum(o.share for o in outcomes) - 1.0) > 1e-6:
        raise ProfileError(f"{name}: outcomes' shares must add up to 1, got {sum(o.share for o in outcomes):g}")
    functions = {
        str(package): _function_profile(f"{name}: functions.{package}", spec)
        for package, spec in section("functions").items()
    }
    return Profile(
        path=path,
        latency_ms={str(k): _number(f"{name}: latencyMs.{k}", v) for k, v in section("latencyMs").items()},
        cold_start_share=_number(f"{name}: coldStartShare", root.get("coldStartShare", 0)),
        order_lines=_number(f"{name}: workload.orderLines", workload.get("orderLines", 1)),
        hottest_key_share=_number(f"{name}: workload.hottestKeyShare", workload.get("hottestKeyShare", 1)),
        event_bytes=_number(f"{name}: workload.eventBytes", workload.get("eventBytes", 1024)),
        page_requests=tuple(requests),
        connects_per_order=_number(f"{name}: page.realtime.connectsPerOrder", realtime.get("connectsPerOrder", 0)),
        connection_minutes_per_order=_number(
            f"{name}: page.realtime.connectionMinutesPerOrder", realtime.get("connectionMinutesPerOrder", 0)
        ),
        subscribers_per_topic=_number(
            f"{name}: page.realtime.subscribersPerTopic", realtime.get("subscribersPerTopic", 0)
        ),
        client_retry={
            str(k): _number(f"{name}: page.clientRetry.{k}", v)
            for k, v in _mapping(f"{name}: page.clientRetry", page.get("clientRetry", {})).items()
        },
        outcomes=tuple(outcomes),
        lambda_log_bytes={
            str(k): _number(f"{name}: logs.lambdaBytesPerInvocation.{k}", v)
            for k, v in _mapping(f"{name}: logs", logs.get("lambdaBytesPerInvocation", {})).items()
        },
        api_access_log_bytes=_number(f"{name}: logs.apiAccessLogBytes", logs.get("apiAccessLogBytes", 0)),
        state_machine_log_bytes={
            str(k): _number(f"{name}: logs.stateMachineBytesPerState.{k}", v)
            for k, v in _mapping(f"{name}: logs", logs.get("stateMachineBytesPerState", {})).items()
        },
        xray_reservoir=_number(f"{name}: xray.reservoirPerSecond", xray.get("reservoirPerSecond", 1)),
        xray_fixed_rate=_number(f"{name}: xray.fixedRate", xray.get("fixedRate", 0.05)),
        sqs_poll_seconds=_number(f"{name}: sqs.pollSeconds", sqs.get("pollSeconds", 0.1)),
        defaults=_function_profile(f"{name}: defaults", root.get("defaults", {"cpuMs": 30})),
        functions=functions,
        route_calls=route_calls,
    )


# ---- what an order uses --------------------------------------------------------------------------


@dataclass
class Invocations:
    """How often one function runs per order, and how it is called."""

    function: RecordedResource
    package: str
    sync: float = 0.0
    """Synchronous invocations (API integration, a workflow Task, the IoT authorizer)."""
    asynchronous: float = 0.0
    """Asynchronous invocations (EventBridge, S3, SNS): Lambda queues them internally."""
    records: float = 0.0
    """Queue records delivered by an event source mapping (invocations depend on the batch size)."""
    mapping: RecordedResource | None = None
    queue: RecordedResource | None = None
    callers: set[str] = field(default_factory=set)


@dataclass
class Usage:
    """Everything one order causes, per order, averaged over the profile's outcome mix."""

    region: str
    routes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    route_resources: dict[str, RecordedResource] = field(default_factory=dict)
    functions: dict[str, Invocations] = field(default_factory=dict)
    executions: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    transitions: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    express_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    state_machines: dict[str, RecordedResource] = field(default_factory=dict)
    put_events_requests: float = 0.0
    custom_events: float = 0.0
    archived_events: float = 0.0
    rule_invocations: float = 0.0
    queue_messages: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    queues: dict[str, RecordedResource] = field(default_factory=dict)
    sqs_requests: float = 0.0
    write_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    read_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    hot_key_write_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    tables: dict[str, RecordedResource] = field(default_factory=dict)
    sns_publishes: float = 0.0
    sns_deliveries: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    subscriptions: dict[str, RecordedResource] = field(default_factory=dict)
    iot_publishes: float = 0.0
    iot_deliveries: float = 0.0
    iot_connects: float = 0.0
    iot_connection_minutes: float = 0.0
    s3_puts: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    log_bytes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    trace_roots: float = 0.0
    path: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record an assumption or something the walk could not model (each once)."""
        if text not in self.notes:
            self.notes.append(text)


# ---- the recorded program, indexed -----------------------------------------------------------------


def _out(resource: RecordedResource, key: str, default: Any = None) -> Any:
    value = resource.outputs.get(key, resource.inputs.get(key, default))
    return default if value is None else value


class Stack:
    """Look-ups over a recorded program by the values AWS would use (ARNs, names, URLs)."""

    def __init__(self, run: ProgramRun) -> None:
        self.run = run
        self.region = str(run.config.get("aws:region", "us-east-1"))
        self.rules = read_rules(run)
        self._by_value: dict[str, list[RecordedResource]] = defaultdict(list)
        for resource in run.resources:
            if not resource.custom or resource.is_provider:
                continue
            for key in ("arn", "name", "url", "id", "bucket"):
                value = resource.outputs.get(key)
                if isinstance(value, str) and value:
                    self._by_value[value].append(resource)

    def of_type(self, *types: str) -> list[RecordedResource]:
        """Every resource of the given types, in registration order."""
        return [r for r in self.run.resources if r.type in types]

    def find(self, value: Any, *types: str) -> RecordedResource | None:
        """The resource of one of ``types`` that ``value`` (ARN, name, URL) names, if it is in the stack."""
        if not isinstance(value, str) or not value:
            return None
        candidates = [value]
        if value.startswith("arn:aws:lambda:") and ":function:" in value:
            name = value.split(":function:", 1)[1].split(":", 1)[0]
            candidates += [name, value.split(":function:", 1)[0] + ":function:" + name]
        if value.startswith("arn:aws:events:") and ":event-bus/" in value:
            candidates.append(value.rsplit("/", 1)[-1])
        for candidate in candidates:
            for resource in self._by_value.get(candidate, ()):
                if resource.type in types:
                    return resource
        return None


def _package(function: RecordedResource) -> str:
    handler = str(_out(function, "handler", "") or "")
    return handler.split(".", 1)[0] if handler else str(_out(function, "name", function.name))


def _environment(function: RecordedResource) -> Mapping[str, Any]:
    environment = _out(function, "environment", {}) or {}
    variables = environment.get("variables", {}) if isinstance(environment, Mapping) else {}
    return variables if isinstance(variables, Mapping) else {}


# ---- Choice rules ---------------------------------------------------------------------------------


_COMPARISONS: Final = {
    "StringEquals": lambda v, x: isinstance(v, str) and v == x,
    "NumericEquals": lambda v, x: isinstance(v, int | float) and v == x,
    "NumericLessThan": lambda v, x: isinstance(v, int | float) and v < x,
    "NumericGreaterThan": lambda v, x: isinstance(v, int | float) and v > x,
    "NumericLessThanEquals": lambda v, x: isinstance(v, int | float) and v <= x,
    "NumericGreaterThanEquals": lambda v, x: isinstance(v, int | float) and v >= x,
    "BooleanEquals": lambda v, x: isinstance(v, bool) and v == x,
}


def _rule_holds(rule: Mapping[str, Any], values: Mapping[str, Any], missing: set[str]) -> bool:
    if "And" in rule:
        return all(_rule_holds(r, values, missing) for r in rule["And"])
    if "Or" in rule:
        return any(_rule_holds(r, values, missing) for r in rule["Or"])
    if "Not" in rule:
        return not _rule_holds(rule["Not"], values, missing)
    variable = str(rule.get("Variable", ""))
    present = variable in values
    if "IsPresent" in rule:
        return present == bool(rule["IsPresent"])
    if not present:
        missing.add(variable)
        return False
    value = values[variable]
    if "IsNull" in rule:
        return (value is None) == bool(rule["IsNull"])
    for operator, test in _COMPARISONS.items():
        if operator in rule:
            return bool(test(value, rule[operator]))
    if "StringMatches" in rule:
        regex = "^" + ".*".join(re.escape(p) for p in str(rule["StringMatches"]).split("*")) + "$"
        return isinstance(value, str) and re.match(regex, value) is not None
    return False


# ---- the walk --------------------------------------------------------------------------------------


class _Walker:
    def __init__(self, stack: Stack, profile: Profile, usage: Usage) -> None:
        self.stack = stack
        self.profile = profile
        self.usage = usage
        self.outcome: Outcome = profile.outcomes[0]
        self.weight = 1.0
        self.depth = 0
        self.started: set[str] = set()

    # -- bookkeeping
    def step(self, text: str) -> None:
        if self.outcome is self.profile.outcomes[0]:
            self.usage.path.append("  " * self.depth + text)

    def invocations(self, function: RecordedResource) -> Invocations:
        found = self.usage.functions.get(function.urn)
        if found is None:
            found = Invocations(function=function, package=_package(function))
            self.usage.functions[function.urn] = found
            if not self.profile.function(found.package).listed:
                self.usage.note(
                    f"{self.profile.path.name} has no entry for handler package {found.package!r} "
                    f"({function.name}): its defaults are used"
                )
        return found

    def resolve_env(self, function: RecordedResource, variable: str, *types: str) -> RecordedResource | None:
        value = _environment(function).get(variable)
        if value is None:
            self.usage.note(f"{function.name} has no environment variable {variable}: that call is not counted")
            return None
        resource = self.stack.find(value, *types)
        if resource is None:
            self.usage.note(f"{function.name}'s {variable} ({value}) is not a resource of this stack: not counted")
        return resource

    # -- entry points
    def route(self, route_key: str, per_order: float) -> None:
        routes = [r for r in self.stack.of_type(ROUTE) if _out(r, "routeKey") == route_key]
        if not routes:
            raise ProfileError(f"{self.profile.path.name}: page.requests names route {route_key!r}, not in the stack")
        route = routes[0]
        self.usage.routes[route.urn] += self.weight * per_order
        self.usage.route_resources[route.urn] = route
        self.usage.log_bytes["API access logs"] += self.weight * per_order * self._access_log_bytes(route)
        self.step(f"{route_key} (API route)")
        target = str(_out(route, "target", ""))
        integration = self.stack.find(target.removeprefix("integrations/"), INTEGRATION)
        function = self.stack.find(_out(integration, "integrationUri") if integration else None, FUNCTION)
        if function is None:
            self.usage.note(f"route {route_key} has no Lambda integration in this stack: its backend is not counted")
            return
        self.usage.trace_roots += self.weight * per_order
        self.invoke(function, per_order, "sync", f"route {route_key}", calls=self.profile.route_calls.get(route_key))

    def _access_log_bytes(self, route: RecordedResource) -> float:
        api_id = _out(route, "apiId")
        for stage in self.stack.of_type(STAGE):
            if _out(stage, "apiId") == api_id and _out(stage, "accessLogSettings"):
                return self.profile.api_access_log_bytes
        return 0.0

    def realtime(self) -> None:
        authorizers = self.stack.of_type(IOT_AUTHORIZER)
        if not authorizers or not self.profile.connects_per_order:
            return
        per_order = self.profile.connects_per_order
        self.usage.iot_connects += self.weight * per_order
        self.usage.iot_connection_minutes += self.weight * self.profile.connection_minutes_per_order
        self.step("MQTT connect (IoT Core custom authorizer)")
        function = self.stack.find(_out(authorizers[0], "authorizerFunctionArn"), FUNCTION)
        if function is not None:
            self.usage.trace_roots += self.weight * per_order
            self.invoke(function, per_order, "sync", "IoT authorizer")

    # -- functions
    def invoke(
        self,
        function: RecordedResource,
        count: float,
        mode: str,
        caller: str,
        *,
        failing: bool = False,
        calls: tuple[Call, ...] | None = None,
    ) -> None:
        entry = self.invocations(function)
        weighted = self.weight * count
        if mode == "sync":
            entry.sync += weighted
        else:
            entry.asynchronous += weighted
        entry.callers.add(caller)
        spec = self.profile.function(entry.package)
        self.step(f"{function.name} (Lambda, {mode})")
        self.depth += 1
        if calls is None:
            calls = spec.failed_calls if failing and spec.failed_calls is not None else spec.calls
        self.function_calls(function, calls, count)
        self.depth -= 1

    def consume(
        self, function: RecordedResource, mapping: RecordedResource, queue: RecordedResource, count: float
    ) -> None:
        entry = self.invocations(function)
        entry.records += self.weight * count
        entry.mapping, entry.queue = mapping, queue
        entry.callers.add(f"queue {queue.name}")
        self.step(f"{function.name} (Lambda, SQS batch consumer)")
        self.depth += 1
        self.function_calls(function, self.profile.function(entry.package).per_record_calls, count)
        self.depth -= 1

    def function_calls(self, function: RecordedResource, calls: tuple[Call, ...], count: float) -> None:
        for call in calls:
            if call.service == "dynamodb":
                table = self.resolve_env(function, call.variable, TABLE)
                if table is not None:
                    writes = call.write_units + call.write_units_per_line * self.profile.order_lines
                    self.table(table, count * writes, count * call.read_units)
                    if call.hot_key_write_units:
                        self.usage.hot_key_write_units[table.urn] += (
                            self.weight * count * call.hot_key_write_units * self.profile.hottest_key_share
                        )
            elif call.service == "events":
                bus = self.resolve_env(function, call.variable, BUS)
                if bus is not None:
                    self.put_event(bus, call.source, call.detail_type, {}, count, api=True)
            elif call.service == "sns":
                topic = self.resolve_env(function, call.variable, TOPIC)
                if topic is not None:
                    self.publish(topic, count * call.requests)
            elif call.service == "iot":
                if _environment(function).get(call.variable) is None:
                    self.usage.note(f"{function.name} has no environment variable {call.variable}: not counted")
                    continue
                self.usage.iot_publishes += self.weight * count * call.requests
                self.usage.iot_deliveries += self.weight * count * call.requests * self.profile.subscribers_per_topic
            elif call.service == "s3":
                bucket = self.resolve_env(function, call.variable, BUCKET, BUCKET_V2)
                if bucket is not None:
                    self.put_object(bucket, "", count * call.requests)
            elif call.service == "sqs":
                queue = self.resolve_env(function, call.variable, QUEUE)
                if queue is not None:
                    self.send(queue, count * call.requests)

    # -- data
    def table(self, table: RecordedResource, writes: float, reads: float) -> None:
        indexes = len(_out(table, "globalSecondaryIndexes", []) or [])
        self.usage.tables[table.urn] = table
        # A write to an item of a table with global secondary indexes also writes each index.
        self.usage.write_units[table.urn] += self.weight * writes * (1 + indexes)
        self.usage.read_units[table.urn] += self.weight * reads

    def send(self, queue: RecordedResource, count: float) -> None:
        self.usage.queues[queue.urn] = queue
        self.usage.queue_messages[queue.urn] += self.weight * count
        self.usage.sqs_requests += self.weight * count
        self.step(f"{queue.name} (SQS)")
        queue_arn = _out(queue, "arn")
        for mapping in self.stack.of_type(EVENT_SOURCE_MAPPING):
            if _out(mapping, "eventSourceArn") == queue_arn:
                function = self.stack.find(_out(mapping, "functionName"), FUNCTION)
                if function is not None:
                    self.depth += 1
                    self.consume(function, mapping, queue, count)
                    self.depth -= 1

    def publish(self, topic: RecordedResource, count: float) -> None:
        self.usage.sns_publishes += self.weight * count
        topic_arn = _out(topic, "arn")
        for subscription in self.stack.of_type(SUBSCRIPTION):
            if _out(subscription, "topic") != topic_arn:
                continue
            self.usage.subscriptions[subscription.urn] = subscription
            self.usage.sns_deliveries[subscription.urn] += self.weight * count
            protocol = str(_out(subscription, "protocol", ""))
            endpoint = _out(subscription, "endpoint")
            if protocol == "sqs":
                queue = self.stack.find(endpoint, QUEUE)
                if queue is not None:
                    self.send(queue, count)
            elif protocol == "lambda":
                function = self.stack.find(endpoint, FUNCTION)
                if function is not None:
                    self.invoke(function, count, "async", f"topic {topic.name}")

    def put_object(self, bucket: RecordedResource, key: str, count: float) -> None:
        self.usage.s3_puts[bucket.urn] += self.weight * count
        name = _out(bucket, "bucket")
        notifies = any(
            _out(n, "bucket") == name and bool(_out(n, "eventbridge", False))
            for n in self.stack.of_type(BUCKET_NOTIFICATION)
        )
        if notifies:
            detail = {"bucket": {"name": name}, "object": {"key": key}}
            self.put_event(None, "aws.s3", "Object Created", detail, count, api=False)

    # -- events
    def put_event(
        self,
        bus: RecordedResource | None,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        count: float,
        *,
        api: bool,
        forwarded: bool = False,
    ) -> None:
        bus_name = str(_out(bus, "name")) if bus is not None else DEFAULT_BUS
        if api:
            self.usage.put_events_requests += self.weight * count
        if api or forwarded:
            self.usage.custom_events += self.weight * count
        bus_arn = _out(bus, "arn") if bus is not None else None
        if bus_arn and any(_out(a, "eventSourceArn") == bus_arn for a in self.stack.of_type(ARCHIVE)):
            self.usage.archived_events += self.weight * count
        self.step(f"{detail_type} on bus {bus_name}")
        event = {"source": source, "detail-type": detail_type, "detail": dict(detail)}
        # The emulator's rules and matcher: the walk routes as make local and the tests do.
        for rule in self.stack.rules:
            if rule.bus != bus_name:
                continue
            try:
                matches = event_matches(rule.pattern, event)
            except ValueError:
                self.usage.note(f"rule {rule.name} has no readable event pattern: not followed")
                continue
            if not matches:
                continue
            for target in rule.targets:
                self.usage.rule_invocations += self.weight * count
                self.depth += 1
                self.deliver(target.arn, target.target_id, event, count, f"rule {rule.name}")
                self.depth -= 1

    def deliver(self, arn: str, target_name: str, event: Mapping[str, Any], count: float, caller: str) -> None:
        if (function := self.stack.find(arn, FUNCTION)) is not None:
            self.usage.trace_roots += self.weight * count
            self.invoke(function, count, "async", caller)
        elif (machine := self.stack.find(arn, STATE_MACHINE)) is not None:
            self.execute(machine, count, caller)
        elif (queue := self.stack.find(arn, QUEUE)) is not None:
            self.send(queue, count)
        elif (bus := self.stack.find(arn, BUS)) is not None:
            self.depth += 1
            self.put_event(
                bus, str(event["source"]), str(event["detail-type"]), event["detail"], count, api=False, forwarded=True
            )
            self.depth -= 1
        elif (topic := self.stack.find(arn, TOPIC)) is not None:
            self.publish(topic, count)
        else:
            self.usage.note(f"target {target_name} ({arn}) is outside this stack or of a kind not modelled")

    # -- workflows
    def execute(self, machine: RecordedResource, count: float, caller: str) -> None:
        if machine.urn in self.started:
            self.usage.note(f"{machine.name} starts itself again: the walk follows it once per order")
            return
        self.started.add(machine.urn)
        self.usage.state_machines[machine.urn] = machine
        self.usage.executions[machine.urn] += self.weight * count
        if (_out(machine, "tracingConfiguration", {}) or {}).get("enabled"):
            self.usage.trace_roots += self.weight * count
        kind = str(_out(machine, "type", "STANDARD"))
        self.step(f"{machine.name} ({kind} state machine)")
        try:
            definition = json.loads(str(_out(machine, "definition", "")))
        except json.JSONDecodeError:
            self.usage.note(f"{machine.name} has no readable definition: its states are not counted")
            return
        level = str((_out(machine, "loggingConfiguration", {}) or {}).get("level", "OFF"))
        self.depth += 1
        states, elapsed = self.run_states(machine, definition, count)
        self.depth -= 1
        self.usage.transitions[machine.urn] += self.weight * count * states
        self.usage.express_ms[machine.urn] += self.weight * count * elapsed
        self.usage.log_bytes["Step Functions logs"] += (
            self.weight * count * states * self.profile.state_machine_log_bytes.get(level, 0.0)
        )
        self.started.discard(machine.urn)

    def run_states(self, machine: RecordedResource, scope: Mapping[str, Any], count: float) -> tuple[int, float]:
        states = scope.get("States", {})
        name = scope.get("StartAt")
        entered, elapsed = 0, 0.0
        values: dict[str, Any] = dict(self.outcome.choices)
        while name is not None:
            entered += 1
            if entered > MAX_STATES_PER_EXECUTION:
                self.usage.note(f"{machine.name}: more than {MAX_STATES_PER_EXECUTION} states on one path; cut")
                break
            state = states.get(name, {})
            kind = state.get("Type")
            self.step(f"{name} ({kind})")
            if kind == "Task":
                elapsed += self.task(machine, name, state, count)
                error = self.outcome.failures.get(name)
                if error is not None:
                    name = self.catch(machine, name, state, error, values)
                    continue
            elif kind == "Parallel":
                for branch in state.get("Branches", []):
                    branch_states, branch_ms = self.run_states(machine, branch, count)
                    entered += branch_states
                    elapsed = max(elapsed, branch_ms)
            elif kind == "Map":
                iterator = state.get("ItemProcessor") or state.get("Iterator") or {}
                self.usage.note(f"{machine.name}.{name}: a Map state is counted as one iteration")
                branch_states, branch_ms = self.run_states(machine, iterator, count)
                entered, elapsed = entered + branch_states, elapsed + branch_ms
            elif kind == "Choice":
                name = self.choose(machine, name, state, values)
                continue
            elif kind == "Wait":
                self.usage.note(f"{machine.name}.{name}: Wait states add no work here (their time is not billed)")
            if state.get("End") or kind in ("Succeed", "Fail"):
                break
            name = state.get("Next")
        return entered, elapsed

    def choose(self, machine: RecordedResource, name: str, state: Mapping[str, Any], values: Mapping[str, Any]) -> str:
        missing: set[str] = set()
        for rule in state.get("Choices", []):
            if _rule_holds(rule, values, missing):
                return str(rule["Next"])
        # A Default is for values no rule takes, not for a value the outcome does not give.
        if "Default" in state and not missing:
            return str(state["Default"])
        hint = f"; give {', '.join(sorted(missing))} in its choices" if missing else ""
        reason = "its Default is for values no rule takes" if "Default" in state else "no Default"
        raise ProfileError(
            f"{self.profile.path.name}: outcome {self.outcome.name!r} matches no branch of "
            f"{machine.name}.{name} ({reason}){hint}"
        )

    def catch(
        self, machine: RecordedResource, name: str, state: Mapping[str, Any], error: str, values: dict[str, Any]
    ) -> str:
        for catcher in state.get("Catch", []):
            errors = catcher.get("ErrorEquals", [])
            if (
                error in errors
                or "States.ALL" in errors
                or ("States.TaskFailed" in errors and error != "States.Timeout")
            ):
                result_path = str(catcher.get("ResultPath", "$"))
                prefix = "$" if result_path == "$" else result_path
                values[f"{prefix}.Error"] = error
                values[f"{prefix}.Cause"] = error
                return str(catcher["Next"])
        raise ProfileError(
            f"{self.profile.path.name}: outcome {self.outcome.name!r} fails {machine.name}.{name} with {error}, "
            "which no Catch of that state handles"
        )

    def task(self, machine: RecordedResource, name: str, state: Mapping[str, Any], count: float) -> float:
        resource = str(state.get("Resource", ""))
        parameters = state.get("Parameters", {}) or {}
        service = resource.removeprefix("arn:aws:states:::").split(".", 1)[0]
        if resource.startswith("arn:aws:lambda:") or service == "lambda:invoke":
            function = self.stack.find(parameters.get("FunctionName", resource), FUNCTION)
            if function is None:
                self.usage.note(f"{machine.name}.{name} invokes a function outside this stack")
                return 0.0
            # A step that raises the outcome's error makes only the calls before the raise (failedCalls).
            self.invoke(function, count, "sync", f"{machine.name}.{name}", failing=name in self.outcome.failures)
            return self.profile.duration_ms(_package(function))
        if service.startswith("dynamodb:"):
            table = self.stack.find(parameters.get("TableName"), TABLE)
            if table is not None:
                operation = service.split(":", 1)[1]
                reads = 1.0 if operation == "getItem" else 0.0
                self.table(table, count * (0.0 if reads else 1.0), count * reads)
            return self.profile.latency("dynamodb")
        if service == "events:putEvents":
            for entry in parameters.get("Entries", []):
                bus = self.stack.find(entry.get("EventBusName"), BUS)
                detail_type = str(entry.get("DetailType", "?"))
                self.depth += 1
                self.put_event(bus, str(entry.get("Source", "")), detail_type, {}, count, api=True)
                self.depth -= 1
            return self.profile.latency("events")
        if service.startswith("states:startExecution"):
            child = self.stack.find(parameters.get("StateMachineArn"), STATE_MACHINE)
            if child is not None:
                self.execute(child, count, f"{machine.name}.{name}")
            return self.profile.latency("stepfunctions")
        if service == "sqs:sendMessage":
            queue = self.stack.find(parameters.get("QueueUrl"), QUEUE)
            if queue is not None:
                self.send(queue, count)
            return self.profile.latency("sqs")
        if service == "sns:publish":
            topic = self.stack.find(parameters.get("TopicArn"), TOPIC)
            if topic is not None:
                self.publish(topic, count)
            return self.profile.latency("sns")
        if service == "aws-sdk:s3:putObject":
            bucket = self.stack.find(parameters.get("Bucket"), BUCKET, BUCKET_V2)
            if bucket is not None:
                self.put_object(bucket, _sample_key(parameters), count)
            return self.profile.latency("s3")
        self.usage.note(f"{machine.name}.{name}: integration {resource} is counted as a transition only")
        return 0.0


def _sample_key(parameters: Mapping[str, Any]) -> str:
    """An object key of the shape a ``Key``/``Key.$`` parameter produces (``States.Format`` filled in)."""
    if isinstance(parameters.get("Key"), str):
        return str(parameters["Key"])
    expression = str(parameters.get("Key.$", ""))
    found = re.search(r"States\.Format\('([^']*)'", expression)
    return found.group(1).replace("{}", "x") if found else ""


def walk_order(run: ProgramRun, profile: Profile) -> Usage:
    """Follow one order through the recorded program.

    Parameters
    ----------
    run:
        The recorded program (``offline.harness.run_program``).
    profile:
        The workload profile (:func:`load_profile`).

    Returns
    -------
    Usage
        Quantities per order, weighted by the profile's outcome shares; ``path`` lists the first
        outcome's route through the stack, ``notes`` every assumption the walk had to make.

    Raises
    ------
    ProfileError
        When the profile names a route the stack lacks, or an outcome matches no Choice branch or Catch.
    """
    stack = Stack(run)
    usage = Usage(region=stack.region)
    walker = _Walker(stack, profile, usage)
    for outcome in profile.outcomes:
        walker.outcome, walker.weight = outcome, outcome.share
        for route_key, per_order in profile.page_requests:
            walker.route(route_key, per_order)
        walker.realtime()
    return usage
