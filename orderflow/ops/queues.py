"""Failure queues: depth and age, a look at what is parked (without consuming it), and redrive.

Redrive never loses a message. A DLQ of an SQS queue is moved by SQS itself (``StartMessageMoveTask``).
Every other queue (rule DLQs, Lambda on-failure records, parked workflow state, SNS subscription DLQs)
is redriven one message at a time, in this order: receive it (it becomes invisible for a while), deliver
it, then delete it. Stopped at any point, a message is either delivered and deleted, delivered and still
parked (it will be delivered again: every consumer here is idempotent), or still parked; the messages
received but not yet delivered are made visible again at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from orderflow.ops.aws import EXIT_AWS, EXIT_INTERRUPTED, EXIT_NOT_DONE, Aws, OpsError, error_code
from orderflow.ops.executions import resume_request
from orderflow.ops.outputs import FailureQueue, StackOutputs

Progress = Callable[[str], None]

PEEK_VISIBILITY_SECONDS: Final = 30
"""How long a peeked message stays hidden if resetting its visibility fails (normally it is reset at once)."""
REDRIVE_VISIBILITY_SECONDS: Final = 120
"""How long a message being redriven stays hidden: ample for one delivery."""
MOVE_TASK_POLL_SECONDS: Final = 5.0
# The envelope of an EventBridge event; a parked workflow state is the event plus what the workflow added.
EVENT_ENVELOPE: Final = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
# Message attributes EventBridge adds when it parks an event on a rule target's DLQ.
EVENTBRIDGE_FAILURE_ATTRIBUTES: Final = (
    "ERROR_CODE",
    "ERROR_MESSAGE",
    "RULE_ARN",
    "TARGET_ARN",
    "EXHAUSTED_RETRY_CONDITION",
    "RETRY_ATTEMPTS",
)


def queue_status(aws: Aws, queue: FailureQueue, now: datetime) -> dict[str, Any]:
    """Depth of a failure queue and the age of its oldest message.

    The age is CloudWatch's ``ApproximateAgeOfOldestMessage`` (SQS publishes it every minute); ``None``
    when CloudWatch has no recent datapoint (an idle queue, or a message younger than a minute).
    """
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    datapoints = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue.name}],
        StartTime=now - timedelta(minutes=15),
        # A minute past now: the latest period is included whatever the clocks' rounding.
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    latest = max(datapoints, key=lambda point: point["Timestamp"]) if datapoints else None
    return {
        "queue": queue.role,
        "name": queue.name,
        "kind": queue.kind,
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "inFlight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "oldestAgeSeconds": int(latest["Maximum"]) if latest else None,
    }


# ---- what a parked message says --------------------------------------------------------------------


@dataclass
class ParkedMessage:
    """One parked message, decoded.

    Attributes
    ----------
    message_id, receipt_handle, body, attributes:
        As SQS returned them (message attributes flattened to strings).
    sent_at:
        When it was parked.
    receive_count:
        How many times it was received (peeks count too).
    event:
        The order event it carries (an EventBridge envelope), when it carries one.
    failure:
        Why it was parked, as the service that parked it says.
    target:
        Where it was going when it failed (the rule target, the function), when the message says.
    payload:
        What a redrive delivers again, as text.
    """

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    sent_at: str | None
    receive_count: int
    event: dict[str, Any] | None = None
    failure: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    payload: str = ""
    sns: dict[str, Any] | None = None
    execution_name: str | None = None
    """For a parked fulfillment: the name of the execution that resumes it (one per parking, so a second
    redrive of the same message starts nothing)."""
    not_deliverable: str | None = None
    """Why this message cannot be delivered anywhere (e.g. a parked state that cannot be resumed)."""

    def summary(self) -> dict[str, Any]:
        """The JSON form ``dlq show`` prints."""
        event = self.event or {}
        detail: dict[str, Any] = event["detail"] if isinstance(event.get("detail"), dict) else {}
        return {
            "messageId": self.message_id,
            "sentAt": self.sent_at,
            "receiveCount": self.receive_count,
            "event": (
                {
                    "id": event.get("id"),
                    "source": event.get("source"),
                    "detailType": event.get("detail-type"),
                    "time": event.get("time"),
                    "orderId": detail.get("orderId"),
                    "customerId": detail.get("customerId"),
                    **({"replayName": event["replay-name"]} if "replay-name" in event else {}),
                }
                if self.event
                else None
            ),
            "failure": self.failure,
            "target": self.target,
            "body": _json_or_text(self.body),
        }


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _is_event(value: Any) -> bool:
    return isinstance(value, dict) and {"detail-type", "source", "detail"} <= set(value)


PARKED_STATE_KEYS: Final = frozenset({"executionArn", "orderId", "error", "state"})
"""The body ``ParkForOperator`` sends to ``fulfillment-attention``."""


def _decode_parked_fulfillment(parked: ParkedMessage, body: dict[str, Any]) -> None:
    """A parked fulfillment state becomes the input of the execution that resumes it at its stage."""
    state, error = body["state"], body["error"] if isinstance(body["error"], dict) else {}
    cause = _json_or_text(str(error.get("Cause", "")))
    if isinstance(cause, dict) and "errorMessage" in cause:
        cause = cause["errorMessage"]
    parked.failure = {"error": error.get("Error"), "cause": cause, "execution": body["executionArn"]}
    try:
        request = resume_request(str(body["orderId"]), state, str(body["executionArn"]))
    except ValueError as problem:
        parked.not_deliverable = f"order {body['orderId']}: {problem}"
        return
    parked.payload = request.payload
    parked.execution_name = request.name
    parked.failure["resumeAt"] = request.stage


def decode(message: dict[str, Any], queue: FailureQueue) -> ParkedMessage:
    """Decode a parked message by what parked it (see :class:`~orderflow.ops.outputs.FailureQueue`)."""
    system = message.get("Attributes") or {}
    sent = system.get("SentTimestamp")
    parked = ParkedMessage(
        message_id=str(message["MessageId"]),
        receipt_handle=str(message["ReceiptHandle"]),
        body=str(message.get("Body", "")),
        attributes={
            name: str(value.get("StringValue", value.get("BinaryValue", "")))
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat() if sent else None,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
    )
    parked.payload = parked.body
    body = _json_or_text(parked.body)
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        # A Lambda on-failure destination record: the original event and why every attempt failed.
        context = body["requestContext"]
        response = body.get("responsePayload") or {}
        parked.failure = {
            "condition": context.get("condition"),
            "attempts": context.get("approximateInvokeCount"),
            "errorType": response.get("errorType") if isinstance(response, dict) else None,
            "errorMessage": response.get("errorMessage") if isinstance(response, dict) else None,
        }
        parked.target = str(context.get("functionArn", "")).removesuffix(":$LATEST") or None
        request = body["requestPayload"]
        parked.event = request if _is_event(request) else None
        parked.payload = json.dumps(request)
    elif isinstance(body, dict) and set(body) >= PARKED_STATE_KEYS and isinstance(body["state"], dict):
        _decode_parked_fulfillment(parked, body)
    elif isinstance(body, dict) and body.get("Type") == "Notification" and "TopicArn" in body:
        # An SNS subscription's DLQ holds the notification envelope.
        parked.sns = body
        parked.target = str(body["TopicArn"])
        inner = _json_or_text(str(body.get("Message", "")))
        parked.event = inner if _is_event(inner) else None
        parked.failure = {name: parked.attributes[name] for name in sorted(parked.attributes)}
    elif _is_event(body):
        parked.event = {key: body[key] for key in (*EVENT_ENVELOPE, "replay-name") if key in body}
        if "error" in body:
            # A workflow's parked state: the event it started from plus the error its Catch kept.
            error = body["error"] if isinstance(body["error"], dict) else {"Cause": body["error"]}
            cause = _json_or_text(str(error.get("Cause", "")))
            # A Lambda error's cause is its whole error document (with a stack trace): its message says it.
            if isinstance(cause, dict) and "errorMessage" in cause:
                cause = cause["errorMessage"]
            parked.failure = {"error": error.get("Error"), "cause": cause}
            parked.payload = json.dumps(parked.event)
        eventbridge: dict[str, Any] = {
            name: parked.attributes[name] for name in EVENTBRIDGE_FAILURE_ATTRIBUTES if name in parked.attributes
        }
        if eventbridge:
            parked.failure = {**parked.failure, **eventbridge}
            parked.target = eventbridge.get("TARGET_ARN")
    if parked.target is None and queue.kind != "eventbridge-target":
        parked.target = queue.redrive_to
    return parked


# ---- peeking ----------------------------------------------------------------------------------------


def _receive(aws: Aws, queue: FailureQueue, count: int, visibility: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        aws.client("sqs")
        .receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=max(1, min(10, count)),
            VisibilityTimeout=visibility,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return messages


def _make_visible(aws: Aws, queue: FailureQueue, receipt_handles: list[str]) -> None:
    """Put received messages back at once (visibility 0), in batches of 10."""
    for start in range(0, len(receipt_handles), 10):
        batch = receipt_handles[start : start + 10]
        aws.client("sqs").change_message_visibility_batch(
            QueueUrl=queue.url,
            Entries=[{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0} for i, handle in enumerate(batch)],
        )


@contextmanager
def peeking(aws: Aws, queue: FailureQueue, limit: int) -> Iterator[list[ParkedMessage]]:
    """Up to ``limit`` distinct parked messages, made visible again when the block exits.

    Receiving counts as a receive (``ApproximateReceiveCount`` grows), but these queues have no redrive
    policy of their own, so a peek can never move or expire a message.
    """
    seen: dict[str, ParkedMessage] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            messages = _receive(aws, queue, limit - len(seen), PEEK_VISIBILITY_SECONDS)
            fresh = [message for message in messages if message["MessageId"] not in seen]
            handles += [message["ReceiptHandle"] for message in messages]
            if not fresh:
                break
            for message in fresh[: limit - len(seen)]:
                seen[message["MessageId"]] = decode(message, queue)
        yield list(seen.values())
    finally:
        _make_visible(aws, queue, handles)


def show(aws: Aws, queue: FailureQueue, limit: int) -> list[dict[str, Any]]:
    """``dlq show``: up to ``limit`` parked messages, decoded, none consumed."""
    with peeking(aws, queue, limit) as messages:
        return [message.summary() for message in messages]


# ---- delivering again --------------------------------------------------------------------------------


def resolve_destination(outputs: StackOutputs, to: str, *, allow_foreign_target: bool = False) -> str:
    """``--to``: an ARN, a queue URL, a function's role (``notify``) or a failure queue's role's source.

    Only the stack's own resources (:meth:`StackOutputs.own_arns`) are accepted unless
    ``allow_foreign_target``: a typo or a pasted ARN of another stack must not receive its messages.

    Raises
    ------
    OpsError
        For a name the stack's outputs do not know, or an ARN outside the stack.
    """
    if to.startswith("arn:"):
        destination = to
    elif to.startswith("https://sqs.") or to.startswith("https://queue."):
        account, name = to.rstrip("/").split("/")[-2:]
        destination = f"arn:{outputs.partition}:sqs:{outputs.region}:{account}:{name}"
    elif to in outputs.functions:
        destination = outputs.functions[to]
    else:
        raise OpsError(
            f"--to {to!r}: give an ARN, a queue URL, or a function of the stack "
            f"({', '.join(sorted(outputs.functions))})"
        )
    if destination not in outputs.own_arns() and not allow_foreign_target:
        raise OpsError(
            f"--to {to!r} is not a resource of stack {outputs.stack!r} (its functions, state machines, bus and "
            "queues): give --allow-foreign-target to deliver there anyway"
        )
    return destination


def _queue_url(arn: str) -> str:
    _, partition, _, region, account, name = arn.split(":", 5)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{suffix}/{account}/{name}"


def deliver(aws: Aws, message: ParkedMessage, destination: str) -> None:
    """Deliver a parked message's payload to ``destination`` (a queue, function, state machine, bus or topic).

    Raises
    ------
    OpsError
        When the payload cannot go there (an ``aws.*`` event cannot be put on a bus; AWS reserves them).
    ClientError
        When the service refuses the delivery.
    """
    if message.not_deliverable:
        raise OpsError(f"message {message.message_id}: {message.not_deliverable}", EXIT_NOT_DONE)
    service = destination.split(":")[2]
    if service == "sqs":
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in message.attributes.items()
            if name not in EVENTBRIDGE_FAILURE_ATTRIBUTES
        }
        aws.client("sqs").send_message(
            QueueUrl=_queue_url(destination),
            MessageBody=message.payload,
            **({"MessageAttributes": attributes} if attributes else {}),
        )
    elif service == "lambda":
        aws.client("lambda").invoke(FunctionName=destination, InvocationType="Event", Payload=message.payload.encode())
    elif service == "states":
        # Named after the parking (or the parked message): a STANDARD workflow refuses a second start of the
        # same name, so redriving one message twice starts one execution.
        name = message.execution_name or f"redrive-{message.message_id}"[:80]
        try:
            aws.client("stepfunctions").start_execution(stateMachineArn=destination, name=name, input=message.payload)
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
    elif service == "events":
        event = message.event
        if event is None:
            raise OpsError(f"message {message.message_id} holds no event to put on {destination}")
        if str(event.get("source", "")).startswith("aws."):
            raise OpsError(
                f"message {message.message_id} is an {event['source']} event: AWS reserves aws.* sources, so it "
                "cannot be put on a bus again; redrive it with --to the function or queue that consumes it",
                EXIT_NOT_DONE,
            )
        result = aws.client("events").put_events(
            Entries=[
                {
                    "EventBusName": destination,
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": list(event.get("resources") or []),
                }
            ]
        )
        if result.get("FailedEntryCount"):
            entry = result["Entries"][0]
            raise OpsError(f"the bus refused the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}", EXIT_AWS)
    elif service == "sns":
        envelope = message.sns or {}
        attributes = {
            name: {"DataType": value.get("Type", "String"), "StringValue": value.get("Value", "")}
            for name, value in (envelope.get("MessageAttributes") or {}).items()
        }
        aws.client("sns").publish(
            TopicArn=destination,
            Message=str(envelope.get("Message", message.payload)),
            **({"Subject": envelope["Subject"]} if envelope.get("Subject") else {}),
            **({"MessageAttributes": attributes} if attributes else {}),
        )
    else:
        raise OpsError(f"cannot deliver to {destination}: not a queue, function, state machine, bus or topic")


# ---- redrive ---------------------------------------------------------------------------------------------


@dataclass
class RedriveReport:
    """What a redrive did; ``exit_code`` is non-zero when it stopped before the queue was empty."""

    queue: str
    method: str
    destination: str | None
    moved: int = 0
    dry_run: bool = False
    would_move: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None
    exit_code: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "queue": self.queue,
            "method": self.method,
            "destination": self.destination,
            "moved": self.moved,
            "dryRun": self.dry_run,
            **({"wouldMove": self.would_move} if self.dry_run else {}),
            "stopped": self.stopped,
        }


def redrive(
    aws: Aws,
    outputs: StackOutputs,
    queue: FailureQueue,
    *,
    to: str | None,
    rate: float | None,
    limit: int | None,
    dry_run: bool,
    one_by_one: bool,
    progress: Progress,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    allow_foreign_target: bool = False,
) -> RedriveReport:
    """``dlq redrive``: deliver what is parked on ``queue`` again, then remove it from the queue.

    Parameters
    ----------
    to:
        Destination (see :func:`resolve_destination`); by default the queue's source, or for a rule DLQ
        each message's own target.
    allow_foreign_target:
        Accept a ``to`` outside the stack.
    rate:
        Messages per second at most.
    limit:
        Redrive at most this many messages.
    dry_run:
        Only say what would be delivered where (the messages are peeked, not consumed).
    one_by_one:
        Receive, deliver, delete even where SQS could move the messages itself.
    progress:
        Receives a line now and then.
    aws, outputs, queue:
        The stack's clients, its outputs, and the failure queue to redrive.
    clock, sleep:
        Time, for pacing (``time.monotonic`` and ``time.sleep`` when None, looked up at each call).
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    destination = (
        resolve_destination(outputs, to, allow_foreign_target=allow_foreign_target) if to else queue.redrive_to
    )
    use_move_task = queue.kind == "sqs" and not one_by_one and not dry_run and limit is None
    if use_move_task:
        return _move_task(aws, queue, destination, rate, progress, sleep)
    report = RedriveReport(queue=queue.role, method="receive-deliver-delete", destination=destination, dry_run=dry_run)
    if dry_run:
        with peeking(aws, queue, limit or 100) as messages:
            report.would_move = [
                {**message.summary(), "deliverTo": destination or message.target} for message in messages
            ]
        return report
    return _one_by_one(aws, queue, destination, rate, limit, report, progress, clock, sleep)


