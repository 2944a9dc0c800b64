"""The deliveries AWS makes by itself, from the recording: one :class:`Trigger` subclass per kind.

moto stores what is put on a bus, a topic or a queue, but does not deliver it to Step Functions or Lambda
with AWS's retries and dead-letter queues. :class:`EventRouter` does, one trigger kind per class:

* :class:`BusRules`: EventBridge rules and targets (pattern matching with moto's own matcher, input
  transformers, retry policy with backoff and maximum event age, dead-letter queue);
* :class:`AsyncInvocations`: Lambda's queue of asynchronous events (retries with backoff, maximum event
  age, on-success/on-failure destinations, throttling);
* :class:`QueueMapping`: an SQS event source mapping (batch size, batching window, maximum concurrency,
  visibility timeout, maxReceiveCount → dead-letter queue through moto, partial batch responses);
* :class:`TopicSubscriptions`: SNS subscriptions (filter policies, delivery retries, dead-letter queue)
  and the record of what the topics published;
* :class:`ObjectCreatedEvents`: S3's ``Object Created`` events on the default bus.

A new trigger kind is one subclass here, added to :data:`TRIGGERS`. Delays run on the emulator's
:class:`~offline.emulator.clock.VirtualClock`: a backoff or a visibility timeout passes when nothing else
is left to do, without sleeping. Every hop asks :attr:`EventRouter.hop_fault` whether to fail, so a fault
run can fail any delivery; :attr:`EventRouter.faulted_hops` counts what it failed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, cast

from botocore.exceptions import ClientError
from moto.events.models import EventPattern
from moto.sns.utils import FilterPolicyMatcher

from offline.emulator.lambdas import LAMBDA_SYSTEM_ERROR, Invocation
from offline.emulator.moto_seams import join_interpreter_threads
from offline.emulator.recorded import (
    FunctionSpec,
    QueueConsumerSpec,
    QueueSpec,
    RuleSpec,
    SubscriptionSpec,
    TargetSpec,
)

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

    from offline.emulator.world import Emulator

logger = logging.getLogger("emulator.events")

CONCURRENCY: Final = 4
"""Concurrent Lambda invocations and SQS batches at a time (enough to overlap duplicates, few on 2 cores)."""
CAPTURE_RULE: Final = "emulator-capture-all"
# Matches every event: each source starts with "" (emulator plumbing, never a program rule).
CAPTURE_PATTERN: Final = json.dumps({"source": [{"prefix": ""}]})
MOTO_ONLY_EVENT_FIELDS: Final = ("ingestion-time",)
"""Fields moto adds to the events it delivers; EventBridge does not."""
IN_FLIGHT_SECONDS: Final = 43_200
"""What the pollers ask SQS for as visibility timeout (its maximum): the emulator itself makes a failed
message visible again when the queue's own timeout has passed on the virtual clock."""

HopFault = Callable[[str, Any, int], bool]
"""``(hop, what is delivered, attempt) -> fail?``; hops are named ``<kind>:<resource>``."""


def capture_queue_name(bus: str) -> str:
    """The queue a bus's catch-all rule writes to."""
    return f"emulator-capture-{bus}"


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt sequence of an event to a rule target."""

    rule: str
    target_arn: str
    event_id: str
    outcome: Literal["delivered", "dead-lettered"]
    attempts: int
    detail: str = ""


@dataclass(frozen=True)
class AsyncOutcome:
    """How Lambda finished one asynchronous event."""

    function: str
    event_id: str
    attempts: int
    succeeded: bool


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


# ---------------------------------------------------------------------------------------------------
# Records AWS writes
# ---------------------------------------------------------------------------------------------------


def dead_letter_attributes(
    rule_arn: str, target_arn: str, attempts: int, error: str, condition: str = "MaximumRetryAttempts"
) -> dict[str, Any]:
    """Message attributes EventBridge sets on an event it writes to a target's dead-letter queue.

    EventBridge user guide, "Using dead-letter queues to process undelivered events"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).

    Parameters
    ----------
    rule_arn, target_arn:
        The rule and the target that could not be reached.
    attempts:
        Delivery attempts made (the first one and its retries).
    error:
        The last error, ``"<code>: <message>"``.
    condition:
        What ended the retries: ``MaximumRetryAttempts`` or ``MaximumEventAgeInSeconds``.
    """
    code, _, message = error.partition(": ")
    values = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target_arn,
        "ERROR_CODE": code or "Unknown",
        "ERROR_MESSAGE": message or error or "delivery failed",
        "EXHAUSTED_RETRY_CONDITION": condition,
        "RETRY_ATTEMPTS": str(attempts - 1),
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


def destination_record(
    function_arn: str,
    request_id: str,
    attempts: int,
    event: Any,
    invocation: Invocation | None,
    condition: str,
    timestamp: float,
) -> dict[str, Any]:
    """The record Lambda sends an on-success or on-failure destination for an asynchronous event.

    Lambda developer guide, "Capturing records of Lambda asynchronous invocations"
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
    """
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    payload: Any = None
    if invocation is not None and not invocation.succeeded:
        response["functionError"] = "Unhandled"
        payload = {"errorType": invocation.error_type, "errorMessage": invocation.error_message}
    elif invocation is not None:
        payload = invocation.result
    return {
        "version": "1.0",
        "timestamp": datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response,
        "responsePayload": payload,
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends a function.

    Lambda developer guide, "Using Lambda with Amazon SQS" (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
    """
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


