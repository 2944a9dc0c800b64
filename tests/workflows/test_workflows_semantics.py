"""One definition of each AWS rule (``offline/emulator/semantics.py``), as the emulator and ``make burst`` see it.

The emulator applies a rule to one event on its virtual clock; ``make burst`` applies it to tens of
thousands in its discrete-event simulation (:func:`offline.burst.through_retries`). Each test below drives
both with the recorded dev stack's settings and compares when the attempts come and how they end.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from offline import burst
from offline.emulator.api import HttpApi
from offline.emulator.semantics import (
    AsyncRetryPolicy,
    NextAttempt,
    QueueRedrive,
    TargetRetryPolicy,
    TaskRetrier,
    TokenBucket,
    within_reserved_concurrency,
)
from offline.recording import ProgramRun
from orderflow.workflows import TRANSIENT_DEPENDENCY_ERROR, FulfillmentStates
from tests.workflows.flowkit import FaultInjector, FaultKind, OrderFlow, RecordedSystem, running_flow
from tests.workflows.flowkit_orders import claims_for, new_customer, place_order, retrier_for

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


class AttemptClock(FaultInjector):
    """Injects nothing; notes the virtual time of every invocation of one function (throttled ones too)."""

    def __init__(self, flow: OrderFlow, package: str) -> None:
        self.flow, self.package, self.times = flow, package, list[float]()

    def decide(self, package: str, event: Any) -> FaultKind | None:
        if package == self.package:
            self.times.append(self.flow.clock.now())
        return None


def burst_attempt_times(next_attempt: burst.NextAttemptOf) -> tuple[list[float], burst.StageResult]:
    """When ``make burst`` tries one item that is refused every time, and how its stage ends."""
    times: list[float] = []

    def refused(t: float) -> tuple[bool, float]:
        times.append(t)
        return False, 0.0

    stage = burst.StageResult("one item", "test", "")
    burst.through_retries(stage, [(0.0, 0)], refused, next_attempt, {}, "parked")
    return times, stage


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]


@pytest.fixture(scope="module")
def notify_throttled(system: RecordedSystem) -> Iterator[OrderFlow]:
    """The dev stack with ``notify`` at reserved concurrency 0: Lambda throttles every invocation."""
    notify = system.function("notify")
    functions = dict(system.functions) | {notify.name: dataclasses.replace(notify, reserved_concurrency=0)}
    with running_flow(dataclasses.replace(system, functions=functions)) as flow:
        yield flow


def test_a_throttled_async_event_is_retried_on_one_schedule_until_its_maximum_event_age(
    notify_throttled: OrderFlow,
) -> None:
    flow = notify_throttled
    notify = flow.system.function("notify")
    policy = flow.system.async_retry_policy(notify.name)
    config = flow.system.async_invokes[notify.name]
    assert policy == AsyncRetryPolicy(config.maximum_retry_attempts, config.maximum_event_age_seconds)
    attempts = AttemptClock(flow, "notify")
    flow.runtime.faults = attempts

    flow.router.asyncs.enqueue(notify, {"id": "throttled-event", "detail": {}})
    flow.router.pump()

    burst_times, stage = burst_attempt_times(policy.after_throttle)
    # 1 s doubling to 5 minutes, then every 5 minutes, until the next wait would pass the maximum event age.
    assert gaps(attempts.times)[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert gaps(attempts.times) == gaps(burst_times)
    assert attempts.times[-1] - attempts.times[0] + 300 > policy.maximum_event_age_seconds
    failures = flow.peek_queue(flow.system.queue_by_arn(str(config.on_failure_destination)).name)
    [record] = [m["body"] for m in failures if m["body"]["requestPayload"]["id"] == "throttled-event"]
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert (stage.throttled, stage.to_failure_path) == (len(burst_times), 1)


def test_a_failing_rule_target_is_retried_on_one_schedule_then_dead_lettered(notify_throttled: OrderFlow) -> None:
    flow = notify_throttled
    rule = next(r for r in flow.system.rules if r.name.endswith("order-placed"))
    target = rule.targets[0]
    times: list[float] = []

    def failing(failing_rule: Any, *_: Any) -> bool:
        if failing_rule.name == rule.name:
            times.append(flow.clock.now())
        return bool(failing_rule.name == rule.name)

    flow.router.delivery_fault = failing
    try:
        place_order(flow, new_customer(), {"MUG-BLK": 1})
    finally:
        flow.router.delivery_fault = lambda *_: False

    rng = random.Random(1)
    burst_times, stage = burst_attempt_times(lambda n, age: target.retry_policy.after_failure(n, age, rng=rng))
    assert len(times) == len(burst_times) == target.maximum_retry_attempts + 1
    # The emulator waits the whole backoff; the burst draws its jitter below it.
    assert gaps(times) == [TargetRetryPolicy.backoff(n) for n in range(1, len(times))]
    assert all(0 <= drawn <= ceiling for drawn, ceiling in zip(gaps(burst_times), gaps(times), strict=True))
    [dead] = [d for d in flow.router.deliveries if d.rule == rule.name]
    assert (dead.outcome, dead.attempts) == ("dead-lettered", len(times)) and stage.to_failure_path == 1


def test_a_throttled_task_is_retried_by_its_retrier_in_the_interpreter_and_in_the_burst(
    notify_throttled: OrderFlow, recorded_program: ProgramRun
) -> None:
    flow = notify_throttled
    shipment = flow.system.function("create_shipment")
    declared = retrier_for(
        flow.system.machine("fulfillment-steps").document, FulfillmentStates.CREATE_SHIPMENT, TRANSIENT_DEPENDENCY_ERROR
    )
    found = burst._task_retry(recorded_program, shipment.arn, "FunctionName")
    assert found is not None
    retrier, failure_path, _ = found
    assert retrier == TaskRetrier.from_asl(declared)
    flow.seams.retry_clock.clear()
    flow.runtime.throttle("create_shipment", "GetItem", times=retrier.max_attempts + 1)

    place_order(flow, new_customer(), {"CAP-01": 1})

    rng = random.Random(1)
    burst_times, stage = burst_attempt_times(lambda n, _age: retrier.after_failure(n, rng))
    ceilings = [retrier.ceiling(n) for n in range(1, retrier.max_attempts + 1)]
    # moto's interpreter waited each ceiling (drawing its jitter below it); so does the burst.
    assert [wait.ceiling for wait in flow.seams.retry_clock.waits] == ceilings
    assert len(burst_times) == retrier.max_attempts + 1 and stage.to_failure_path == 1
    assert all(0 <= drawn <= ceiling for drawn, ceiling in zip(gaps(burst_times), ceilings, strict=True))
    assert "Catch" in failure_path


def test_a_poison_message_is_received_until_max_receive_count_then_dead_lettered(notify_throttled: OrderFlow) -> None:
    flow = notify_throttled
    consumer = flow.system.queue_consumers[0]
    queue = flow.system.queue_by_arn(consumer.queue_arn)
    redrive = queue.redrive
    assert redrive == QueueRedrive(queue.visibility_timeout_seconds, queue.max_receive_count)
    attempts = AttemptClock(flow, flow.system.function_named(consumer.function_name).package)
    flow.runtime.faults = attempts

    flow.sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"not": "an EventBridge event"}))
    flow.router.pump()

    receives = len(attempts.times)
    assert redrive.dead_letters_after(receives) and not redrive.dead_letters_after(receives - 1)
    for earlier, later in itertools.pairwise(attempts.times):
        # Visible again when the timeout ends; the poller then gathers for at most its batching window.
        returned = redrive.visible_again_at(earlier)
        assert returned <= later <= returned + consumer.maximum_batching_window_seconds
    # make burst: a message whose batch is refused every time is received as often, a timeout apart.
    burst_receives, processed = burst.received(redrive, attempts.times[0], lambda: True)
    assert len(burst_receives) == receives and not processed
    assert gaps(burst_receives) == [queue.visibility_timeout_seconds] * (receives - 1)
    dead_letters = flow.peek_queue(flow.system.queue_by_arn(str(queue.dead_letter_arn)).name)
    assert [m["body"] for m in dead_letters if m["body"] == {"not": "an EventBridge event"}] == [
        {"not": "an EventBridge event"}
    ]


def test_the_api_and_the_burst_throttle_routes_with_one_token_bucket(notify_throttled: OrderFlow) -> None:
    flow = notify_throttled
    system = dataclasses.replace(flow.system, throttle_burst=3, throttle_rate=2.0)
    api = HttpApi(system, flow.runtime, flow.clock.now)
    bucket = TokenBucket(system.throttle_rate, system.throttle_burst, start=flow.clock.now())
    claims = claims_for(system, new_customer(), "GET /orders/{orderId}")
    verdicts, expected = [], []
    for wait in (0, 0, 0, 0, 0.25, 0.25, 0.5, 0, 2, 0, 0, 0, 0):
        flow.clock.advance(wait)
        status = api.request("GET", "/orders/none", claims=claims)["statusCode"]
        verdicts.append(status != 429)
        expected.append(bucket.take(flow.clock.now()))

    assert verdicts == expected
    # The burst, then the rate: three at once, one per half second, three again after a long pause.
    assert verdicts == [True, True, True, False, False, True, True, False, True, True, True, False, False]


def test_reserved_concurrency_admits_up_to_the_reservation_and_none_without_one() -> None:
    assert within_reserved_concurrency(0, None) and within_reserved_concurrency(10_000, None)
    assert within_reserved_concurrency(1, 2) and not within_reserved_concurrency(2, 2)
    assert not within_reserved_concurrency(0, 0)


def test_async_function_errors_wait_one_then_two_minutes_and_never_outlive_the_event_age() -> None:
    policy = AsyncRetryPolicy(maximum_retry_attempts=2, maximum_event_age_seconds=150)
    assert policy.after_function_error(1, 0) == NextAttempt(60.0)
    assert policy.after_function_error(2, 60) == NextAttempt(None, "EventAgeExceeded")
    assert AsyncRetryPolicy().after_function_error(2, 60) == NextAttempt(120.0)
    assert AsyncRetryPolicy().after_function_error(3, 180) == NextAttempt(None, "RetriesExhausted")


def test_a_target_error_eventbridge_does_not_retry_goes_straight_to_the_dead_letter_queue() -> None:
    policy = TargetRetryPolicy(maximum_retry_attempts=3, maximum_event_age_seconds=60)
    assert policy.after_failure(1, 0, retriable=False) == NextAttempt(None, "MaximumRetryAttempts")
    assert policy.after_failure(4, 0) == NextAttempt(None, "MaximumRetryAttempts")
    assert policy.after_failure(3, 57) == NextAttempt(None, "MaximumEventAgeInSeconds")
    assert policy.after_failure(3, 0) == NextAttempt(4.0)


def test_the_token_bucket_slows_a_waiting_caller_down_to_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=1)
    assert [bucket.wait(0.0) for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    assert not bucket.take(1.5) and bucket.take(2.0)
