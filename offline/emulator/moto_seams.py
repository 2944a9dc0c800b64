"""Every moto internal the emulator bends or reads, in one place (moto 5.2.5, pinned in local/requirements.txt).

moto's bundled ASL interpreter runs the recorded state machines, but a few of its seams must be bent
to run them the way AWS would; each bend is listed here with the reason:

* ``LambdaSimpleBackend.invoke`` never runs code: it is replaced by a dispatcher that runs the real
  handler in-process (:class:`LambdaReply` is what the dispatcher answers; a function error, or a
  failure of the Lambda service itself, is reported as Lambda does, so the state machines' Retry/Catch apply).
* ``StateTaskServiceSfn._normalise_parameters`` is a no-op in moto, so ``StateMachineArn``/``Name``/
  ``Input`` reach botocore unchanged and fail validation; the patch maps them to the API's members.
* ``StateTaskServiceSfn._normalise_response`` is a no-op too, so ``startExecution.sync``/``.sync:2`` read
  ``ExecutionArn`` from botocore's ``executionArn`` and fail (``States.Runtime``); the patch names the
  response's members as the integration returns them (``ExecutionArn``, ``Status``, ``Output``…), so the child
  runs to completion and the Task returns its description (``:2``: ``Output`` as JSON), or fails with
  ``States.TaskFailed`` whose cause is that description when the child fails.
* ``retrier_decl.time`` really sleeps between retries and ``jitter_strategy_decl.random`` draws the
  jitter: both are replaced by :class:`RetryClock`, which records every interval and never sleeps.
* moto lets an EXPRESS execution run as long as it takes (and tells its interpreter every machine is
  STANDARD); AWS stops it at 5 minutes. ``Program._eval_body`` is wrapped so that :class:`ExpressTimeLimit`
  counts each EXPRESS execution's virtual seconds (its retry waits, plus what a fault says a hung attempt
  lasted) and times the execution out (``States.Timeout``, status ``TIMED_OUT``) when they pass
  :data:`EXPRESS_MAX_SECONDS`; the wrapper of ``_get_start_execution_worker`` tells it which are EXPRESS.
  ``ExecutionState._evaluate_with_timeout`` (one attempt of a Task, from the execution's thread) is wrapped so
  that a fault plan can hold an EXPRESS execution at an attempt until it passes its limit
  (:attr:`ExpressTimeLimit.stall`), the one way to reach it when every Task's worst case fits in 5 minutes.
* ``WaitFunction._wait_interval`` (a Wait state) blocks its thread for the real seconds. :class:`VirtualWaits`
  records the wait instead and spends it on the execution's virtual time (an EXPRESS run's Wait counts toward
  its limit). A Wait as long as the EXPRESS limit first waits for every EXPRESS execution started before it: on
  AWS they have all ended by then, so a restart after it never runs beside an earlier run.
* Step Functions Local mocked responses (``SF_MOCK_CONFIG``) are not wired in moto, but the interpreter
  honours ``Environment.mock_test_case``: ``Execution._get_start_execution_worker`` is wrapped to hand
  an armed :class:`~moto.stepfunctions.parser.mocking.mock_config.MockTestCase` to the worker.
* ``StateTaskServiceSfn._from_error`` names an API error ``StepFunctions.<code>Exception`` even when the code
  already ends in ``Exception`` (``ThrottlingExceptionException``): the patch names it once.
* ``StateTaskServiceDynamoDB._from_error`` turns every non-botocore error into
  ``DynamoDB.AmazonDynamoDBException``, so a mocked ``Throw`` on a DynamoDB Task loses its error name
  (the other integrations keep it): the patch passes the mocked failure through, as Step Functions Local
  does.
* ``StateTaskServiceEvents._from_error`` turns an EventBridge API error (throttling, a 5xx) into
  ``States.Runtime``, which no Retrier matches and AWS reports as a task failure instead: the patch names
  it ``EventBridge.<error code>``, a task failure ``States.TaskFailed`` retries, as for the other services.
* ``moto.s3.notifications.send_event`` emits EventBridge events unlike S3 (a constant ``id``, ``eTag``
  and ``reason`` spelled differently, delivered to every bus): the wrapper emits the documented shape
  to the default bus only, through a sink the router drains.
* ``SQSBackend.receive_message`` honours a long poll (``WaitTimeSeconds``) on an empty queue by blocking its
  thread for the real seconds, holding the one-call-at-a-time lock below, so nothing can arrive meanwhile: the
  patch answers an empty long poll at once, unless a message already in the queue becomes receivable within
  the wait (its visibility timeout or delay ends on moto's clock), which it waits for, as SQS would deliver it.
* A ``.sync``/``.sync:2`` Task follows its child by describing it every 0.5 real seconds (``time.sleep`` in
  ``StateTaskServiceCallback._eval_sync``), so each parent idles up to that long after its child ended. The
  module's ``time`` is replaced by :class:`ExecutionEnds`, woken by ``BaseExecutionWorkerCommunication.terminated``
  (wrapped): the parent looks again as soon as an execution ends (Step Functions developer guide, "Run a Job
  (.sync)": the Task completes when the child does).
* ``moto.stepfunctions.parser.utils.TMP_THREADS`` (read only) lists the interpreter's worker threads,
  so the emulator can wait for executions to finish by joining them instead of polling.

Three more patches only make the interpreter fast enough for a 500-order run, without changing what it
does: ``AmazonStateLanguageParser.parse`` parses each definition once per process instead of at every
CreateStateMachine and execution (ANTLR, ~50 ms each); the JSONPath ``parse`` functions of ``json_path``
and ``result_path`` are memoised (jsonpath_ng rebuilds its parser tables on every call); and
``boto_client.boto3`` hands out one client per service and region instead of a new one per Task state.
That last seam is also where faults are injected into the state machines' own service calls
(:class:`ServiceFaultInjector`: an error or throttle before the call, or a response lost after it).

One patch makes moto behave like AWS under concurrency:
``BotocoreStubber.process_request`` serves one AWS call at a time (moto checks a DynamoDB condition and
then writes, and two threads could interleave between the two; AWS applies each request atomically),
except Lambda's Invoke, which runs a handler in-process whose own calls are served one at a time.

``tests/workflows/test_workflows_canaries.py`` checks that each internal still exists with the shape
relied on here, and that the moto gaps the patches close are still open.
"""