@functools.lru_cache(maxsize=256)
def _loaded_pattern(pattern: str) -> EventPattern:
    return EventPattern.load(pattern)


def event_matches(pattern: str, event: Mapping[str, Any]) -> bool:
    """Whether an EventBridge event pattern (JSON) matches an event, with the matcher moto's PutEvents uses.

    EventBridge user guide, "Amazon EventBridge event patterns"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html); where moto departs
    from it, ``tests/workflows/test_workflows_event_patterns.py`` records the case.
    """
    return bool(_loaded_pattern(pattern).matches_event(cast("EventMessageType", event)))


def _json_path(event: Any, path: str) -> Any:
    """The value at a simple JSONPath (``$``, ``$.a.b``, ``$.a[0]``) of an event, or None."""
    value = event
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$")):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, Mapping) else None
    return value


def transform_input(transformation: Mapping[str, Any], event: dict[str, Any]) -> Any:
    """What a target receives: the event, a constant ``Input``, an ``InputPath`` or an ``InputTransformer``.

    EventBridge user guide, "Amazon EventBridge input transformation"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
    """
    if "input" in transformation:
        return json.loads(str(transformation["input"]))
    if "inputPath" in transformation:
        return _json_path(event, str(transformation["inputPath"]))
    transformer = transformation.get("inputTransformer")
    if not transformer:
        return event
    values = {name: _json_path(event, str(path)) for name, path in (transformer.get("inputPaths") or {}).items()}
    template = str(transformer["inputTemplate"])

    # Inside a JSON string a value is inserted as text; outside one, as JSON (a string gets its quotes).
    pieces: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        char = template[position]
        variable = re.match(r"<([A-Za-z0-9_.-]+)>", template[position:]) if char == "<" else None
        if variable is not None and variable.group(1) in values:
            value = values[variable.group(1)]
            pieces.append(str(value) if in_string and isinstance(value, str) else json.dumps(value))
            position += len(variable.group(0))
            continue
        if in_string and not escaped and char == "\\":
            escaped = True
        else:
            in_string ^= char == '"' and not escaped
            escaped = False
        pieces.append(char)
        position += 1
    filled = "".join(pieces)
    try:
        return json.loads(filled)
    except ValueError:
        return filled


# ---------------------------------------------------------------------------------------------------
# Triggers
# ---------------------------------------------------------------------------------------------------


class Trigger:
    """One kind of delivery AWS makes by itself; the router polls every trigger each round.

    Subclasses build themselves from the recording (:meth:`build`) and deliver what is ready
    (:meth:`poll`), scheduling anything delayed on the router's clock.
    """

    kind: ClassVar[str] = ""

    def __init__(self, router: EventRouter) -> None:
        self.router = router

    @classmethod
    def build(cls, router: EventRouter) -> list[Trigger]:
        """The triggers of this kind the recorded program declares."""
        return [cls(router)]

    def poll(self) -> bool:
        """Deliver what is ready now; whether anything was done."""
        raise NotImplementedError


