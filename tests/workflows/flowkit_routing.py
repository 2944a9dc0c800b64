"""EventBridge, Lambda's asynchronous invocations and SQS pollers, and the HTTP API, from the recording.

:class:`EventRouter` takes the events put on each bus, matches them against the recorded rules with
moto's own matcher (``EventPattern.load(...).matches_event``, the code moto's PutEvents routes with) and
delivers them to the recorded targets with their retry policies and dead-letter queues: StartExecution
with the event as the execution input, Lambda asynchronous invoke with its retries and on-failure
destination, SQS SendMessage, another bus. SQS event source mappings are polled with partial batch
responses and redrive. :class:`HttpApiGateway` turns a request into the payload 2.0 event of the
recorded route, after the JWT authorizer's verdict.

Work runs concurrently where AWS runs it concurrently: the copies of one event delivered to a state
machine start executions side by side; Lambda runs the asynchronous events it holds at the same time
(duplicates included) and a failed one again only later, after a delay; SQS pollers invoke the consumer
with several batches at once.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from local.events import BusInbox, dead_letter_attributes, on_failure_record, sqs_record
from tests.workflows.flowkit_lambda import FunctionSpec, Invocation
from tests.workflows.flowkit_moto import join_interpreter_threads
from tests.workflows.flowkit_recording import QueueConsumerSpec, QueueSpec, RouteSpec, RuleSpec, TargetSpec

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

    from tests.workflows.flowkit import OrderFlow

# Concurrent Lambda invocations and SQS batches at a time (enough to overlap duplicates, few on 2 cores).
CONCURRENCY: Final = 4


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


class EventRouter:
    """EventBridge rules and targets, Lambda async invocations and SQS pollers, from the recording.

    Parameters
    ----------
    flow:
        The running flow (clients and runtime).
    deliveries_per_event:
        How many times every matched target receives each event (EventBridge delivers at least once;
        2 makes every delivery a duplicate).
    """

    def __init__(self, flow: OrderFlow, deliveries_per_event: int = 1) -> None:
        if deliveries_per_event < 1:
            raise ValueError(f"deliveries_per_event must be >= 1, got {deliveries_per_event}")
        self.flow = flow
        self.system = flow.system
        self.deliveries_per_event = deliveries_per_event
        self.patterns = {rule.arn: EventPattern.load(rule.pattern) for rule in self.system.rules}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.deliveries: list[Delivery] = []
        self.async_outcomes: list[AsyncOutcome] = []
        self.delivery_fault: Callable[[RuleSpec, TargetSpec, dict[str, Any], int], bool] = lambda *_: False
        self.inbox = BusInbox(self.system.account)
        # (function, event, attempts so far): Lambda's queue of asynchronous events.
        self._async: deque[tuple[FunctionSpec, dict[str, Any], int]] = deque()
        self._workers = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="flowkit-worker")

    def close(self) -> None:
        """Stop the worker threads (once the flow is done)."""
        self._workers.shutdown(wait=True)

    # ---- entry points -------------------------------------------------------------------------

    def accept(self, bus: str, event: dict[str, Any]) -> None:
        """Take an event onto a bus (used for events AWS services emit, such as S3's)."""
        self.inbox.put(bus, event)

    def pump(self, max_rounds: int = 10_000) -> None:
        """Deliver, invoke and poll until nothing is left to do and no execution runs.

        Raises
        ------
        RuntimeError
            When work is still being produced after ``max_rounds`` rounds (a routing loop).
        """
        for _ in range(max_rounds):
            waited = join_interpreter_threads()
            busy = self._drain_buses()
            busy |= self._run_async_invocations()
            busy |= self._poll_queue_consumers()
            self.flow.collect_notifications()
            # An execution still running when the buses were drained may have put events since.
            waited |= join_interpreter_threads()
            if not busy and not waited:
                return
        raise RuntimeError(f"the flow was still busy after {max_rounds} rounds")

    # ---- buses --------------------------------------------------------------------------------

    def _drain_buses(self) -> bool:
        busy = False
        for bus, url in self.flow.capture_queue_urls.items():
            for body in self.flow.drain_queue(url):
                self.inbox.put_captured(bus, body)
        while (arrived := self.inbox.take()) is not None:
            busy = True
            self.route(*arrived)
        return busy

    def route(self, bus: str, event: dict[str, Any]) -> None:
        """Send one event through every recorded rule of ``bus`` whose pattern matches it."""
        self.events.append((bus, event))
        for rule in self.system.rules_on(bus):
            if not self.patterns[rule.arn].matches_event(cast("EventMessageType", event)):
                continue
            for target in rule.targets:
                if target.input_transformation:
                    raise NotImplementedError(
                        f"rule {rule.name!r} target {target.target_id!r} transforms its input "
                        f"({sorted(target.input_transformation)}); the router delivers whole events only"
                    )
                for copy in range(self.deliveries_per_event):
                    self._deliver(rule, target, event, copy)
        # EventBridge does not wait for executions; waiting once per event lets the executions its copies
        # started run side by side, and keeps each event's effects before the next event's.
        join_interpreter_threads()

    def _deliver(self, rule: RuleSpec, target: TargetSpec, event: dict[str, Any], copy: int) -> None:
        attempts = 0
        last_error = ""
        while attempts <= target.maximum_retry_attempts:
            attempts += 1
            try:
                if self.delivery_fault(rule, target, event, attempts):
                    raise _InjectedDeliveryError("ThrottlingException: injected delivery failure")
                self._send_to_target(target, event)
            except (ClientError, _InjectedDeliveryError) as error:
                last_error = str(error)
                continue
            self.deliveries.append(Delivery(rule.name, target.arn, event["id"], "delivered", attempts))
            return
        self._dead_letter(rule, target, event, attempts, last_error)

    def _send_to_target(self, target: TargetSpec, event: dict[str, Any]) -> None:
        service = target.arn.split(":")[2]
        if service == "states":
            self.flow.sfn.start_execution(
                stateMachineArn=target.arn, name=str(uuid.uuid4()), input=json.dumps(event, separators=(",", ":"))
            )
        elif service == "lambda":
            # Lambda accepts an asynchronous invocation at once and runs it from its own queue.
            self._async.append((self.system.function_named(target.arn), event, 0))
        elif service == "sqs":
            queue = self.system.queue_by_arn(target.arn)
            self.flow.sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps(event))
        elif service == "events" and ":event-bus/" in target.arn:
            # Same account and region: the event arrives on the target bus unchanged.
            self.accept(target.arn.rsplit("/", 1)[-1], event)
        else:
            raise NotImplementedError(f"no delivery to target {target.arn!r}")

    def _dead_letter(
        self, rule: RuleSpec, target: TargetSpec, event: dict[str, Any], attempts: int, error: str
    ) -> None:
        self.deliveries.append(Delivery(rule.name, target.arn, event["id"], "dead-lettered", attempts, error))
        if target.dead_letter_arn is None:
            return
        queue = self.system.queue_by_arn(target.dead_letter_arn)
        # EventBridge writes the event as the body and explains the failure in message attributes.
        self.flow.sqs.send_message(
            QueueUrl=queue.url,
            MessageBody=json.dumps(event),
            MessageAttributes=dead_letter_attributes(rule.arn, target.arn, attempts, error),
        )

    # ---- Lambda asynchronous invocations ----------------------------------------------------------

    def _run_async_invocations(self) -> bool:
        """Run every queued asynchronous event at once; a failed one goes back to the queue for later.

        Lambda retries a failed asynchronous event after a delay (a minute, then two), so here a retry
        runs in a later round, after what ran beside it has finished.
        """
        if not self._async:
            return False
        batch = list(self._async)
        self._async.clear()
        outcomes = list(self._workers.map(self._invoke_async, batch))
        for (spec, event, attempts), invocation in zip(batch, outcomes, strict=True):
            config = self.system.async_invokes.get(spec.name)
            # Lambda's default for asynchronous invocations: two retries.
            retries = config.maximum_retry_attempts if config else 2
            if not invocation.succeeded and attempts < retries:
                self._async.append((spec, event, attempts + 1))
                continue
            self.async_outcomes.append(
                AsyncOutcome(spec.package, event.get("id", ""), attempts + 1, invocation.succeeded)
            )
            if not invocation.succeeded and config and config.on_failure_destination:
                self._on_failure(spec, config.on_failure_destination, event, invocation, attempts + 1)
        return True

    def _invoke_async(self, queued: tuple[FunctionSpec, dict[str, Any], int]) -> Invocation:
        spec, event, _ = queued
        return self.flow.runtime.invoke(spec.name, event, source="eventbridge")

    def _on_failure(
        self, spec: FunctionSpec, destination: str, event: dict[str, Any], invocation: Invocation, attempts: int
    ) -> None:
        if ":sqs:" not in destination:
            raise NotImplementedError(f"on-failure destination {destination!r} is not an SQS queue")
        record = on_failure_record(
            spec.arn, str(uuid.uuid4()), attempts, event, invocation.error_type, invocation.error_message
        )
        self.flow.sqs.send_message(QueueUrl=self.system.queue_by_arn(destination).url, MessageBody=json.dumps(record))

    # ---- SQS event source mappings ------------------------------------------------------------

    def _poll_queue_consumers(self) -> bool:
        busy = False
        for consumer in self.system.queue_consumers:
            queue = self.system.queue_by_arn(consumer.queue_arn)
            batch_size = min(consumer.batch_size, 10)
            while True:
                # Lambda's pollers hand the function several batches at once (another one only when this
                # one came full: the queue may hold more).
                batches: list[list[dict[str, Any]]] = []
                while len(batches) < CONCURRENCY and (not batches or len(batches[-1]) == batch_size):
                    messages = self.flow.sqs.receive_message(
                        QueueUrl=queue.url,
                        MaxNumberOfMessages=batch_size,
                        VisibilityTimeout=queue.visibility_timeout_seconds,
                        AttributeNames=["All"],
                        MessageAttributeNames=["All"],
                    ).get("Messages", [])
                    if not messages:
                        break
                    batches.append(messages)
                if not batches:
                    break
                busy = True
                list(self._workers.map(partial(self._consume, consumer, queue), batches))
        return busy

    def _consume(self, consumer: QueueConsumerSpec, queue: QueueSpec, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(message, queue.arn, self.system.region) for message in messages]}
        invocation = self.flow.runtime.invoke(consumer.function_name, event, source="sqs")
        by_id = {message["MessageId"]: message for message in messages}
        if not invocation.succeeded:
            failed = set(by_id)
        elif consumer.report_batch_item_failures:
            failures = (invocation.result or {}).get("batchItemFailures") or []
            failed = {str(item["itemIdentifier"]) for item in failures}
        else:
            failed = set()
        done = [message for message_id, message in by_id.items() if message_id not in failed]
        if done:
            self.flow.sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message_id in failed:
            # The visibility timeout would return the message later; no test waits that long.
            self.flow.sqs.change_message_visibility(
                QueueUrl=queue.url, ReceiptHandle=by_id[message_id]["ReceiptHandle"], VisibilityTimeout=0
            )


