"""The recorded Lambda functions, run in this process as Lambda would run them.

Each handler module (``handlers/<package>/app.py``) is imported once, with its function's recorded
environment (and the few local overrides, such as the sign-in issuer), which is its init phase. An
invocation gets a fresh copy of its payload and a context object; an exception is reported as a function
error with the document Lambda's Python runtime writes, never raised to the caller.
"""

from __future__ import annotations

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
from typing import Any

from local.moto_seams import LambdaReply
from local.recorded import Function, System
from offline.paths import HANDLERS_DIR, importable

logger = logging.getLogger("local.lambda")


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


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended: its result, or the error Lambda would report."""

    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    request_id: str = ""
    stack_trace: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the function returned normally."""
        return self.error_type is None

    def error_document(self) -> dict[str, Any]:
        """The payload Lambda's Python runtime returns for an unhandled exception."""
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": list(self.stack_trace),
        }


class LambdaRuntime:
    """Imports and runs the recorded functions.

    Parameters
    ----------
    system:
        The recorded program.
    overrides:
        Environment values replacing the recorded ones in every function that has the variable (e.g.
        ``COGNITO_ISSUER`` pointing at the local sign-in).
    pace_seconds:
        Waited before each invocation, so a person watching the page sees each step (AWS takes a moment too).
    settings:
        Variables set in every function (e.g. log levels), whether recorded or not.
    """

    def __init__(
        self,
        system: System,
        overrides: Mapping[str, str],
        pace_seconds: float = 0.0,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.system = system
        self.overrides = dict(overrides)
        self.settings = dict(settings or {})
        self.pace_seconds = pace_seconds
        self._modules: dict[str, ModuleType] = {}
        self._import_lock = threading.Lock()
        # Lambda's task root: each package and ``shared`` import from here.
        importable(HANDLERS_DIR)

    def environment(self, function: Function) -> dict[str, str]:
        """What the function's init runs with: Lambda's own variables, the recorded ones, the local overrides."""
        environment = {
            "AWS_REGION": self.system.region,
            "AWS_DEFAULT_REGION": self.system.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            # No X-Ray daemon runs here.
            "POWERTOOLS_TRACE_DISABLED": "true",
            **function.environment,
        }
        environment.update({name: value for name, value in self.overrides.items() if name in function.environment})
        return environment | self.settings

    def module(self, function: Function) -> ModuleType:
        """The handler module of a function, imported on first use with the function's environment."""
        with self._import_lock:
            module = self._modules.get(function.name)
            if module is not None:
                return module
            path = HANDLERS_DIR / function.package / "app.py"
            module_name = f"local_handler_{function.package}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise FileNotFoundError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            # Pydantic resolves the module's postponed annotations through sys.modules.
            sys.modules[module_name] = module
            with environment_variables(self.environment(function)):
                spec.loader.exec_module(module)
            self._modules[function.name] = module
            return module

    def invoke(self, function_name: str, event: Any) -> Outcome:
        """Run one function (physical name or ARN) on ``event``."""
        function = self.system.function(function_name)
        module = self.module(function)
        if self.pace_seconds:
            time.sleep(self.pace_seconds)
        context = LambdaContext(function.name, function.arn, function.timeout_seconds, function.memory_mb)
        try:
            # Lambda hands the function a fresh deserialisation of the payload, and serialises its result.
            result = json.loads(json.dumps(module.lambda_handler(json.loads(json.dumps(event)), context)))
        except Exception as error:
            logger.warning("%s failed: %s: %s", function.package, type(error).__name__, error)
            return Outcome(
                error_type=type(error).__name__,
                error_message=str(error),
                request_id=context.aws_request_id,
                stack_trace=tuple(traceback.format_list(traceback.extract_tb(error.__traceback__))),
            )
        return Outcome(result=result, request_id=context.aws_request_id)

    def dispatch(self, function_name: str, payload: bytes) -> LambdaReply:
        """Answer a synchronous Invoke from Step Functions (moto's Lambda backend is routed here)."""
        outcome = self.invoke(function_name, json.loads(payload) if payload else {})
        if not outcome.succeeded:
            return LambdaReply(json.dumps(outcome.error_document()).encode(), function_error=True)
        return LambdaReply(json.dumps(outcome.result).encode())