from __future__ import annotations

import functools
import inspect
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

import botocore.session
from botocore.exceptions import ClientError
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time as moto_unix_time
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.sqs.models import SQSBackend
from moto.stepfunctions.parser import utils as sfn_parser_utils
from moto.stepfunctions.parser.api import (
    ExecutionTimedOutEventDetails,
    HistoryEventType,
    StateMachineType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import jitter_strategy_decl, retrier_decl
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events import (
    StateTaskServiceEvents,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.mocking.mock_config import MockTestCase

MOTO_CONFIG: Final[Any] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
"""``mock_aws`` config: run ASL definitions, keep Lambda in-process (its invoke is dispatched here)."""

# S3 names the API that created the object in ``detail.reason``.
_CREATE_REASONS: Final = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "PostObject",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}


@dataclass(frozen=True)
class LambdaReply:
    """What Lambda's Invoke API answers for one synchronous invocation.

    Attributes
    ----------
    payload:
        The response payload (the handler's return value, or the error document Lambda writes for an
        unhandled exception).
    function_error:
        True when the function raised: Lambda then sets ``X-Amz-Function-Error: Unhandled``.
    service_error:
        ``(code, message)`` when the Lambda *service* failed the call (HTTP 500), e.g. ``ServiceException``.
    """

    payload: bytes = b"null"
    function_error: bool = False
    service_error: tuple[str, str] | None = None


LambdaDispatcher = Callable[[str, bytes], LambdaReply]
"""``(function name or ARN, request payload) -> LambdaReply``."""


class LambdaServiceError(JsonRESTError):
    """An HTTP 500 from the Lambda API; Step Functions names it ``Lambda.<code>``."""

    code = 500


def dispatching_invoke(dispatch: LambdaDispatcher) -> Callable[..., bytes]:
    """``LambdaSimpleBackend.invoke`` answering with what ``dispatch`` replies."""

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        reply = dispatch(function_name, body if isinstance(body, bytes) else (body or "").encode())
        if reply.service_error is not None:
            raise LambdaServiceError(*reply.service_error)
        if reply.function_error:
            response_headers["x-amz-function-error"] = "Unhandled"
        return reply.payload

    return invoke


def _start_execution_members() -> dict[str, str]:
    input_shape = botocore.session.get_session().get_service_model("stepfunctions").operation_model("StartExecution")
    return {name.lower(): name for name in input_shape.input_shape.members}


def normalise_sfn_parameters(original: Callable[..., None]) -> Callable[..., None]:
    """``StateTaskServiceSfn._normalise_parameters`` mapping ``startExecution``'s ASL names to the API's members."""
    members = _start_execution_members()

    def normalise(
        self: StateTaskServiceSfn,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        # moto first serialises a non-string Input; then the ASL names (StateMachineArn) become the API's
        # member names (stateMachineArn), as the real integration does before calling StartExecution.
        original(self, parameters, boto_service_name, service_action_name)
        if service_action_name is not None or self._get_boto_service_action() != "start_execution":
            return
        for key in list(parameters):
            member = members.get(key.lower())
            if member is None:
                raise ValueError(f"states:startExecution has no parameter {key!r}")
            parameters[member] = parameters.pop(key)

    return normalise


def _pascal_members(value: Any) -> Any:
    """Members of a Step Functions response as an integration returns them: ``executionArn`` → ``ExecutionArn``."""
    if not isinstance(value, dict):
        return value
    # Input and Output are the executions' own data: their keys are left as they are.
    return {
        key[:1].upper() + key[1:]: item if key in ("input", "output") else _pascal_members(item)
        for key, item in value.items()
    }


def normalise_sfn_response(original: Callable[..., None]) -> Callable[..., None]:
    """``StateTaskServiceSfn._normalise_response`` naming a response's members as the integration does."""

    def normalise(
        self: StateTaskServiceSfn,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original(self, response, boto_service_name, service_action_name)
        if isinstance(response, dict):
            renamed = _pascal_members(response)
            response.clear()
            response.update(renamed)

    return normalise


def _sfn_error_names(original: Callable[..., Any]) -> Callable[..., Any]:
    """``StateTaskServiceSfn._from_error`` naming an API error ``StepFunctions.<code>`` once, as AWS does.

    moto appends ``Exception`` to every code, so ``ExecutionAlreadyExists`` becomes the documented
    ``StepFunctions.ExecutionAlreadyExistsException`` but ``ThrottlingException`` becomes
    ``StepFunctions.ThrottlingExceptionException``, which no Retrier names.
    """

    def from_error(self: StateTaskServiceSfn, env: Any, ex: Exception) -> Any:
        event = original(self, env, ex)
        name = str(event.error_name.error_name)
        if isinstance(ex, ClientError) and name.endswith("ExceptionException"):
            fixed = name.removesuffix("Exception")
            details = dict(event.event_details.get("taskFailedEventDetails") or {})
            details["error"] = fixed
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(fixed),
                event_type=HistoryEventType.TaskFailed,
                event_details=cast("EventDetails", {"taskFailedEventDetails": TaskFailedEventDetails(**details)}),
            )
        return event

    return from_error


def object_created_event(*, account: str, region: str, bucket: Any, key: Any, event_name: str) -> dict[str, Any]:
    """The ``Object Created`` event S3 puts on the default bus (S3 user guide, EventBridge message structure)."""
    obj: dict[str, Any] = {"key": key.name, "size": key.size, "etag": key.etag.strip('"')}
    if key.version_id not in (None, "null"):
        obj["version-id"] = key.version_id
    obj["sequencer"] = uuid.uuid4().hex[:18].upper()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "source-ip-address": "127.0.0.1",
            "reason": _CREATE_REASONS.get(event_name, "PutObject"),
        },
    }


