"""The moto internals the local system bends, each with the reason (moto 5.2.5, pinned in local/requirements.txt).

moto runs the recorded state machines in its bundled ASL interpreter. Three of its seams must be bent to
run them as AWS would; ``tests/local/test_local_canaries.py`` checks that each still has the shape relied
on here and that the gap each one closes is still open:

* ``LambdaSimpleBackend.invoke`` never runs code: it is replaced by a dispatcher that runs the real handler
  in-process (a function error, or a failure of the Lambda service itself, is reported as Lambda does, so the
  state machines' Retry/Catch apply).
* ``StateTaskServiceSfn._normalise_parameters`` is a no-op in moto, so a ``states:startExecution`` Task's
  ``StateMachineArn``/``Name``/``Input`` reach botocore unchanged and fail validation; the patch maps them
  to the API's member names, as the service integration does.
* ``moto.s3.notifications.send_event`` puts S3's EventBridge events on every bus, with a constant event id
  and fields spelled unlike S3's; the wrapper hands the documented ``Object Created`` event to the local
  event router for the default bus only.

The interpreter's retry back-off is left alone: it sleeps, as AWS waits. The workflow test kit
(``tests/workflows/flowkit_moto.py``) builds on these seams and patches more (retry clocks, mocked
responses, speed-ups) for its own purposes.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import botocore.session
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.exceptions import JsonRESTError
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

MOTO_CONFIG: Final[Any] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
"""``mock_aws`` config: run ASL definitions, keep Lambda in-process (its invoke is dispatched here)."""

PATCHED: Final = (
    (LambdaSimpleBackend, "invoke"),
    (StateTaskServiceSfn, "_normalise_parameters"),
    (s3_notifications, "send_event"),
)
"""Every (owner, attribute) :func:`patched_moto` replaces."""

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


@contextmanager
def patched_moto(
    *, dispatch: LambdaDispatcher, s3_event_sink: Callable[[dict[str, Any]], None], eventbridge_buckets: frozenset[str]
) -> Iterator[None]:
    """Apply the three patches for the duration of the block, then restore moto.

    Parameters
    ----------
    dispatch:
        Runs a Lambda function in-process.
    s3_event_sink:
        Receives the ``Object Created`` events of the buckets that send events to EventBridge.
    eventbridge_buckets:
        Names of those buckets.
    """
    if s3_models.notifications is not s3_notifications:
        raise RuntimeError("moto.s3.models no longer reaches send_event through moto.s3.notifications")
    replacements = {
        (LambdaSimpleBackend, "invoke"): dispatching_invoke(dispatch),
        (StateTaskServiceSfn, "_normalise_parameters"): normalise_sfn_parameters(
            StateTaskServiceSfn._normalise_parameters
        ),
        (s3_notifications, "send_event"): object_created_sender(s3_event_sink, eventbridge_buckets),
    }
    with ExitStack() as stack:
        for (owner, name), value in replacements.items():
            original = inspect.getattr_static(owner, name)
            setattr(owner, name, value)
            stack.callback(setattr, owner, name, original)
        yield
