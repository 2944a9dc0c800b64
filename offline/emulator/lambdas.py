"""Lambda, in this process: the recorded functions run as Lambda runs them, with fault and time hooks.

Each handler module (``handlers/<package>/app.py``) is imported with its function's recorded environment,
which is its init phase; concurrent invocations get separate execution environments (module instances),
as Lambda runs them. An invocation gets a fresh copy of its payload and a context object; an exception is
reported as a function error with the document Lambda's Python runtime writes, never raised to the caller
(Lambda developer guide, "Lambda function errors in Python",
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).

Faults are injected where they happen in AWS, through :class:`FaultInjector`: a throttle of the whole
invocation (``Rate exceeded`` before the function runs, Lambda developer guide, "Lambda function scaling"),
any AWS call of a handler by its ordinal (a botocore ``before-call``/``after-call`` hook on the handler's own
clients: an error or throttle before moto is reached, a response lost after the call was applied, the
function killed by its timeout or by running out of memory after some calls succeeded), or a response the
Lambda service loses after the handler ran; the injector hears of every invocation as it ends
(:meth:`FaultInjector.after_invocation`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final, Literal

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from offline.emulator.moto_seams import LambdaReply
from offline.emulator.recorded import HANDLERS_DIR, FunctionSpec, RecordedSystem, RecordingError
from offline.emulator.semantics import within_reserved_concurrency
from offline.paths import import_package

logger = logging.getLogger("emulator.lambda")

MOTO_IOT_DATA_HOST: Final = "data-ats.iot.{region}.amazonaws.com"
"""The IoT data host moto serves; account endpoints (``<prefix>-ats.iot...``) are not routed to moto."""


@contextmanager
def environment_variables(environment: Mapping[str, str]) -> Iterator[None]:
    """Set ``environment`` in ``os.environ`` for the block (a function's init), then put back what was there."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: int
    memory_limit_in_mb: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        """The function's log group."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name of Lambda's shape."""
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Time left before the function's timeout."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


_IMPORT_LOCK: Final = threading.Lock()


class _EnvironmentGate:
    """Cold starts wait for running invocations, and hold new ones back while they run.

    Cold starts set ``os.environ`` (process-wide) while a module runs its init code; invocations read it
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


def handler_environment(
    spec: FunctionSpec,
    region: str,
    overrides: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> dict[str, str]:
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
    overrides:
        Values replacing recorded ones, only in functions that have the variable (e.g. ``COGNITO_ISSUER``
        pointing at a local sign-in).
    settings:
        Variables set in every function, recorded or not (e.g. log levels).

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
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "POWERTOOLS_TRACE_DISABLED": "true",
        **spec.environment,
    }
    if "IOT_DATA_ENDPOINT" in environment:
        environment["IOT_DATA_ENDPOINT"] = MOTO_IOT_DATA_HOST.format(region=region)
    environment.update({name: value for name, value in (overrides or {}).items() if name in spec.environment})
    return environment | dict(settings or {})


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
        module_name = f"emulated_handler_{package}_{digest}"
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


InvocationSource = Literal["states", "eventbridge", "sqs", "sns", "s3", "apigateway", "iot", "test"]
FaultKind = Literal["throttle", "lost-response", "refused"]
"""Faults of a whole invocation: ``throttle`` (the handler's first AWS call is throttled),
``lost-response`` (the function ran to the end, then the service fails the call) and ``refused`` (Lambda
throttles the invocation before the function runs: ``TooManyRequestsException``)."""
LAMBDA_SYSTEM_ERROR: Final = "Lambda.ServiceException"
"""The error of an invocation whose response the Lambda service lost (a 500-series system error)."""
CallFaultKind = Literal["error", "throttle", "lost-response", "timeout", "out-of-memory"]
"""Faults of one AWS call a handler makes: ``error`` (5xx, not applied), ``throttle`` (refused),
``lost-response`` (applied, then a 5xx reaches the handler), ``timeout`` and ``out-of-memory`` (the
function is killed at this call: the calls before it were applied, this one and the rest never run)."""


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
    calls:
        The call sites of the AWS calls it made, in order (``<service>.<Operation>#<n>``).
    """

    package: str
    source: InvocationSource
    event: Any
    result: Any
    error_type: str | None
    error_message: str | None
    fault: FaultKind | CallFaultKind | None = None
    request_id: str = ""
    stack_trace: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the caller got a normal result."""
        return self.error_type is None

    def error_document(self) -> dict[str, Any]:
        """The payload Lambda's Python runtime returns for an unhandled exception."""
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": list(self.stack_trace),
        }


class FaultInjector:
    """Decides which invocations and which of their AWS calls fail. Subclass it; the base injects nothing."""

    def decide(self, package: str, event: Any) -> FaultKind | None:
        """The fault for one invocation, or None.

        ``throttle``: the handler's first AWS call is throttled. ``lost-response``: the handler runs to
        the end, then the Lambda service fails the call (HTTP 500), so a retry repeats work already done.
        """
        return None

    def throttle_call(self, package: str, service: str, operation: str, request: Mapping[str, Any]) -> bool:
        """Whether to throttle one AWS call a handler makes (checked for every call)."""
        return False

    def call_fault(self, package: str, call_site: str, request: Mapping[str, Any]) -> CallFaultKind | None:
        """The fault for one AWS call of a handler, by its call site ``<service>.<Operation>#<n>``, or None.

        ``n`` counts the calls of that operation within one invocation, from 1.
        """
        return None

    def after_invocation(self, invocation: Invocation) -> None:
        """Called once per invocation as it ends (refused ones too), on the thread that ran it.

        A fault plan that follows an invocation's calls in thread-local state can act on what it did here
        (e.g. let time pass for what it left behind) before anyone retries it.
        """


class FunctionKilled(BaseException):
    """Lambda stopped the function mid-run (timeout or out of memory); no handler code can catch it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class _CallState(threading.local):
    """What the current thread's invocation has done so far (handlers call AWS on the invoking thread)."""

    armed: bool = False
    package: str = ""
    counts: dict[str, int]
    sites: list[str]
    lost: str | None = None
    timeout_seconds: int = 3
    memory_mb: int = 128

    def __init__(self) -> None:
        self.counts = {}
        self.sites = []


def _error_response(code: str, status: int, operation: str) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse(url="", status_code=status, headers={}, raw=None)
    parsed = {
        "Error": {"Code": code, "Message": f"{code} ({operation}, injected)"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
    }
    return http, parsed


def _throttled_response(code: str, operation: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _error_response(code, 400, operation)


_ACTIVE_RUNTIMES: list[LambdaRuntime] = []
_HOOKED_CLIENTS: set[int] = set()


def _hook_clients(package: str, module: ModuleType) -> None:
    """Register, once per client, before-call and after-call handlers on every AWS client a handler module holds.

    A before-call handler that returns a response short-circuits botocore before moto is reached; an
    after-call handler that raises loses a response the service already applied. Both ask the runtime of
    the running emulator (modules, and so clients, outlive one emulator).
    """
    for client in [value for value in vars(module).values() if isinstance(value, BaseClient)]:
        with _IMPORT_LOCK:
            if id(client) in _HOOKED_CLIENTS:
                continue
            _HOOKED_CLIENTS.add(id(client))

        def before_call(model: Any, params: Mapping[str, Any], _package: str = package, **_: Any) -> Any:
            runtime = _ACTIVE_RUNTIMES[-1] if _ACTIVE_RUNTIMES else None
            return runtime.on_call(_package, model, params) if runtime is not None else None

        def after_call(model: Any, **_: Any) -> None:
            runtime = _ACTIVE_RUNTIMES[-1] if _ACTIVE_RUNTIMES else None
            if runtime is not None:
                runtime.after_call(model)

        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}", before_call, unique_id=f"emulator-{id(client)}")
        client.meta.events.register(f"after-call.{service}", after_call, unique_id=f"emulator-after-{id(client)}")


# What each service answers for an internal error (code, HTTP status); throttling is ThrottlingException (400).
_CALL_ERRORS: Final[dict[str, tuple[str, int]]] = {
    "dynamodb": ("InternalServerError", 500),
    "s3": ("InternalError", 500),
    "sqs": ("InternalError", 500),
    "sns": ("InternalError", 500),
}


class LambdaRuntime:
    """Runs the recorded functions in-process and records every invocation.

    Parameters
    ----------
    system:
        The recorded program.
    overrides:
        Environment values replacing the recorded ones in every function that has the variable.
    settings:
        Variables set in every function (e.g. log levels), whether recorded or not.
    pace_seconds:
        Waited before each invocation, so a person watching ``make local`` sees each step.
    """

    def __init__(
        self,
        system: RecordedSystem,
        *,
        overrides: Mapping[str, str] | None = None,
        settings: Mapping[str, str] | None = None,
        pace_seconds: float = 0.0,
    ) -> None:
        self.system = system
        self.overrides = dict(overrides or {})
        self.settings = dict(settings or {})
        self.pace_seconds = pace_seconds
        self.invocations: list[Invocation] = []
        self.faults: FaultInjector = FaultInjector()
        self.faulted_calls: dict[str, int] = {}
        """``<function>:<service>.<Operation>#<n>`` → how many times that call was faulted."""
        self._lock = threading.Lock()
        self._calls = _CallState()
        self._scripted: dict[tuple[str, str], int] = {}
        self._environments: dict[str, list[ModuleType | None]] = {}
        """Every execution environment (module instance) of each package, the first one first (None: loading)."""
        self._idle: dict[str, list[ModuleType]] = {}
        self._running: dict[str, int] = {}
        # Lambda's task root holds ``shared``, which every package imports.
        import_package("shared", HANDLERS_DIR)

    # ---- modules ------------------------------------------------------------------------------

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make this runtime the one the handlers' AWS clients consult, for the duration of the block."""
        _ACTIVE_RUNTIMES.append(self)
        try:
            yield
        finally:
            _ACTIVE_RUNTIMES.remove(self)

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """What the function's init runs with."""
        return handler_environment(spec, self.system.region, self.overrides, self.settings)

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
        module = load_handler(package, self.environment(self.system.function(package)), instance)
        _hook_clients(package, module)
        with self._lock:
            self._environments[package][instance] = module
        return module

    def _release(self, package: str, module: ModuleType) -> None:
        with self._lock:
            self._idle[package].append(module)

    # ---- the handlers' AWS calls ------------------------------------------------------------------

    def on_call(self, package: str, model: Any, params: Mapping[str, Any]) -> Any:
        """Decide whether one AWS call of a handler fails; returns a response to short-circuit it."""
        operation = model.name
        service = model.service_model.service_id.hyphenize()
        calls = self._calls
        site = ""
        if calls.package == package:
            site = f"{service}.{operation}#{calls.counts.get(f'{service}.{operation}', 0) + 1}"
            calls.counts[f"{service}.{operation}"] = calls.counts.get(f"{service}.{operation}", 0) + 1
            calls.sites.append(site)
        if calls.armed and calls.package == package:
            calls.armed = False
            return _throttled_response("ThrottlingException", operation)
        with self._lock:
            remaining = self._scripted.get((package, operation), 0)
            if remaining:
                self._scripted[(package, operation)] = remaining - 1
        if remaining:
            return _throttled_response("ThrottlingException", operation)
        body = params.get("body")
        request = json.loads(body) if isinstance(body, bytes | str) and body[:1] in (b"{", "{") else {}
        if self.faults.throttle_call(package, service, operation, request):
            return _throttled_response("ThrottlingException", operation)
        kind = self.faults.call_fault(package, site, request) if site else None
        if kind is None:
            return None
        with self._lock:
            key = f"{package}:{site}"
            self.faulted_calls[key] = self.faulted_calls.get(key, 0) + 1
        if kind == "throttle":
            return _throttled_response("ThrottlingException", operation)
        if kind == "error":
            return _error_response(*_CALL_ERRORS.get(service, ("InternalServerError", 500)), operation)
        if kind == "lost-response":
            calls.lost = operation
            return None
        if kind == "timeout":
            raise FunctionKilled("Sandbox.Timedout", f"Task timed out after {calls.timeout_seconds}.00 seconds")
        raise FunctionKilled("Runtime.OutOfMemory", f"Runtime exited: memory size {calls.memory_mb} MB exceeded")

    def after_call(self, model: Any) -> None:
        """Lose the response of a call that was applied, when :meth:`on_call` chose to."""
        if self._calls.lost is None or self._calls.lost != model.name:
            return
        self._calls.lost = None
        service = model.service_model.service_id.hyphenize()
        code, status = _CALL_ERRORS.get(service, ("InternalServerError", 500))
        raise ClientError(_error_response(code, status, model.name)[1], model.name)

    def throttle(self, package: str, operation: str, times: int) -> None:
        """Throttle the next ``times`` calls of ``operation`` (e.g. ``PutItem``) made by ``package``.

        The handler sees a ``ThrottlingException`` from its AWS client, exactly as from a busy table.
        """
        self.module(package)
        with self._lock:
            self._scripted[(package, operation)] = self._scripted.get((package, operation), 0) + times

    # ---- invoking -----------------------------------------------------------------------------

    def spec(self, function: str) -> FunctionSpec:
        """A function by physical name, ARN or package."""
        if function in self.system.functions or ":function:" in function:
            return self.system.function_named(function)
        return self.system.function(function)

    def _admit(self, spec: FunctionSpec) -> bool:
        """Take one unit of the function's reserved concurrency, if it has one left (else Lambda throttles)."""
        with self._lock:
            running = self._running.get(spec.name, 0)
            if not within_reserved_concurrency(running, spec.reserved_concurrency):
                return False
            self._running[spec.name] = running + 1
            return True

    def _refused(self, spec: FunctionSpec, source: InvocationSource, event: Any) -> Invocation:
        invocation = Invocation(
            spec.package,
            source,
            event,
            None,
            "TooManyRequestsException",
            f"Rate exceeded: {spec.name} is throttled",
            "refused",
        )
        return self._ended(invocation)

    def _ended(self, invocation: Invocation) -> Invocation:
        """Record an invocation that ended and tell the fault injector (:meth:`FaultInjector.after_invocation`)."""
        with self._lock:
            self.invocations.append(invocation)
        self.faults.after_invocation(invocation)
        return invocation

    def invoke(self, function: str, event: Any, *, source: InvocationSource) -> Invocation:
        """Run one function (physical name, ARN or package) on ``event``, as Lambda would.

        Parameters
        ----------
        function:
            Physical name, ARN or handler package.
        event:
            The payload.
        source:
            Who invokes it (recorded on the :class:`Invocation`). Asynchronous callers go through Lambda's
            own queue, which retries (:class:`~offline.emulator.router.AsyncInvocations`).

        Returns
        -------
        Invocation
            The outcome; a raised exception becomes ``error_type``/``error_message``, never propagates.
        """
        spec = self.spec(function)
        fault: FaultKind | CallFaultKind | None = self.faults.decide(spec.package, event)
        if fault == "refused" or not self._admit(spec):
            return self._refused(spec, source, event)
        module = self._acquire(spec.package)
        if self.pace_seconds:
            time.sleep(self.pace_seconds)
        context = LambdaContext(spec.name, spec.arn, spec.timeout_seconds, spec.memory_mb)
        result: Any = None
        error_type: str | None = None
        error_message: str | None = None
        stack_trace: tuple[str, ...] = ()
        calls = self._calls
        calls.armed = fault == "throttle"
        calls.package = spec.package
        calls.counts, calls.sites, calls.lost = {}, [], None
        calls.timeout_seconds, calls.memory_mb = spec.timeout_seconds, spec.memory_mb
        try:
            # Lambda hands the function a fresh deserialisation of the payload.
            with _ENVIRONMENT_GATE.invoking():
                result = module.lambda_handler(json.loads(json.dumps(event)), context)
            result = json.loads(json.dumps(result))
        except FunctionKilled as killed:
            # Lambda reports a killed function as a function error of its own type.
            error_type, error_message = killed.error_type, str(killed)
            fault = "timeout" if killed.error_type == "Sandbox.Timedout" else "out-of-memory"
        except Exception as error:
            # Lambda reports any exception the function raises as a function error.
            error_type, error_message = type(error).__name__, str(error)
            stack_trace = tuple(traceback.format_list(traceback.extract_tb(error.__traceback__)))
            logger.info("%s failed: %s: %s", spec.package, error_type, error_message)
        finally:
            calls.armed = False
            calls.package = ""
            self._release(spec.package, module)
            with self._lock:
                self._running[spec.name] -= 1
        if fault == "lost-response" and error_type is None:
            error_type, error_message = LAMBDA_SYSTEM_ERROR, "injected: the response was lost"
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
            calls=tuple(calls.sites),
        )
        return self._ended(invocation)

    def dispatch(self, function_name: str, payload: bytes) -> LambdaReply:
        """Answer a synchronous Invoke from Step Functions (the patched moto Lambda backend calls this)."""
        event = json.loads(payload) if payload else {}
        invocation = self.invoke(function_name, event, source="states")
        if invocation.fault == "lost-response" and invocation.error_type == LAMBDA_SYSTEM_ERROR:
            return LambdaReply(service_error=("ServiceException", invocation.error_message or ""))
        if invocation.fault == "refused":
            return LambdaReply(service_error=("TooManyRequestsException", invocation.error_message or ""))
        if invocation.error_type is not None:
            return LambdaReply(payload=json.dumps(invocation.error_document()).encode(), function_error=True)
        return LambdaReply(payload=json.dumps(invocation.result).encode())

    def of(self, package: str) -> list[Invocation]:
        """Invocations of one handler, in order."""
        with self._lock:
            return [invocation for invocation in self.invocations if invocation.package == package]