def object_created_sender(sink: Callable[[dict[str, Any]], None], buckets: frozenset[str]) -> Callable[..., None]:
    """``moto.s3.notifications.send_event`` handing ``buckets``' ``Object Created`` events to ``sink``."""

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        name = str(getattr(event_name, "value", event_name))
        if bucket.name in buckets and name.startswith("s3:ObjectCreated:"):
            sink(
                object_created_event(
                    account=account_id, region=bucket.region_name, bucket=bucket, key=key, event_name=name
                )
            )

    return send_event


# ---------------------------------------------------------------------------------------------------
# Lambda: run the real handler instead of moto's echo
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# Step Functions: startExecution parameters as the service integration maps them
# ---------------------------------------------------------------------------------------------------


def _keep_mocked_failures(original: Callable[..., Any]) -> Callable[..., Any]:
    def from_error(self: StateTaskServiceDynamoDB, env: Any, ex: Exception) -> Any:
        if isinstance(ex, FailureEventException):
            return ex.failure_event
        return original(self, env, ex)

    return from_error


def _event_errors_as_task_failures(original: Callable[..., Any]) -> Callable[..., Any]:
    def from_error(self: StateTaskServiceEvents, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error = f"EventBridge.{ex.response['Error']['Code']}"
        details = TaskFailedEventDetails(
            error=error,
            cause=ex.response["Error"].get("Message", ""),
            resource=self._get_sfn_resource(),
            resourceType=self._get_sfn_resource_type(),
        )
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.TaskFailed,
            # EventDetails is a total TypedDict in moto's stubs; moto itself passes one member, as here.
            event_details=cast("EventDetails", {"taskFailedEventDetails": details}),
        )

    return from_error


# ---------------------------------------------------------------------------------------------------
# Retry back-off: record, never sleep
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryWait:
    """One retry wait the interpreter computed.

    Attributes
    ----------
    ceiling:
        ``min(IntervalSeconds * BackoffRate ** n, MaxDelaySeconds)``: the wait before jitter.
    seconds:
        The wait actually requested (drawn in ``[0, ceiling]`` under ``JitterStrategy: FULL``).
    thread:
        Name of the interpreter thread that waited (one per execution).
    """

    ceiling: float
    seconds: float
    thread: str


class RetryClock:
    """Stands in for ``time`` in ``retrier_decl`` and ``random`` in ``jitter_strategy_decl``.

    ``uniform`` draws the jitter from a seeded generator and remembers the ceiling it was drawn under;
    ``sleep`` records the wait and returns at once.

    Parameters
    ----------
    seed:
        Seed of the jitter generator, so recorded waits are reproducible.
    """

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._ceilings: dict[str, list[float]] = {}
        self.waits: list[RetryWait] = []
        self.on_wait: Callable[[float], None] = lambda seconds: None
        """Told every wait once it is recorded (the EXPRESS time limit spends it)."""

    def uniform(self, low: float, high: float) -> float:
        """Draw a jittered wait in ``[low, high]`` and remember ``high`` as its ceiling."""
        with self._lock:
            self._ceilings.setdefault(threading.current_thread().name, []).append(float(high))
            return self._random.uniform(low, high)

    def sleep(self, seconds: float) -> None:
        """Record one wait; return immediately."""
        thread = threading.current_thread().name
        with self._lock:
            pending = self._ceilings.get(thread) or []
            # No jitter draw means JitterStrategy NONE: the wait is its own ceiling.
            ceiling = pending.pop(0) if pending else float(seconds)
            self.waits.append(RetryWait(ceiling=ceiling, seconds=float(seconds), thread=thread))
        self.on_wait(float(seconds))

    def clear(self) -> None:
        """Forget every recorded wait."""
        with self._lock:
            self._ceilings.clear()
            self.waits.clear()