class BusRules(Trigger):
    """EventBridge: the events put on each bus, matched against the recorded rules, delivered to the targets.

    Retries follow the target's retry policy (:class:`~offline.emulator.semantics.TargetRetryPolicy`, waiting
    the whole backoff): once it gives up, the event goes to the target's dead-letter queue.
    """

    kind = "eventbridge"

    def poll(self) -> bool:
        """Route what the buses received since the last round."""
        router = self.router
        for bus, url in router.world.capture_queue_urls.items():
            for body in router.world.drain_queue(url):
                router.inbox.put_captured(bus, body)
        busy = False
        while (arrived := router.inbox.take()) is not None:
            busy = True
            self.route(*arrived)
        return busy

    def route(self, bus: str, event: dict[str, Any]) -> None:
        """Send one event through every recorded rule of ``bus`` whose pattern matches it."""
        router = self.router
        router.events.append((bus, event))
        arrived = router.clock.now()
        for rule in router.system.rules_on(bus):
            if not event_matches(rule.pattern, event):
                continue
            logger.info("%s on %s → rule %s", event.get("detail-type"), bus, rule.name)
            for target in rule.targets:
                for _ in range(router.deliveries_per_event):
                    self.attempt(rule, target, event, 1, arrived)
        # EventBridge does not wait for executions; waiting once per event lets the executions its copies
        # started run side by side, and keeps each event's effects before the next event's.
        join_interpreter_threads()

    def attempt(self, rule: RuleSpec, target: TargetSpec, event: dict[str, Any], attempt: int, arrived: float) -> None:
        """One delivery attempt; a retriable failure schedules the next one, an exhausted one dead-letters."""
        router = self.router
        try:
            if router.delivery_fault(rule, target, event, attempt) or router.fails(
                f"eventbridge:{rule.name}:{target.target_id}", event, attempt
            ):
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "injected delivery failure"}}, "Deliver"
                )
            router.send_to_target(target, transform_input(target.input_transformation, event))
        except ClientError as error:
            detail = f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}"
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
            code = str(error.response["Error"].get("Code"))
            retriable = status >= 500 or "Throttl" in code or code in {"ThrottlingException", "RequestThrottled"}
            following = target.retry_policy.after_failure(attempt, router.clock.now() - arrived, retriable=retriable)
            if following.delay is None:
                self.dead_letter(rule, target, event, attempt, detail, following.gave_up)
            else:
                router.clock.call_later(
                    following.delay, partial(self.attempt, rule, target, event, attempt + 1, arrived)
                )
            return
        router.deliveries.append(Delivery(rule.name, target.arn, event["id"], "delivered", attempt))

    def dead_letter(
        self, rule: RuleSpec, target: TargetSpec, event: dict[str, Any], attempts: int, error: str, condition: str
    ) -> None:
        """Give up on a target: record it and write the event to the target's dead-letter queue, if any."""
        router = self.router
        logger.warning("rule %s could not deliver to %s: %s", rule.name, target.arn, error)
        router.deliveries.append(Delivery(rule.name, target.arn, event["id"], "dead-lettered", attempts, error))
        if target.dead_letter_arn is None:
            return
        # EventBridge writes the event as the body and explains the failure in message attributes.
        router.world.sqs.send_message(
            QueueUrl=router.system.queue_by_arn(target.dead_letter_arn).url,
            MessageBody=json.dumps(event),
            MessageAttributes=dead_letter_attributes(rule.arn, target.arn, attempts, error, condition),
        )


@dataclass
class _AsyncEvent:
    spec: FunctionSpec
    event: Any
    attempts: int
    arrived: float
    request_id: str
    throttles: int = 0