def _move_task(
    aws: Aws,
    queue: FailureQueue,
    destination: str | None,
    rate: float | None,
    progress: Progress,
    sleep: Callable[[float], None],
) -> RedriveReport:
    """SQS moves the messages back itself (a DLQ of an SQS queue); we follow the task to its end."""
    sqs = aws.client("sqs")
    request: dict[str, Any] = {"SourceArn": queue.arn}
    if destination:
        request["DestinationArn"] = destination
    if rate:
        request["MaxNumberOfMessagesPerSecond"] = max(1, min(500, int(rate)))
    handle = sqs.start_message_move_task(**request)["TaskHandle"]
    report = RedriveReport(queue=queue.role, method="StartMessageMoveTask", destination=destination)
    progress(f"SQS is moving {queue.role}'s messages back (task {handle})")
    try:
        while True:
            results = sqs.list_message_move_tasks(SourceArn=queue.arn, MaxResults=1).get("Results", [])
            task = results[0] if results else {}
            report.moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            status = task.get("Status", "RUNNING")
            total = task.get("ApproximateNumberOfMessagesToMove")
            progress(f"{status}: moved {report.moved}" + (f" of {total}" if total is not None else ""))
            if status in ("COMPLETED", "FAILED", "CANCELLED"):
                if status != "COMPLETED":
                    report.stopped = f"{status}: {task.get('FailureReason', 'no reason given')}"
                    report.exit_code = EXIT_NOT_DONE
                return report
            sleep(MOVE_TASK_POLL_SECONDS)
    except KeyboardInterrupt:
        cancel = f"aws sqs cancel-message-move-task --task-handle {handle}"
        report.stopped = f"interrupted: the move goes on in SQS (cancel it with: {cancel})"
        report.exit_code = EXIT_INTERRUPTED
        return report