# ---------------------------------------------------------------------------------------------------
# The EXPRESS time limit, on the virtual clock
# ---------------------------------------------------------------------------------------------------

EXPRESS_MAX_SECONDS: Final = 300.0
"""Step Functions quotas, "Maximum execution time": Express, 5 minutes
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html); a run that reaches it times out."""


class ExpressTimeLimitReached(BaseException):
    """Raised in an EXPRESS execution's thread when its virtual time passes the limit.

    A ``BaseException``: the interpreter handles every ``Exception`` of a state (a Retrier or Catch would take
    it), and an execution's time limit is not a state's error.
    """


@dataclass
class _ExpressRun:
    env: Any
    arn: str
    spent: float = 0.0


ExpressStall = Callable[[str, str, str], bool]
"""``(state machine name, execution name, state name) -> whether this attempt is held past the limit``."""


class ExpressTimeLimit:
    """The virtual seconds each running EXPRESS execution has spent, and its timeout when they pass the limit.

    An execution's states run on one interpreter thread, which also records its retry waits and runs its Lambda
    handlers in-process, so the count is kept per thread. Spending outside an EXPRESS execution counts nothing.

    Parameters
    ----------
    limit_seconds:
        The longest an EXPRESS execution may run (:data:`EXPRESS_MAX_SECONDS`).
    """

    def __init__(self, limit_seconds: float = EXPRESS_MAX_SECONDS) -> None:
        self.limit_seconds = limit_seconds
        self._current = threading.local()
        self.timed_out: list[str] = []
        """Names of the executions timed out, in order."""
        self._express: set[str] = set()
        self._unfinished: set[str] = set()
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)
        self.stall: ExpressStall = lambda machine, execution, state: False
        """Asked before every Task attempt of an EXPRESS execution; True holds the execution there until it passes
        its limit (a fault plan's way to time it out)."""

    def note_express(self, execution_arn: str) -> None:
        """Say that an execution about to start belongs to an EXPRESS state machine."""
        with self._lock:
            self._express.add(execution_arn)
            self._unfinished.add(execution_arn)

    def wait_for_unfinished(self, timeout_seconds: float, skip: frozenset[str] = frozenset()) -> bool:
        """Wait until every EXPRESS execution started so far (but those in ``skip``) has finished.

        Returns
        -------
        bool
            Whether they all finished within ``timeout_seconds`` (real seconds).
        """
        with self._finished:
            started = set(self._unfinished) - skip
            return self._finished.wait_for(lambda: not (started & self._unfinished), timeout_seconds)

    def before_attempt(self, state_name: str) -> None:
        """Called before a Task attempt: when :attr:`stall` says so, the EXPRESS execution runs past its limit.

        Raises
        ------
        ExpressTimeLimitReached
            When the attempt is stalled.
        """
        run: _ExpressRun | None = getattr(self._current, "run", None)
        if run is None:
            return
        # Execution ARNs end in ":<state machine name>:<execution name>".
        machine, execution = run.arn.split(":")[-2:]
        if self.stall(machine, execution, state_name):
            self.spend(self.limit_seconds - run.spent + 1.0)

    def current_execution(self) -> str | None:
        """ARN of the EXPRESS execution of this thread (None outside one)."""
        run: _ExpressRun | None = getattr(self._current, "run", None)
        return None if run is None else run.arn

    def spend(self, seconds: float) -> None:
        """Count ``seconds`` for the EXPRESS execution of this thread; past the limit, stop it.

        Raises
        ------
        ExpressTimeLimitReached
            When the execution has now run longer than the limit.
        """
        run: _ExpressRun | None = getattr(self._current, "run", None)
        if run is None:
            return
        run.spent += seconds
        if run.spent > self.limit_seconds:
            raise ExpressTimeLimitReached(f"{run.spent:g} s > {self.limit_seconds:g} s")

    def spent(self) -> float | None:
        """Seconds the EXPRESS execution of this thread has spent (None outside one)."""
        run: _ExpressRun | None = getattr(self._current, "run", None)
        return None if run is None else run.spent

    def enforce(self, original: Callable[[Program, Any], None]) -> Callable[[Program, Any], None]:
        """``Program._eval_body`` counting an EXPRESS execution's time and timing it out as AWS does."""

        def eval_body(program: Program, env: Any) -> None:
            arn = str(env.states.context_object.context_object_data["Execution"]["Id"])
            with self._lock:
                express = env.execution_type == StateMachineType.EXPRESS or arn in self._express
            if not express or env.is_frame():
                original(program, env)
                return
            self._current.run = _ExpressRun(env, arn)
            try:
                original(program, env)
            except ExpressTimeLimitReached as reached:
                self.timed_out.append(str(env.states.context_object.context_object_data["Execution"]["Name"]))
                env.set_timed_out()
                env.event_manager.add_event(
                    context=env.event_history_context,
                    event_type=HistoryEventType.ExecutionTimedOut,
                    # EventDetails is a total TypedDict in moto's stubs; moto itself passes one member, as here.
                    event_details=cast(
                        "EventDetails",
                        {
                            "executionTimedOutEventDetails": ExecutionTimedOutEventDetails(
                                error="States.Timeout", cause=f"The EXPRESS execution ran past its limit ({reached})."
                            )
                        },
                    ),
                )
            finally:
                self._current.run = None
                with self._finished:
                    self._unfinished.discard(arn)
                    self._finished.notify_all()

        return eval_body