class _InjectedDeliveryError(Exception):
    """An injected target delivery failure."""


# ---------------------------------------------------------------------------------------------------
# HTTP API
# ---------------------------------------------------------------------------------------------------


class HttpApiGateway:
    """The recorded HTTP API: route matching, the JWT authorizer's verdict, payload 2.0 events.

    The authorizer itself is AWS-managed: a request is let through when its claims carry the recorded
    issuer and one of the recorded audiences (``client_id`` for Cognito access tokens), as API Gateway
    would after verifying the token's signature.
    """

    def __init__(self, flow: OrderFlow) -> None:
        self.flow = flow
        self.routes = flow.system.routes

    def request(
        self,
        method: str,
        path: str,
        *,
        claims: Mapping[str, Any] | None,
        body: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request; returns the HTTP response as API Gateway gives it (``statusCode``, ``body``...).

        Raises
        ------
        LookupError
            When no recorded route matches ``method`` and ``path``.
        """
        route, path_parameters = self._match(method, path)
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
        if route.authorization_type == "JWT" and not self._authorized(route, claims):
            return {
                "statusCode": 401,
                "headers": {"apigw-requestid": request_id, "www-authenticate": "Bearer"},
                "body": json.dumps({"message": "Unauthorized"}),
            }
        raw_body = json.dumps(body) if isinstance(body, Mapping) else body
        now = datetime.now(UTC)
        event = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": self.flow.system.api_domain}
            | {name.lower(): value for name, value in (headers or {}).items()},
            "requestContext": {
                "accountId": self.flow.system.account,
                "apiId": self.flow.system.api_domain.split(".", 1)[0],
                "authorizer": {"jwt": {"claims": dict(claims or {}), "scopes": None}},
                "domainName": self.flow.system.api_domain,
                "domainPrefix": self.flow.system.api_domain.split(".", 1)[0],
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.10",
                    "userAgent": "flowkit",
                },
                "requestId": request_id,
                "routeKey": route.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "body": raw_body,
            "isBase64Encoded": False,
        }
        if path_parameters:
            event["pathParameters"] = path_parameters
        invocation = self.flow.runtime.invoke(route.function_name, event, source="apigateway")
        response: dict[str, Any]
        if not invocation.succeeded:
            # A function error reaches the client as API Gateway's generic 500.
            response = {"statusCode": 500, "headers": {}, "body": json.dumps({"message": "Internal Server Error"})}
        else:
            response = dict(invocation.result)
        # HTTP APIs name the request in every response, as the correlation id handlers fall back to.
        response["headers"] = {**(response.get("headers") or {}), "apigw-requestid": request_id}
        return response

    def _match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]]:
        segments = path.strip("/").split("/")
        for route in self.routes:
            route_method, _, route_path = route.route_key.partition(" ")
            if route_method != method:
                continue
            pattern = route_path.strip("/").split("/")
            if len(pattern) != len(segments):
                continue
            parameters = {}
            for expected, actual in zip(pattern, segments, strict=True):
                if expected.startswith("{") and expected.endswith("}"):
                    parameters[expected[1:-1]] = actual
                elif expected != actual:
                    break
            else:
                return route, parameters
        raise LookupError(f"no recorded route for {method} {path}")

    @staticmethod
    def _authorized(route: RouteSpec, claims: Mapping[str, Any] | None) -> bool:
        if not claims or claims.get("iss") != route.jwt_issuer:
            return False
        audience = claims.get("aud")
        audiences = {claims.get("client_id"), *(audience if isinstance(audience, list) else [audience])}
        return bool(audiences & set(route.jwt_audiences))