class AsyncInvocations(Trigger):
    """Lambda's asynchronous invocations: the event queue, retries, maximum event age, destinations.

    Retries follow the function's :class:`~offline.emulator.semantics.AsyncRetryPolicy`; once it gives up,
    the record goes to the on-failure destination. A success goes to the on-success destination (Lambda
    developer guide, "Capturing records of Lambda asynchronous invocations").
    """

    kind = "lambda-async"

    def __init__(self, router: EventRouter) -> None:
        super().__init__(router)
        self.ready: deque[_AsyncEvent] = deque()
        self._lock = threading.Lock()

    def enqueue(self, spec: FunctionSpec, event: Any) -> None:
        """Lambda accepts an asynchronous invocation at once and runs it from its own queue."""
        with self._lock:
            self.ready.append(_AsyncEvent(spec, event, 0, self.router.clock.now(), str(uuid.uuid4())))

    def _requeue(self, queued: _AsyncEvent) -> None:
        with self._lock:
            self.ready.append(queued)

    def poll(self) -> bool:
        """Run every ready event at once (duplicates side by side); schedule the retries of failed ones."""
        with self._lock:
            batch = list(self.ready)
            self.ready.clear()
        if not batch:
            return False
        router = self.router
        outcomes = list(router.workers.map(self._invoke, batch))
        for queued, invocation in zip(batch, outcomes, strict=True):
            if invocation.succeeded:
                queued.attempts += 1
                self._finish(queued, invocation, "Success")
                continue
            policy = router.system.async_retry_policy(queued.spec.name)
            age = router.clock.now() - queued.arrived
            # A throttle (429) or a system error (5xx: the service lost the response) goes back to the queue
            # without using up an attempt.
            requeued = invocation.fault == "refused" or invocation.error_type == LAMBDA_SYSTEM_ERROR
            if requeued:
                queued.throttles += 1
                following = policy.after_throttle(queued.throttles, age)
            else:
                queued.attempts += 1
                following = policy.after_function_error(queued.attempts, age)
            if following.delay is None:
                # The destination record counts the requeued attempt that ended it.
                queued.attempts += requeued
                self._finish(queued, invocation, following.gave_up)
            else:
                router.clock.call_later(following.delay, partial(self._requeue, queued))
        return True

    def _invoke(self, queued: _AsyncEvent) -> Invocation:
        return self.router.runtime.invoke(queued.spec.name, queued.event, source="eventbridge")

    def _finish(self, queued: _AsyncEvent, invocation: Invocation, condition: str) -> None:
        router = self.router
        event_id = queued.event.get("id", "") if isinstance(queued.event, Mapping) else ""
        router.async_outcomes.append(AsyncOutcome(queued.spec.package, event_id, queued.attempts, invocation.succeeded))
        config = router.system.async_invokes.get(queued.spec.name)
        destination = None
        if config is not None:
            destination = config.on_success_destination if invocation.succeeded else config.on_failure_destination
        if destination is None:
            return
        record = destination_record(
            queued.spec.arn,
            queued.request_id,
            queued.attempts,
            queued.event,
            invocation,
            condition,
            router.clock.now(),
        )
        self.write_destination(destination, record, 1)

    def write_destination(self, destination: str, record: dict[str, Any], attempt: int) -> None:
        """Send a record to an SQS destination; a failed write is tried again a minute later."""
        router = self.router
        if ":sqs:" not in destination:
            raise NotImplementedError(f"destination {destination!r} is not an SQS queue")
        hop = f"destination:{destination.rsplit(':', 1)[-1]}"
        if router.fails(hop, record, attempt):
            router.clock.call_later(60.0, partial(self.write_destination, destination, record, attempt + 1))
            return
        router.world.sqs.send_message(
            QueueUrl=router.system.queue_by_arn(destination).url, MessageBody=json.dumps(record)
        )