def _attempt_checked_against_the_limit(
    original: Callable[[ExecutionState, Any], None], express: ExpressTimeLimit
) -> Callable[[ExecutionState, Any], None]:
    def evaluate_with_timeout(state: ExecutionState, env: Any) -> None:
        express.before_attempt(str(state.name))
        original(state, env)

    return evaluate_with_timeout


# ---------------------------------------------------------------------------------------------------
# Wait states, on virtual time
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateWaitRecord:
    """One Wait state's wait: its seconds, and the interpreter thread that waited (one per execution)."""

    seconds: float
    thread: str


class VirtualWaits:
    """Stands in for ``WaitFunction._wait_interval``: a Wait state takes virtual seconds, not real ones.

    Amazon States Language, Wait state (https://states-language.net/spec.html#wait-state): the state machine
    does not continue for the given time. Here the seconds are recorded and spent on the execution's virtual
    time (:class:`ExpressTimeLimit` counts them for an EXPRESS run, as it counts retry waits), and the thread
    goes on at once. Other executions do not run on that time: so that a Wait of at least the EXPRESS limit
    still outlasts every EXPRESS run started before it, as on AWS, it waits (in real time) for them to finish.

    Parameters
    ----------
    express_limit:
        The EXPRESS executions running, and the limit they stop at.
    join_timeout_seconds:
        Real seconds to wait for one of them (a run of the emulator never takes that long).
    """

    def __init__(self, express_limit: ExpressTimeLimit, join_timeout_seconds: float = 60.0) -> None:
        self._express_limit = express_limit
        self._join_timeout_seconds = join_timeout_seconds
        self._lock = threading.Lock()
        self.waits: list[StateWaitRecord] = []

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the execution of this thread.

        Raises
        ------
        ExpressTimeLimitReached
            When this thread's EXPRESS execution passes its limit during the wait.
        TimeoutError
            When an EXPRESS execution it must outlast is still running after ``join_timeout_seconds``.
        """
        with self._lock:
            self.waits.append(StateWaitRecord(seconds=float(seconds), thread=threading.current_thread().name))
        self._express_limit.spend(float(seconds))
        if seconds < self._express_limit.limit_seconds:
            return
        own = self._express_limit.current_execution()
        if not self._express_limit.wait_for_unfinished(
            self._join_timeout_seconds, frozenset({own}) if own is not None else frozenset()
        ):
            raise TimeoutError(f"an EXPRESS execution still ran {self._join_timeout_seconds} s into a Wait")

    def wait_interval(self) -> Callable[[WaitFunction, Any, int], None]:
        """The replacement of ``WaitFunction._wait_interval``."""

        def wait_interval(function: WaitFunction, env: Any, wait_seconds: int) -> None:
            self.wait(float(wait_seconds))

        return wait_interval


# ---------------------------------------------------------------------------------------------------
# Mocked responses (Step Functions Local style)
# ---------------------------------------------------------------------------------------------------


class ArmedTestCases:
    """Execution name → mocked test case, handed to the interpreter when that execution starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_execution: dict[str, MockTestCase] = {}

    def arm(self, execution_name: str, test_case: MockTestCase) -> None:
        """Run the execution named ``execution_name`` with ``test_case``'s mocked responses."""
        with self._lock:
            if execution_name in self._by_execution:
                raise ValueError(f"a test case is already armed for execution {execution_name!r}")
            self._by_execution[execution_name] = test_case

    def take(self, execution_name: str) -> MockTestCase | None:
        """The test case armed for an execution (once), or None."""
        with self._lock:
            return self._by_execution.pop(execution_name, None)


def _worker_with_test_case(
    original: Callable[[Execution], Any], armed: ArmedTestCases, express: ExpressTimeLimit
) -> Callable[..., Any]:
    def get_worker(self: Execution) -> Any:
        worker = original(self)
        # moto hands every execution's interpreter the type STANDARD (sm_type); the machine knows its own.
        if getattr(self.state_machine, "type", "STANDARD") == "EXPRESS":
            express.note_express(self.exec_arn)
        test_case = armed.take(self.name)
        if test_case is not None:
            # moto builds the worker with mock_test_case=None; its Environment reads this attribute.
            worker._mock_test_case = test_case
        return worker

    return get_worker


# ---------------------------------------------------------------------------------------------------
# S3 → EventBridge, shaped as S3 sends it
# ---------------------------------------------------------------------------------------------------


def _object_created_to_sink(
    original: Callable[..., None],
    sink: Callable[[dict[str, Any]], None],
    buckets: frozenset[str],
) -> Callable[..., None]:
    # moto's own notifications (SQS, SNS, Lambda) still go out; local's sender adds S3's EventBridge event.
    to_sink = object_created_sender(sink, buckets)

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        original(account_id, event_name, bucket, key)
        to_sink(account_id, event_name, bucket, key)

    return send_event


# ---------------------------------------------------------------------------------------------------
# Speed: parse once, memoise JSONPath, reuse clients
# ---------------------------------------------------------------------------------------------------

