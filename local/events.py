"""EventBridge rules and targets, Lambda's asynchronous invocations and SQS pollers, from the recording.

moto stores what is put on a bus but does not deliver to Step Functions or Lambda with retries and
dead-letter queues. So every bus carries one catch-all rule into a capture queue (local plumbing, not a
program rule), and :class:`EventRouter` drains those queues in a background thread: it matches each event
against the recorded rules with moto's own matcher (the code its PutEvents routes with) and delivers it to
the recorded targets, as EventBridge would: StartExecution with the event as input, an asynchronous Lambda
invoke (retried, then sent to the function's on-failure destination), SQS SendMessage, or another bus;
a target that keeps failing has the event written to its dead-letter queue. SQS event source mappings are
polled with partial batch responses.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from local.lambdas import LambdaRuntime, Outcome
from local.recorded import Queue, QueueConsumer, Rule, System, Target

CAPTURE_RULE: Final = "local-capture-all"
# Matches every event: each source starts with "".
CAPTURE_PATTERN: Final = json.dumps({"source": [{"prefix": ""}]})
POLL_SECONDS: Final = 0.05
MOTO_ONLY_EVENT_FIELDS: Final = ("ingestion-time",)
"""Fields moto adds to the events it delivers; EventBridge does not."""

logger = logging.getLogger("local.events")


def capture_queue_name(bus: str) -> str:
    """The queue a bus's catch-all rule writes to."""
    return f"local-capture-{bus}"


class BusInbox:
    """Events put on the buses and not yet routed: filled from any thread, emptied by the router."""

    def __init__(self, account: str) -> None:
        self._account = account
        self._events: deque[tuple[str, dict[str, Any]]] = deque()
        self._lock = threading.Lock()

    def put(self, bus: str, event: dict[str, Any]) -> None:
        """An event arrives on ``bus`` as EventBridge has it."""
        with self._lock:
            self._events.append((bus, event))

    def put_captured(self, bus: str, body: str) -> None:
        """An event a bus's catch-all rule captured, as EventBridge has it (moto adds fields and drops ``account``)."""
        event = json.loads(body)
        for name in MOTO_ONLY_EVENT_FIELDS:
            event.pop(name, None)
        event.setdefault("account", self._account)
        self.put(bus, event)

    def take(self) -> tuple[str, dict[str, Any]] | None:
        """The oldest event and its bus, or None when there is none."""
        with self._lock:
            return self._events.popleft() if self._events else None