class QueueMapping(Trigger):
    """An SQS event source mapping: Lambda's poller for one queue and function.

    Lambda developer guide, "Using Lambda with Amazon SQS" and "Handling errors for an SQS event source"
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html): batches of up to
    ``BatchSize``, gathered for up to ``MaximumBatchingWindowInSeconds``, at most ``MaximumConcurrency``
    at once; a failed batch (or the items a partial batch response names) stays on the queue and comes
    back when its visibility timeout ends; SQS moves it to the dead-letter queue after ``maxReceiveCount``.
    """

    kind = "sqs-poller"

    def __init__(self, router: EventRouter, consumer: QueueConsumerSpec) -> None:
        super().__init__(router)
        self.consumer = consumer
        self.queue: QueueSpec = router.system.queue_by_arn(consumer.queue_arn)
        self.hop = f"sqs-poller:{self.queue.name}"
        self.held: list[dict[str, Any]] = []
        self.window_ends: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, router: EventRouter) -> list[Trigger]:
        """One poller per recorded event source mapping."""
        return [cls(router, consumer) for consumer in router.system.queue_consumers]

    def _receive(self, count: int) -> list[dict[str, Any]]:
        return list(
            self.router.world.sqs.receive_message(
                QueueUrl=self.queue.url,
                MaxNumberOfMessages=min(count, 10),
                VisibilityTimeout=IN_FLIGHT_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def _window_closed(self) -> None:
        self.window_ends = None

    def poll(self) -> bool:
        """Gather batches, invoke the function with them side by side, settle each message."""
        router = self.router
        batch_size = self.consumer.batch_size
        concurrency = min(self.consumer.maximum_concurrency or CONCURRENCY, CONCURRENCY)
        busy = False
        while True:
            batches: list[list[dict[str, Any]]] = []
            while len(batches) < concurrency:
                batch, self.held = self.held, []
                while len(batch) < batch_size and (messages := self._receive(batch_size - len(batch))):
                    batch.extend(messages)
                if not batch:
                    break
                window = self.consumer.maximum_batching_window_seconds
                if len(batch) < batch_size and window > 0 and not batches:
                    # Lambda keeps gathering until the batch is full or the window has passed.
                    if self.window_ends is None:
                        self.window_ends = router.clock.now() + window
                        router.clock.call_at(self.window_ends, self._window_closed)
                        self.held = batch
                        return busy
                    if router.clock.now() < self.window_ends:
                        self.held = batch
                        return busy
                batches.append(batch)
                if len(batch) < batch_size:
                    break
            if not batches:
                return busy
            busy = True
            list(router.workers.map(self._consume, batches))

    def _consume(self, messages: list[dict[str, Any]]) -> None:
        router = self.router
        by_id = {message["MessageId"]: message for message in messages}
        if router.fails(self.hop, messages, 1):
            failed = set(by_id)
        else:
            records = [sqs_record(message, self.queue.arn, router.system.region) for message in messages]
            invocation = router.runtime.invoke(self.consumer.function_name, {"Records": records}, source="sqs")
            if not invocation.succeeded:
                failed = set(by_id)
            elif self.consumer.report_batch_item_failures:
                failures = (invocation.result or {}).get("batchItemFailures") or []
                failed = {str(item["itemIdentifier"]) for item in failures}
            else:
                failed = set()
        done = [message for message_id, message in by_id.items() if message_id not in failed]
        if done:
            router.world.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        returns_at = self.queue.redrive.visible_again_at(router.clock.now())
        for message_id in failed:
            # The message stays in flight until the queue's visibility timeout has passed, then comes back
            # (moto moves it to the dead-letter queue when it is received once more than maxReceiveCount).
            router.clock.call_at(returns_at, partial(self._make_visible, by_id[message_id]["ReceiptHandle"]))

    def _make_visible(self, receipt_handle: str) -> None:
        # A handle deleted meanwhile (an operator's purge or redrive) has nothing left to show.
        with contextlib.suppress(ClientError):
            self.router.world.sqs.change_message_visibility(
                QueueUrl=self.queue.url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
            )


class TopicSubscriptions(Trigger):
    """SNS: what the topics published, delivered to the recorded subscriptions.

    Amazon SNS developer guide, "Amazon SNS message filtering" and "Amazon SNS message delivery retries"
    (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html): a subscription's filter
    policy selects messages (on attributes or on the body); a failed delivery to an AWS-managed endpoint
    is retried (three times at once, then with backoff), then sent to the subscription's dead-letter queue.
    """

    kind = "sns"
    RETRY_DELAYS: Final = (0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0)

    def __init__(self, router: EventRouter) -> None:
        super().__init__(router)
        self.published: list[dict[str, Any]] = []
        """Every message the topics published (SNS envelopes), oldest first."""
        self.emailed: list[tuple[str, dict[str, Any]]] = []
        """Every e-mail delivery: (address, SNS envelope), oldest first."""
        self.matchers = {
            sub.arn: FilterPolicyMatcher(json.loads(sub.filter_policy), sub.filter_policy_scope)
            for sub in router.system.subscriptions
            if sub.filter_policy
        }

    def poll(self) -> bool:
        """Take what the topics published, deliver it to every subscription whose filter matches."""
        router = self.router
        url = router.world.notification_queue_url
        if not url:
            return False
        envelopes = [json.loads(body) for body in router.world.drain_queue(url)]
        for envelope in envelopes:
            self.published.append(envelope)
            for subscription in router.system.subscriptions:
                if subscription.topic_arn == envelope.get("TopicArn") and self._matches(subscription, envelope):
                    self.deliver(subscription, envelope, 1)
        return bool(envelopes) and bool(router.system.subscriptions)

    def _matches(self, subscription: SubscriptionSpec, envelope: Mapping[str, Any]) -> bool:
        matcher = self.matchers.get(subscription.arn)
        if matcher is None:
            return True
        attributes = {
            name: {"Type": value.get("Type"), "Value": value.get("Value")}
            for name, value in (envelope.get("MessageAttributes") or {}).items()
        }
        return matcher.matches(attributes, str(envelope.get("Message", "")))

    def deliver(self, subscription: SubscriptionSpec, envelope: dict[str, Any], attempt: int) -> None:
        """One delivery attempt to a subscription's endpoint."""
        router = self.router
        hop = f"sns:{subscription.topic_arn.rsplit(':', 1)[-1]}:{subscription.protocol}"
        try:
            if router.fails(hop, envelope, attempt):
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Deliver")
            if subscription.protocol == "sqs":
                body = envelope["Message"] if subscription.raw_message_delivery else json.dumps(envelope)
                router.world.sqs.send_message(
                    QueueUrl=router.system.queue_by_arn(subscription.endpoint).url, MessageBody=body
                )
            elif subscription.protocol == "lambda":
                record = {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn}
                spec = router.system.function_named(subscription.endpoint)
                router.asyncs.enqueue(spec, {"Records": [record | {"Sns": envelope}]})
            elif subscription.protocol in ("email", "email-json"):
                # The message leaves AWS here: kept for the tests, as the mailbox would receive it.
                self.emailed.append((subscription.endpoint, envelope))
            # Other protocols (https, sms) leave AWS: nothing to emulate.
        except ClientError:
            if attempt <= len(self.RETRY_DELAYS):
                router.clock.call_later(
                    self.RETRY_DELAYS[attempt - 1], partial(self.deliver, subscription, envelope, attempt + 1)
                )
            elif subscription.dead_letter_arn:
                router.world.sqs.send_message(
                    QueueUrl=router.system.queue_by_arn(subscription.dead_letter_arn).url,
                    MessageBody=json.dumps(envelope),
                )


class ObjectCreatedEvents(Trigger):
    """S3 → EventBridge: each ``Object Created`` event of a bucket with EventBridge notifications, on the default bus.

    Amazon S3 user guide, "Using EventBridge" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html):
    delivery is at least once; a failed hop is delivered again later (so it may also arrive twice).
    """

    kind = "s3-eventbridge"
    REDELIVERY_SECONDS: Final = 60.0

    def __init__(self, router: EventRouter) -> None:
        super().__init__(router)
        self.pending: deque[tuple[dict[str, Any], int]] = deque()
        self._lock = threading.Lock()

    def sink(self, event: dict[str, Any]) -> None:
        """Take one event from moto's S3 (any thread)."""
        with self._lock:
            self.pending.append((event, 1))

    def _again(self, event: dict[str, Any], attempt: int) -> None:
        with self._lock:
            self.pending.append((event, attempt))

    def poll(self) -> bool:
        """Put the pending events on the default bus; a faulted one comes again a minute later."""
        with self._lock:
            pending = list(self.pending)
            self.pending.clear()
        router = self.router
        for event, attempt in pending:
            if router.fails("s3-eventbridge:" + str(event["detail"]["bucket"]["name"]), event, attempt):
                router.clock.call_later(self.REDELIVERY_SECONDS, partial(self._again, event, attempt + 1))
            else:
                router.inbox.put(DEFAULT_BUS_NAME, event)
        return bool(pending)


DEFAULT_BUS_NAME: Final = "default"

TRIGGERS: Final[tuple[type[Trigger], ...]] = (
    ObjectCreatedEvents,
    BusRules,
    AsyncInvocations,
    QueueMapping,
    TopicSubscriptions,
)
"""Every trigger kind, in the order a round polls them."""


# ---------------------------------------------------------------------------------------------------
# The router
# ---------------------------------------------------------------------------------------------------


class EventRouter:
    """Runs every trigger of the recorded program, on the emulator's virtual clock.

    Parameters
    ----------
    world:
        The running emulator (clients, runtime, clock).
    deliveries_per_event:
        How many times every matched target receives each event (EventBridge delivers at least once;
        2 makes every delivery a duplicate).
    """

    def __init__(self, world: Emulator, deliveries_per_event: int = 1) -> None:
        if deliveries_per_event < 1:
            raise ValueError(f"deliveries_per_event must be >= 1, got {deliveries_per_event}")
        self.world = world
        self.system = world.system
        self.runtime = world.runtime
        self.clock = world.clock
        self.deliveries_per_event = deliveries_per_event
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.deliveries: list[Delivery] = []
        self.async_outcomes: list[AsyncOutcome] = []
        self.delivery_fault: Callable[[RuleSpec, TargetSpec, dict[str, Any], int], bool] = lambda *_: False
        self.hop_fault: HopFault = lambda *_: False
        self.faulted_hops: Counter[str] = Counter()
        """Hop → how many deliveries on it were failed by :attr:`hop_fault`."""
        self.hop_deliveries: Counter[str] = Counter()
        """Hop → how many deliveries were attempted on it (faulted or not)."""
        self.inbox = BusInbox(self.system.account)
        self.workers = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="emulator-worker")
        self.triggers: list[Trigger] = [trigger for kind in TRIGGERS for trigger in kind.build(self)]
        self.s3 = next(t for t in self.triggers if isinstance(t, ObjectCreatedEvents))
        self.rules = next(t for t in self.triggers if isinstance(t, BusRules))
        self.asyncs = next(t for t in self.triggers if isinstance(t, AsyncInvocations))
        self.topics = next(t for t in self.triggers if isinstance(t, TopicSubscriptions))
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the worker threads (once the emulator is done)."""
        self.workers.shutdown(wait=True)

    def fails(self, hop: str, delivered: Any, attempt: int) -> bool:
        """Whether the fault hook fails this delivery on ``hop`` (and count it when it does)."""
        with self._lock:
            self.hop_deliveries[hop] += 1
        if not self.hop_fault(hop, delivered, attempt):
            return False
        with self._lock:
            self.faulted_hops[hop] += 1
        return True

    # ---- entry points -------------------------------------------------------------------------

    def accept(self, bus: str, event: dict[str, Any]) -> None:
        """Take an event onto a bus (used for events AWS services emit)."""
        self.inbox.put(bus, event)

    def route(self, bus: str, event: dict[str, Any]) -> None:
        """Send one event through every recorded rule of ``bus`` whose pattern matches it."""
        self.rules.route(bus, event)

    def pump_once(self) -> bool:
        """One round: every trigger delivers what is ready, then every timer due now runs; whether any did."""
        busy = False
        for trigger in self.triggers:
            busy |= trigger.poll()
        busy |= self.clock.run_due()
        return busy

    def pump(self, max_rounds: int = 10_000) -> None:
        """Deliver, invoke and poll until nothing is left to do, letting virtual time pass when idle.

        Raises
        ------
        RuntimeError
            When work is still being produced after ``max_rounds`` rounds (a routing loop).
        """
        for _ in range(max_rounds):
            waited = join_interpreter_threads()
            busy = self.pump_once()
            # An execution still running when the buses were drained may have put events since.
            waited |= join_interpreter_threads()
            if busy or waited:
                continue
            if not self.clock.skip_to_next():
                return
        raise RuntimeError(f"the emulator was still busy after {max_rounds} rounds")

    # ---- targets ------------------------------------------------------------------------------

    def send_to_target(self, target: TargetSpec, payload: Any) -> None:
        """Deliver one event to a rule target, as EventBridge calls each target kind."""
        service = target.arn.split(":")[2]
        if service == "states":
            self.world.sfn.start_execution(
                stateMachineArn=target.arn, name=str(uuid.uuid4()), input=json.dumps(payload, separators=(",", ":"))
            )
        elif service == "lambda":
            self.asyncs.enqueue(self.system.function_named(target.arn), payload)
        elif service == "sqs":
            queue = self.system.queue_by_arn(target.arn)
            self.world.sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps(payload))
        elif service == "sns":
            # EventBridge user guide, "Event bus targets" (https://docs.aws.amazon.com/eventbridge/latest/userguide/
            # eb-targets.html): the event, or its transformed input, is published as the message; a JSON object
            # arrives as its JSON text, a text template as the text.
            message = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
            self.world.sns.publish(TopicArn=target.arn, Message=message)
        elif service == "events" and ":event-bus/" in target.arn:
            # Same account and region: the event arrives on the target bus unchanged.
            self.accept(target.arn.rsplit("/", 1)[-1], payload)
        else:
            raise NotImplementedError(f"no delivery to target {target.arn!r}")