# State types whose evaluation components keep every per-execution value in the Environment. Map and
# Parallel build per-run workers on their components, so definitions with them are parsed every time.
STATELESS_STATE_TYPES: Final[frozenset[str]] = frozenset({"Task", "Pass", "Choice", "Succeed", "Fail", "Wait"})


def _state_types(scope: Any) -> set[str]:
    types: set[str] = set()
    for state in (scope.get("States") or {}).values() if isinstance(scope, dict) else ():
        types.add(str(state.get("Type")))
        for branch in state.get("Branches") or []:
            types |= _state_types(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                types |= _state_types(state[key])
    return types


_PARSED_DEFINITIONS: dict[str, tuple[Any, Any]] = {}
_PARSE_LOCK: Final = threading.Lock()


def _parse_once(original: Callable[[str], tuple[Any, Any]]) -> Callable[[str], tuple[Any, Any]]:
    def parse(definition: str) -> tuple[Any, Any]:
        with _PARSE_LOCK:
            parsed = _PARSED_DEFINITIONS.get(definition)
        if parsed is not None:
            return parsed
        parsed = original(definition)
        try:
            reusable = _state_types(json.loads(definition)) <= STATELESS_STATE_TYPES
        except ValueError:
            reusable = False
        if reusable:
            with _PARSE_LOCK:
                parsed = _PARSED_DEFINITIONS.setdefault(definition, parsed)
        return parsed

    return parse


@functools.cache
def _memoised(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return functools.lru_cache(maxsize=None)(parse)


def _memoised_json_path(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """jsonpath_ng's ``parse`` remembered per expression (the same wrapper for every world)."""
    return _memoised(parse)


class _ClientPerService:
    """Stands in for ``boto3`` in moto's ``boto_client`` module: one client per service, region, endpoint."""

    def __init__(self, boto3_module: Any) -> None:
        self._boto3 = boto3_module
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def client(self, **kwargs: Any) -> Any:
        """A cached ``boto3.client(**kwargs)``; the config moto passes is the same for every call."""
        key = (
            kwargs.get("service_name"),
            kwargs.get("region_name"),
            kwargs.get("endpoint_url"),
            kwargs.get("aws_access_key_id"),
        )
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._boto3.client(**kwargs)
            return self._clients[key]


_SERVICE_CLIENTS: Final = _ClientPerService(boto_client.boto3)


# ---------------------------------------------------------------------------------------------------
# Faults in the state machines' own service calls
# ---------------------------------------------------------------------------------------------------

ServiceFaultKind = Literal["error", "throttle", "lost-response"]
"""``error``: the service fails the call (5xx) without applying it. ``throttle``: it refuses the call
(rate exceeded). ``lost-response``: it applies the call, then the response is lost (5xx to the caller)."""

# What each service answers, as (error code, HTTP status), for an internal error and for throttling.
_SERVICE_ERRORS: Final[dict[str, dict[str, tuple[str, int]]]] = {
    "dynamodb": {"error": ("InternalServerError", 500), "throttle": ("ThrottlingException", 400)},
    "events": {"error": ("InternalException", 500), "throttle": ("ThrottlingException", 400)},
    "s3": {"error": ("InternalError", 500), "throttle": ("SlowDown", 503)},
    "sqs": {"error": ("InternalError", 500), "throttle": ("RequestThrottled", 403)},
    "stepfunctions": {"error": ("ServiceUnavailable", 503), "throttle": ("ThrottlingException", 400)},
}


class ServiceFaultInjector:
    """Decides which service-integration calls of the state machines fail. Subclass it; this one injects none."""

    def decide(self, service: str, operation: str, parameters: Mapping[str, Any]) -> ServiceFaultKind | None:
        """The fault for one call (``service`` as botocore names it, ``operation`` as the API does), or None."""
        return None


def injected_client_error(service: str, operation: str, kind: Literal["error", "throttle"]) -> ClientError:
    """The ClientError the service would answer with."""
    code, status = _SERVICE_ERRORS.get(service, _SERVICE_ERRORS["dynamodb"])[kind]
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} ({operation}, injected by the test)"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
    }
    return ClientError(response, operation)


_INTEGRATION_POLLS: Final = frozenset({("stepfunctions", "DescribeExecution")})
"""Calls an integration makes to follow its own work (``.sync`` waiting for a child execution), which no state
makes: AWS follows the child inside the service, so they are never faulted as a Task's call would be."""


class _FaultableClient:
    """A Task state's boto3 client whose API calls consult the world's :class:`ServiceFaultInjector`."""

    def __init__(self, client: Any, seams: MotoSeams) -> None:
        self._client = client
        self._seams = seams

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping.get(name)
        if operation is None:
            return attribute
        service = self._client.meta.service_model.service_name

        if (service, operation) in _INTEGRATION_POLLS:
            return attribute

        def call(**parameters: Any) -> Any:
            kind = self._seams.service_faults.decide(service, operation, parameters)
            if kind in ("error", "throttle"):
                raise injected_client_error(service, operation, kind)
            response = attribute(**parameters)
            if kind == "lost-response":
                raise injected_client_error(service, operation, "error")
            return response

        return call


class _FaultableClients:
    """Stands in for ``boto3`` in moto's ``boto_client`` module: the shared clients, behind the fault seam."""

    def __init__(self, seams: MotoSeams) -> None:
        self._seams = seams

    def client(self, **kwargs: Any) -> _FaultableClient:
        return _FaultableClient(_SERVICE_CLIENTS.client(**kwargs), self._seams)


# ---------------------------------------------------------------------------------------------------
# One AWS call at a time, as each is atomic in AWS
# ---------------------------------------------------------------------------------------------------

_AWS_CALL_LOCK: Final = threading.RLock()


def _one_call_at_a_time(original: Callable[..., Any]) -> Callable[..., Any]:
    def process_request(self: BotocoreStubber, request: Any) -> Any:
        # Lambda's Invoke runs a handler in-process: holding the lock through it would serialise whole
        # invocations; the handler's own AWS calls each take it.
        if "://lambda." in str(request.url):
            return original(self, request)
        with _AWS_CALL_LOCK:
            return original(self, request)

    return process_request


# ---------------------------------------------------------------------------------------------------
# Waiting for executions
# ---------------------------------------------------------------------------------------------------


def join_interpreter_threads(timeout_seconds: float = 60.0) -> bool:
    """Wait until every ASL interpreter thread (executions, their states and branches) has finished.

    Parameters
    ----------
    timeout_seconds:
        Upper bound for the whole wait.

    Returns
    -------
    bool
        Whether any thread was still running (so the flow may have changed while waiting).

    Raises
    ------
    TimeoutError
        When a thread is still running after ``timeout_seconds`` (a hung handler or a Wait state).
    """
    threads: list[threading.Thread] = sfn_parser_utils.TMP_THREADS
    deadline = datetime.now(UTC).timestamp() + timeout_seconds
    waited = False
    while True:
        alive = [thread for thread in list(threads) if thread.is_alive()]
        # moto only appends; dropping finished threads keeps each scan short over a long run.
        threads[:] = [thread for thread in threads if thread.is_alive()]
        if not alive:
            return waited
        waited = True
        for thread in alive:
            remaining = deadline - datetime.now(UTC).timestamp()
            if remaining <= 0:
                raise TimeoutError(f"{thread.name} still running after {timeout_seconds} s")
            thread.join(remaining)


# ---------------------------------------------------------------------------------------------------
# A .sync Task following its child execution
# ---------------------------------------------------------------------------------------------------


class ExecutionEnds:
    """Wakes a ``.sync`` Task's poll of its child execution as soon as an execution ends.

    moto's integration checks the child every 0.5 real seconds (``time.sleep`` in ``_eval_sync``); this object
    stands in for that module's ``time``: its :meth:`sleep` returns when any execution has ended since it was
    called, or after the same interval at most, so the parent goes on when its child is done.
    """

    def __init__(self) -> None:
        self._ended = threading.Condition()
        self._count = 0

    def note_ended(self) -> None:
        """An execution has ended (its status is set)."""
        with self._ended:
            self._count += 1
            self._ended.notify_all()

    def sleep(self, seconds: float) -> None:
        """Wait until an execution ends, ``seconds`` at most."""
        with self._ended:
            seen = self._count
            self._ended.wait_for(lambda: self._count != seen, timeout=seconds)

    def terminated(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        """The replacement of ``BaseExecutionWorkerCommunication.terminated``: sets the status, then says so."""

        def terminated(communication: Any) -> None:
            original(communication)
            self.note_ended()

        return terminated


# ---------------------------------------------------------------------------------------------------
# SQS long polling
# ---------------------------------------------------------------------------------------------------


def _next_return_seconds(queue: Any) -> float | None:
    """When the first message of ``queue`` that cannot be received now (in flight, delayed) can be, or None."""
    times = [
        max(message.visible_at, message.delayed_until) / 1000.0
        for message in queue._messages
        if not message.visible or message.delayed
    ]
    return min(times, default=None)


def _long_poll_without_idle_wait(original: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    def receive_message(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        # SQS developer guide, "Short and long polling": a long poll returns as soon as a message is available,
        # or empty when the wait time expires. The wait holds the one-call-at-a-time lock, so no message can be
        # sent meanwhile; only one already in the queue can become receivable (its visibility timeout or delay
        # ending, on moto's real clock): wait for that one if it comes back in time, otherwise answer at once.
        polling_end = moto_unix_time() + wait_seconds_timeout
        while True:
            received = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            if received or not wait_seconds_timeout:
                return received
            returns_at = _next_return_seconds(self.get_queue(queue_name))
            if returns_at is None or returns_at > polling_end:
                return received
            # moto counts a message visible strictly after its visible_at (milliseconds).
            time.sleep(max(0.0, returns_at - moto_unix_time()) + 0.002)

    return receive_message


# ---------------------------------------------------------------------------------------------------
# All patches together
# ---------------------------------------------------------------------------------------------------

PATCHED_ATTRIBUTES: Final[tuple[tuple[Any, str], ...]] = (
    (LambdaSimpleBackend, "invoke"),
    (StateTaskServiceSfn, "_normalise_parameters"),
    (StateTaskServiceSfn, "_normalise_response"),
    (StateTaskServiceSfn, "_from_error"),
    (StateTaskServiceDynamoDB, "_from_error"),
    (StateTaskServiceEvents, "_from_error"),
    (retrier_decl, "time"),
    (jitter_strategy_decl, "random"),
    (Program, "_eval_body"),
    (WaitFunction, "_wait_interval"),
    (ExecutionState, "_evaluate_with_timeout"),
    (Execution, "_get_start_execution_worker"),
    (s3_notifications, "send_event"),
    (AmazonStateLanguageParser, "parse"),
    (json_path, "parse"),
    (result_path, "parse"),
    (boto_client, "boto3"),
    (BotocoreStubber, "process_request"),
    (SQSBackend, "receive_message"),
    (state_task_service_callback, "time"),
    (BaseExecutionWorkerCommunication, "terminated"),
)
"""Every (owner, attribute) :func:`patched_moto` replaces, each covered by a canary."""


@dataclass
class MotoSeams:
    """The state behind the patches of one world: retry clock, armed test cases, service faults."""

    retry_clock: RetryClock = field(default_factory=RetryClock)
    armed_test_cases: ArmedTestCases = field(default_factory=ArmedTestCases)
    service_faults: ServiceFaultInjector = field(default_factory=ServiceFaultInjector)
    express_limit: ExpressTimeLimit = field(default_factory=ExpressTimeLimit)
    execution_ends: ExecutionEnds = field(default_factory=ExecutionEnds)
    waits: VirtualWaits = field(init=False)

    def __post_init__(self) -> None:
        self.retry_clock.on_wait = self.express_limit.spend
        self.waits = VirtualWaits(self.express_limit)


@contextmanager
def patched_moto(
    *,
    dispatcher: LambdaDispatcher,
    s3_event_sink: Callable[[dict[str, Any]], None],
    eventbridge_buckets: frozenset[str],
    seams: MotoSeams,
) -> Iterator[MotoSeams]:
    """Apply every patch of this module for the duration of the block, then restore moto.

    Parameters
    ----------
    dispatcher:
        Runs a Lambda function in-process.
    s3_event_sink:
        Receives the ``Object Created`` events of buckets with EventBridge notifications.
    eventbridge_buckets:
        Names of those buckets.
    seams:
        Retry clock and armed test cases the patches use.

    Yields
    ------
    MotoSeams
        ``seams``, for convenience.
    """
    with ExitStack() as stack:

        def replace(owner: Any, name: str, value: Any) -> None:
            if (owner, name) not in PATCHED_ATTRIBUTES:
                raise RuntimeError(f"{owner!r}.{name} is patched but not listed in PATCHED_ATTRIBUTES")
            # The raw attribute, so a staticmethod is restored as a staticmethod.
            original = inspect.getattr_static(owner, name)
            setattr(owner, name, value)
            stack.callback(setattr, owner, name, original)

        replace(LambdaSimpleBackend, "invoke", dispatching_invoke(dispatcher))
        replace(
            StateTaskServiceSfn,
            "_normalise_parameters",
            normalise_sfn_parameters(StateTaskServiceSfn._normalise_parameters),
        )
        replace(
            StateTaskServiceSfn, "_normalise_response", normalise_sfn_response(StateTaskServiceSfn._normalise_response)
        )
        replace(StateTaskServiceSfn, "_from_error", _sfn_error_names(StateTaskServiceSfn._from_error))
        replace(StateTaskServiceDynamoDB, "_from_error", _keep_mocked_failures(StateTaskServiceDynamoDB._from_error))
        replace(
            StateTaskServiceEvents, "_from_error", _event_errors_as_task_failures(StateTaskServiceEvents._from_error)
        )
        replace(retrier_decl, "time", seams.retry_clock)
        replace(jitter_strategy_decl, "random", seams.retry_clock)
        replace(Program, "_eval_body", seams.express_limit.enforce(Program._eval_body))
        replace(WaitFunction, "_wait_interval", seams.waits.wait_interval())
        replace(
            ExecutionState,
            "_evaluate_with_timeout",
            _attempt_checked_against_the_limit(ExecutionState._evaluate_with_timeout, seams.express_limit),
        )
        replace(
            Execution,
            "_get_start_execution_worker",
            _worker_with_test_case(Execution._get_start_execution_worker, seams.armed_test_cases, seams.express_limit),
        )
        # moto.s3.models calls notifications.send_event through the module: patching it there suffices.
        if s3_models.notifications is not s3_notifications:
            raise RuntimeError("moto.s3.models no longer reaches send_event through moto.s3.notifications")
        replace(
            s3_notifications,
            "send_event",
            _object_created_to_sink(s3_notifications.send_event, s3_event_sink, eventbridge_buckets),
        )
        replace(AmazonStateLanguageParser, "parse", staticmethod(_parse_once(AmazonStateLanguageParser.parse)))
        replace(json_path, "parse", _memoised_json_path(json_path.parse))
        replace(result_path, "parse", _memoised_json_path(result_path.parse))
        replace(boto_client, "boto3", _FaultableClients(seams))
        replace(BotocoreStubber, "process_request", _one_call_at_a_time(BotocoreStubber.process_request))
        replace(SQSBackend, "receive_message", _long_poll_without_idle_wait(SQSBackend.receive_message))
        replace(state_task_service_callback, "time", seams.execution_ends)
        replace(
            BaseExecutionWorkerCommunication,
            "terminated",
            seams.execution_ends.terminated(BaseExecutionWorkerCommunication.terminated),
        )
        yield seams