class EventRouter:
    """Delivers what is put on the buses, runs asynchronous invocations and polls SQS consumers.

    Parameters
    ----------
    system:
        The recorded program.
    runtime:
        Runs the functions.
    clients:
        boto3 clients for ``sqs``, ``stepfunctions`` (inside the running moto).
    """

    def __init__(self, system: System, runtime: LambdaRuntime, clients: Mapping[str, Any]) -> None:
        self.system = system
        self.runtime = runtime
        self.sqs = clients["sqs"]
        self.sfn = clients["stepfunctions"]
        self.patterns = {rule.arn: EventPattern.load(rule.pattern) for rule in system.rules}
        self.capture_queue_urls: dict[str, str] = {}
        self.inbox = BusInbox(system.account)
        self._async: deque[tuple[str, dict[str, Any]]] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-event-router", daemon=True)

    def accept(self, bus: str, event: dict[str, Any]) -> None:
        """Take an event onto a bus (for events AWS services emit, such as S3's)."""
        self.inbox.put(bus, event)

    def start(self) -> None:
        """Start delivering in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.pump_once()
            except Exception:  # keep serving: one bad delivery must not stop the system
                logger.exception("event routing failed")
                busy = False
            if not busy:
                self._stop.wait(POLL_SECONDS)

    def pump_once(self) -> bool:
        """One round: route what the buses received, run queued async invocations, poll consumers."""
        busy = self._drain_buses()
        busy |= self._run_async_invocations()
        busy |= self._poll_queue_consumers()
        return busy

    # ---- buses --------------------------------------------------------------------------------

    def _drain_buses(self) -> bool:
        for bus, url in self.capture_queue_urls.items():
            while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    self.inbox.put_captured(bus, message["Body"])
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
        busy = False
        while (arrived := self.inbox.take()) is not None:
            busy = True
            self.route(*arrived)
        return busy

    def route(self, bus: str, event: dict[str, Any]) -> None:
        """Send one event to every target of every recorded rule on ``bus`` whose pattern matches it."""
        for rule in self.system.rules:
            if rule.bus == bus and self.patterns[rule.arn].matches_event(cast("Any", event)):
                logger.info("%s on %s → rule %s", event.get("detail-type"), bus, rule.name)
                for target in rule.targets:
                    self._deliver(rule, target, event)

    def _deliver(self, rule: Rule, target: Target, event: dict[str, Any]) -> None:
        error = ""
        attempts = target.maximum_retry_attempts + 1
        for _ in range(attempts):
            try:
                self._send(target, event)
                return
            except ClientError as failure:
                error = str(failure)
        logger.warning("rule %s could not deliver to %s: %s", rule.name, target.arn, error)
        if target.dead_letter_arn:
            self.sqs.send_message(
                QueueUrl=self.system.queue(target.dead_letter_arn).url,
                MessageBody=json.dumps(event),
                MessageAttributes=dead_letter_attributes(rule.arn, target.arn, attempts, error),
            )

    def _send(self, target: Target, event: dict[str, Any]) -> None:
        service = target.arn.split(":")[2]
        if service == "states":
            self.sfn.start_execution(stateMachineArn=target.arn, name=str(uuid.uuid4()), input=json.dumps(event))
        elif service == "lambda":
            # Lambda takes an asynchronous invocation at once and runs it from its own queue.
            self._async.append((target.arn, event))
        elif service == "sqs":
            self.sqs.send_message(QueueUrl=self.system.queue(target.arn).url, MessageBody=json.dumps(event))
        elif service == "events" and ":event-bus/" in target.arn:
            self.accept(target.arn.rsplit("/", 1)[-1], event)
        else:
            raise NotImplementedError(f"no local delivery to target {target.arn!r}")

    # ---- Lambda asynchronous invocations ----------------------------------------------------------

    def _run_async_invocations(self) -> bool:
        busy = False
        while self._async:
            busy = True
            arn, event = self._async.popleft()
            function = self.system.function(arn)
            config = self.system.async_invokes.get(function.name)
            retries = config.maximum_retry_attempts if config else 2
            outcome = self.runtime.invoke(function.name, event)
            attempts = 1
            while not outcome.succeeded and attempts <= retries:
                attempts += 1
                outcome = self.runtime.invoke(function.name, event)
            if not outcome.succeeded and config and config.on_failure_destination:
                self._on_failure(function.arn, config.on_failure_destination, event, outcome, attempts)
        return busy

    def _on_failure(self, function_arn: str, destination: str, event: Any, outcome: Outcome, attempts: int) -> None:
        record = on_failure_record(
            function_arn, outcome.request_id, attempts, event, outcome.error_type, outcome.error_message
        )
        self.sqs.send_message(QueueUrl=self.system.queue(destination).url, MessageBody=json.dumps(record))

    # ---- SQS event source mappings ------------------------------------------------------------

    def _poll_queue_consumers(self) -> bool:
        busy = False
        for consumer in self.system.queue_consumers:
            queue = self.system.queue(consumer.queue_arn)
            messages = self.sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=min(consumer.batch_size, 10),
                VisibilityTimeout=queue.visibility_timeout_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                busy = True
                self._consume(consumer, queue, messages)
        return busy

    def _consume(self, consumer: QueueConsumer, queue: Queue, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(message, queue.arn, self.system.region) for message in messages]}
        outcome = self.runtime.invoke(consumer.function_name, event)
        if not outcome.succeeded:
            failed = {m["MessageId"] for m in messages}
        elif consumer.report_batch_item_failures:
            failed = {str(item["itemIdentifier"]) for item in (outcome.result or {}).get("batchItemFailures") or []}
        else:
            failed = set()
        # Failed messages stay on the queue: they come back after the visibility timeout (then redrive).
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )


def dead_letter_attributes(rule_arn: str, target_arn: str, attempts: int, error: str) -> dict[str, Any]:
    """Message attributes EventBridge sets on an event it writes to a target's dead-letter queue.

    Parameters
    ----------
    rule_arn, target_arn:
        The rule and the target that could not be reached.
    attempts:
        Delivery attempts made (the first one and its retries).
    error:
        The last error, ``"<code>: <message>"``.
    """
    code, _, message = error.partition(": ")
    values = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target_arn,
        "ERROR_CODE": code or "Unknown",
        "ERROR_MESSAGE": message or error or "delivery failed",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": str(attempts - 1),
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


def on_failure_record(
    function_arn: str, request_id: str, attempts: int, event: Any, error_type: str | None, error_message: str | None
) -> dict[str, Any]:
    """The record Lambda sends an on-failure destination once an asynchronous event's retries are spent."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": error_message},
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends a function."""
    attributes = dict(message.get("Attributes") or {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
