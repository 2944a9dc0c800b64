"""The recorded Lambda functions, run in-process: handlers loaded with their recorded environment.

:class:`LambdaRuntime` runs a handler as Lambda would (fresh payload, context object, an unhandled
exception reported as a function error with the runtime's error document) and records every invocation.
Faults are injected where they happen in AWS: a throttled AWS call inside the handler (a botocore
``before-call`` hook on the handler's own clients answers ``ThrottlingException`` before moto is reached),
or a response the Lambda service loses after the handler ran.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Literal

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

from local.lambdas import LambdaContext, environment_variables
from tests.workflows.flowkit_moto import LambdaReply
from tests.workflows.flowkit_recording import HANDLERS_DIR, FunctionSpec, RecordedSystem, RecordingError

MOTO_IOT_DATA_HOST: Final = "data-ats.iot.{region}.amazonaws.com"
"""The IoT data host moto serves; account endpoints (``<prefix>-ats.iot...``) are not routed to moto."""


_IMPORT_LOCK: Final = threading.Lock()


class _EnvironmentGate:
    """Cold starts set ``os.environ`` (process-wide) while a module runs its init code; invocations read it
    (Powertools reads ``AWS_LAMBDA_FUNCTION_NAME`` for every idempotency key). A cold start waits until no
    invocation runs, and holds new ones back until it is done.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._invoking = 0
        self._loaders = 0

    @contextmanager
    def invoking(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: self._loaders == 0)
            self._invoking += 1
        try:
            yield
        finally:
            with self._condition:
                self._invoking -= 1
                self._condition.notify_all()

    @contextmanager
    def loading(self) -> Iterator[None]:
        with self._condition:
            self._loaders += 1
            self._condition.wait_for(lambda: self._invoking == 0)
        try:
            with _IMPORT_LOCK:
                yield
        finally:
            with self._condition:
                self._loaders -= 1
                self._condition.notify_all()


_ENVIRONMENT_GATE: Final = _EnvironmentGate()
_LOADED_HANDLERS: dict[tuple[str, tuple[tuple[str, str], ...], int], ModuleType] = {}


def handler_environment(spec: FunctionSpec, region: str) -> dict[str, str]:
    """The environment a handler module is imported with: Lambda's own variables plus the recorded ones.

    Two values differ from the recording, for in-process reasons only: X-Ray tracing is off (no daemon),
    and ``IOT_DATA_ENDPOINT`` is moto's data host (moto does not route account endpoints such as
    ``<prefix>-ats.iot.<region>.amazonaws.com``).

    Parameters
    ----------
    spec:
        The recorded function.
    region:
        The stack's region.

    Returns
    -------
    dict[str, str]
        Variable name → value.
    """
    environment = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "POWERTOOLS_TRACE_DISABLED": "true",
        **spec.environment,
    }
    if "IOT_DATA_ENDPOINT" in environment:
        environment["IOT_DATA_ENDPOINT"] = MOTO_IOT_DATA_HOST.format(region=region)
    return environment


def load_handler(package: str, environment: Mapping[str, str], instance: int = 0) -> ModuleType:
    """Import ``handlers/<package>/app.py`` once per environment, as Lambda's init phase would.

    Each (package, environment) gets its own module object, so the handlers' module-level constants
    (table names read from the environment) never leak between suites that use other names. Each
    ``instance`` is another execution environment of the same function: Lambda runs concurrent
    invocations in separate environments, so module-level state (a batch processor, metrics) is never
    shared between them.

    Parameters
    ----------
    package:
        Handler package, e.g. ``reserve_inventory``.
    environment:
        Variables set while the module runs its init code (then restored).
    instance:
        Which execution environment of the function (0 for the first).

    Returns
    -------
    ModuleType
        The module; call ``lambda_handler`` on it.
    """
    key = (package, tuple(sorted(environment.items())), instance)
    with _IMPORT_LOCK:
        module = _LOADED_HANDLERS.get(key)
    if module is not None:
        return module
    with _ENVIRONMENT_GATE.loading():
        module = _LOADED_HANDLERS.get(key)
        if module is not None:
            return module
        path = HANDLERS_DIR / package / "app.py"
        if not path.is_file():
            raise RecordingError(f"handlers/{package}/app.py does not exist")
        # One module name for every execution environment of a function, as in Lambda: Powertools keys
        # idempotency records with the decorated function's module.
        digest = hashlib.sha256(repr(key[:2]).encode()).hexdigest()[:10]
        module_name = f"flowkit_handler_{package}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise RecordingError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        # Pydantic resolves the module's postponed annotations through sys.modules (the first environment's
        # module serves the others: same code, same names).
        first = module_name not in sys.modules
        if first:
            sys.modules[module_name] = module
        try:
            with environment_variables(environment):
                spec.loader.exec_module(module)
        except BaseException:
            if first:
                del sys.modules[module_name]
            raise
        _LOADED_HANDLERS[key] = module
        return module