def _one_by_one(
    aws: Aws,
    queue: FailureQueue,
    destination: str | None,
    rate: float | None,
    limit: int | None,
    report: RedriveReport,
    progress: Progress,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> RedriveReport:
    sqs = aws.client("sqs")
    started = clock()
    in_hand: list[ParkedMessage] = []
    try:
        while limit is None or report.moved < limit:
            received = _receive(aws, queue, 10 if limit is None else limit - report.moved, REDRIVE_VISIBILITY_SECONDS)
            if not received:
                break
            in_hand = [decode(message, queue) for message in received]
            while in_hand:
                message = in_hand[0]
                target = destination or message.target
                if target is None:
                    raise OpsError(
                        f"message {message.message_id} does not say where it was going: give --to", EXIT_NOT_DONE
                    )
                if rate:
                    # Pace deliveries: the n-th may start n/rate seconds after the first.
                    wait = started + report.moved / rate - clock()
                    if wait > 0:
                        sleep(wait)
                deliver(aws, message, target)
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message.receipt_handle)
                in_hand.pop(0)
                report.moved += 1
                if report.moved % 10 == 0:
                    elapsed = max(clock() - started, 1e-9)
                    progress(f"redriven {report.moved} ({report.moved / elapsed:.1f}/s)")
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        report.exit_code = EXIT_INTERRUPTED
    except OpsError as error:
        report.stopped = str(error)
        report.exit_code = error.exit_code
    except ClientError:
        # The caller reports the AWS error; what was done so far stays done, the rest stays parked.
        _make_visible(aws, queue, [message.receipt_handle for message in in_hand])
        raise
    finally:
        if report.exit_code:
            _make_visible(aws, queue, [message.receipt_handle for message in in_hand])
    return report