InvocationSource = Literal["states", "eventbridge", "sqs", "apigateway", "test"]
FaultKind = Literal["throttle", "lost-response"]


@dataclass(frozen=True)
class Invocation:
    """One run of a handler.

    Attributes
    ----------
    package:
        The handler package.
    source:
        Who invoked it.
    event:
        The event it received.
    result:
        Its return value (None when it raised).
    error_type, error_message:
        The exception it raised (or the injected service error), else None.
    fault:
        The fault injected into this invocation, if any.
    """

    package: str
    source: InvocationSource
    event: Any
    result: Any
    error_type: str | None
    error_message: str | None
    fault: FaultKind | None = None
    request_id: str = ""
    stack_trace: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the caller got a normal result."""
        return self.error_type is None


class FaultInjector:
    """Decides which invocations fail. Subclass it; the base class injects nothing."""

    def decide(self, package: str, event: Any) -> FaultKind | None:
        """The fault for one invocation, or None.

        ``throttle``: the handler's first AWS call is throttled. ``lost-response``: the handler runs to
        the end, then the Lambda service fails the call (HTTP 500), so a retry repeats work already done.
        """
        return None

    def throttle_call(self, package: str, service: str, operation: str, request: Mapping[str, Any]) -> bool:
        """Whether to throttle one AWS call a handler makes (checked for every call)."""
        return False


class _ThrottleState(threading.local):
    armed: bool = False
    package: str = ""


def _throttled_response(code: str, operation: str) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse(url="", status_code=400, headers={}, raw=None)
    parsed = {
        "Error": {"Code": code, "Message": f"Rate exceeded ({operation}, injected by the test)"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": str(uuid.uuid4())},
    }
    return http, parsed


_ACTIVE_RUNTIMES: list[LambdaRuntime] = []
_HOOKED_CLIENTS: set[int] = set()


def _hook_clients(package: str, module: ModuleType) -> None:
    """Register, once per client, a before-call handler on every AWS client a handler module holds.

    A before-call handler that returns a response short-circuits botocore before moto is reached; the
    handler asks the runtime of the running flow (modules, and so clients, outlive a flow).
    """
    for client in [value for value in vars(module).values() if isinstance(value, BaseClient)]:
        with _IMPORT_LOCK:
            if id(client) in _HOOKED_CLIENTS:
                continue
            _HOOKED_CLIENTS.add(id(client))

        def before_call(model: Any, params: Mapping[str, Any], _package: str = package, **_: Any) -> Any:
            runtime = _ACTIVE_RUNTIMES[-1] if _ACTIVE_RUNTIMES else None
            return runtime.on_call(_package, model, params) if runtime is not None else None

        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}", before_call, unique_id=f"flowkit-{id(client)}")


class LambdaRuntime:
    """Runs the recorded functions in-process and records every invocation.

    Parameters
    ----------
    system:
        The recorded program.
    """

    def __init__(self, system: RecordedSystem) -> None:
        self.system = system
        self.invocations: list[Invocation] = []
        self.faults: FaultInjector = FaultInjector()
        self._lock = threading.Lock()
        self._throttle = _ThrottleState()
        self._scripted: dict[tuple[str, str], int] = {}
        self._environments: dict[str, list[ModuleType | None]] = {}
        """Every execution environment (module instance) of each package, the first one first (None: loading)."""
        self._idle: dict[str, list[ModuleType]] = {}

    # ---- modules ------------------------------------------------------------------------------

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make this runtime the one the handlers' AWS clients consult, for the duration of the block."""
        _ACTIVE_RUNTIMES.append(self)
        try:
            yield
        finally:
            _ACTIVE_RUNTIMES.remove(self)

    def module(self, package: str) -> ModuleType:
        """The handler module of ``package`` (its first execution environment), with its recorded environment."""
        with self._lock:
            first = (self._environments.get(package) or [None])[0]
        if first is not None:
            return first
        module = self._acquire(package)
        self._release(package, module)
        return module

    def _acquire(self, package: str) -> ModuleType:
        """An idle execution environment of ``package``, or a new one (a cold start) when all are busy."""
        with self._lock:
            idle = self._idle.setdefault(package, [])
            if idle:
                return idle.pop()
            instance = len(self._environments.setdefault(package, []))
            # Reserve the slot before loading, so a concurrent cold start takes the next one.
            self._environments[package].append(None)
        spec = self.system.function(package)
        module = load_handler(package, handler_environment(spec, self.system.region), instance)
        _hook_clients(package, module)
        with self._lock:
            self._environments[package][instance] = module
        return module

    def _release(self, package: str, module: ModuleType) -> None:
        with self._lock:
            self._idle[package].append(module)

    def on_call(self, package: str, model: Any, params: Mapping[str, Any]) -> Any:
        """Decide whether one AWS call of a handler is throttled; returns a response to short-circuit it."""
        operation = model.name
        if self._throttle.armed and self._throttle.package == package:
            self._throttle.armed = False
            return _throttled_response("ThrottlingException", operation)
        with self._lock:
            remaining = self._scripted.get((package, operation), 0)
            if remaining:
                self._scripted[(package, operation)] = remaining - 1
        if remaining:
            return _throttled_response("ThrottlingException", operation)
        body = params.get("body")
        request = json.loads(body) if isinstance(body, bytes | str) and body[:1] in (b"{", "{") else {}
        if self.faults.throttle_call(package, model.service_model.service_id.hyphenize(), operation, request):
            return _throttled_response("ThrottlingException", operation)
        return None

    def throttle(self, package: str, operation: str, times: int) -> None:
        """Throttle the next ``times`` calls of ``operation`` (e.g. ``PutItem``) made by ``package``.

        The handler sees a ``ThrottlingException`` from its AWS client, exactly as from a busy table.
        """
        self.module(package)
        with self._lock:
            self._scripted[(package, operation)] = self._scripted.get((package, operation), 0) + times

    # ---- invoking -----------------------------------------------------------------------------

    def invoke(self, function: str, event: Any, *, source: InvocationSource) -> Invocation:
        """Run one function (physical name, ARN or package) on ``event``, as Lambda would.

        Returns
        -------
        Invocation
            The outcome; a raised exception becomes ``error_type``/``error_message``, never propagates.
        """
        spec = (
            self.system.function_named(function)
            if function in self.system.functions or ":function:" in function
            else self.system.function(function)
        )
        module = self._acquire(spec.package)
        fault = self.faults.decide(spec.package, event)
        context = LambdaContext(spec.name, spec.arn, spec.timeout_seconds, spec.memory_mb)
        result: Any = None
        error_type: str | None = None
        error_message: str | None = None
        stack_trace: tuple[str, ...] = ()
        self._throttle.armed = fault == "throttle"
        self._throttle.package = spec.package
        try:
            # Lambda hands the function a fresh deserialisation of the payload.
            with _ENVIRONMENT_GATE.invoking():
                result = module.lambda_handler(json.loads(json.dumps(event)), context)
            result = json.loads(json.dumps(result))
        except Exception as error:
            # Lambda reports any exception the function raises as a function error.
            error_type, error_message = type(error).__name__, str(error)
            stack_trace = tuple(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        finally:
            self._throttle.armed = False
            self._release(spec.package, module)
        if fault == "lost-response" and error_type is None:
            error_type, error_message = "Lambda.ServiceException", "injected: the response was lost"
        invocation = Invocation(
            spec.package,
            source,
            event,
            result,
            error_type,
            error_message,
            fault,
            request_id=context.aws_request_id,
            stack_trace=stack_trace,
        )
        with self._lock:
            self.invocations.append(invocation)
        return invocation

    def dispatch(self, function_name: str, payload: bytes) -> LambdaReply:
        """Answer a synchronous Invoke from Step Functions (the patched moto Lambda backend calls this)."""
        event = json.loads(payload) if payload else {}
        invocation = self.invoke(function_name, event, source="states")
        if invocation.fault == "lost-response" and invocation.error_type == "Lambda.ServiceException":
            return LambdaReply(service_error=("ServiceException", invocation.error_message or ""))
        if invocation.error_type is not None:
            # The Python runtime's document for an unhandled exception.
            error = {
                "errorMessage": invocation.error_message,
                "errorType": invocation.error_type,
                "requestId": invocation.request_id,
                "stackTrace": list(invocation.stack_trace),
            }
            return LambdaReply(payload=json.dumps(error).encode(), function_error=True)
        return LambdaReply(payload=json.dumps(invocation.result).encode())

    def of(self, package: str) -> list[Invocation]:
        """Invocations of one handler, in order."""
        with self._lock:
            return [invocation for invocation in self.invocations if invocation.package == package]
