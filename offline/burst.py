"""``make burst``: a seeded discrete-event simulation of a traffic burst through a recorded stack.

The stages are the hops ``make capacity`` finds (:func:`offline.capacity.analyse`), in the order the
order meets them, each with the ceiling the program configures or AWS imposes and with the failure
behaviour AWS has there:

* the **edge** (route throttling, a token bucket of rate and burst) and the **entry function**
  (reserved concurrency): a refused request is a 429/5xx the page retries with backoff and jitter
  (``page.clientRetry`` of the profile); a page that gives up never placed its order (*refused*);
* a **workflow start** (StartExecution token bucket): EXPRESS starts by an EventBridge rule are retried
  with the target's recorded RetryPolicy, then land on the rule's DLQ; STANDARD starts by a Task are
  retried with that Task's recorded Retry, then its Catch parks the order;
* **STANDARD state transitions** (an account token bucket): throttled executions are slowed down;
* a **function called by a Task** (reserved concurrency): a throttle is retried with the Task's
  recorded Retry (``Lambda.TooManyRequestsException``), then its Catch compensates the order;
* an **asynchronous function** (reserved concurrency): Lambda queues the events and drops those older
  than the recorded maximum event age to the on-failure destination;
* an **SQS consumer** (maximum concurrency, batch size): messages wait in the queue; when the pollers
  may fetch more than the function may run, throttled batches count towards ``maxReceiveCount``;
* an **e-mail subscription** (10 deliveries/s): deliveries wait.

Each stage takes the completions of the stage before it (a tandem of queues: dependencies between
side branches are not modelled). An item that exhausts a stage with no failure path is *lost*.

The AWS rules themselves (token buckets, reserved-concurrency throttling, Lambda's asynchronous retries,
EventBridge's target retries, Step Functions Retriers, SQS visibility timeout and ``maxReceiveCount``) are
the emulator's (:mod:`offline.emulator.semantics`), read from the recording as the emulator reads it
(:class:`~offline.emulator.recorded.RecordedSystem`); only which Task calls a hop, and its Catch, are
found here.

Deterministic for a seed; 60 s of 10 x 100 orders/s runs in seconds.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

from offline.capacity import Hop, Report, analyse, positive_number, quotas
from offline.emulator.recorded import FunctionSpec, RecordedSystem, RecordingError
from offline.emulator.semantics import (
    NextAttempt,
    QueueRedrive,
    TargetRetryPolicy,
    TaskRetrier,
    TokenBucket,
    within_reserved_concurrency,
)
from offline.harness import StackNotFoundError, run_program
from offline.order_path import DEFAULT_PROFILE, STATE_MACHINE, Profile, ProfileError, load_profile
from offline.recording import ProgramRun, RecordedResource

CHAIN_KINDS: Final = ("api-route", "lambda-sync", "sfn-start-express", "sfn-start-standard", "sfn-transitions")
FAN_OUT_KINDS: Final = ("lambda-async", "lambda-queue", "sns-email")
THROTTLE_ERRORS: Final = ("Lambda.TooManyRequestsException", "States.TaskFailed", "States.ALL")


@dataclass(frozen=True)
class Retry:
    """The page's retries of a refused request: attempts after the first, backoff with full jitter, a cap."""

    attempts: int
    interval: float
    rate: float
    cap: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before retry ``attempt`` (1-based)."""
        return rng.uniform(0, min(self.cap, self.interval * self.rate ** (attempt - 1)))


NO_RETRY: Final = TaskRetrier(max_attempts=0)
"""A Task with no Retrier for throttling: the first throttle fails it."""

NextAttemptOf = Callable[[int, float], NextAttempt]
"""``(failed attempts so far, seconds since the first) -> the next attempt``: one AWS retry rule."""


@dataclass
class StageResult:
    """What happened at one stage."""

    name: str
    kind: str
    ceiling: str
    arrived: int = 0
    passed: int = 0
    throttled: int = 0
    to_failure_path: int = 0
    lost: int = 0
    refused: int = 0
    max_wait: float = 0.0
    backlog_peak: int = 0
    failure_path: str = ""


@dataclass
class BurstResult:
    """The simulation's outcome."""

    stack: str
    rate: float
    factor: float
    seconds: float
    seed: int
    orders: int
    completed: int
    refused_at_edge: int
    parked: int
    compensated: int
    lost: int
    drained_after: float
    orders_settled_after: float = 0.0
    stages: list[StageResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document."""
        return {
            **{k: v for k, v in self.__dict__.items() if k != "stages"},
            "stages": [s.__dict__ for s in self.stages],
        }


# ---- reading the recorded retry behaviour ----------------------------------------------------------


def _value(resource: RecordedResource, key: str, default: Any = None) -> Any:
    value = resource.outputs.get(key, resource.inputs.get(key, default))
    return default if value is None else value


def _task_retry(run: ProgramRun, target_arn: str, parameter: str) -> tuple[TaskRetrier, str, str] | None:
    """How the first Task whose ``parameter`` names ``target_arn`` handles a throttle.

    Returns its Retry for throttling errors, where the order goes when the retries run out, and that
    fate: ``parked`` when the Catch sends the state to a queue (``sqs:sendMessage``) or there is no
    Catch (the failed execution stays for a redrive), ``compensated`` when the Catch runs other steps.
    """
    for machine in run.of_type(STATE_MACHINE):
        try:
            definition = json.loads(str(_value(machine, "definition", "")))
        except json.JSONDecodeError:
            continue
        states = definition.get("States", {})
        for name, state in states.items():
            if state.get("Type") != "Task" or (state.get("Parameters") or {}).get(parameter) != target_arn:
                continue
            retry = next(
                (
                    TaskRetrier.from_asl(retrier)
                    for retrier in state.get("Retry", [])
                    if any(error in retrier.get("ErrorEquals", []) for error in THROTTLE_ERRORS)
                ),
                NO_RETRY,
            )
            label = f"{_value(machine, 'name', machine.name)}.{name}"
            catch = next(
                (c for c in state.get("Catch", []) if any(e in c.get("ErrorEquals", []) for e in THROTTLE_ERRORS)),
                None,
            )
            if catch is None:
                return retry, f"{label}: the execution fails (kept for a redrive)", "parked"
            handler = states.get(catch.get("Next"), {})
            if str(handler.get("Resource", "")).endswith("sqs:sendMessage"):
                return retry, f"{label} Catch -> {catch.get('Next')} (failure queue)", "parked"
            return retry, f"{label} Catch -> {catch.get('Next')} (compensation)", "compensated"
    return None


def _rule_retry(system: RecordedSystem, target_arn: str) -> tuple[TargetRetryPolicy, str]:
    """The retry policy of the rule target that starts ``target_arn``, and its dead-letter queue."""
    for rule in system.rules:
        for target in rule.targets:
            if target.arn == target_arn:
                dlq = target.dead_letter_arn or ""
                return target.retry_policy, ("rule DLQ " + dlq.rsplit(":", 1)[-1]) if dlq else ""
    return TargetRetryPolicy(), ""


def _async_failure_path(system: RecordedSystem, function: str) -> str:
    config = system.async_invokes.get(function)
    destination = (config.on_failure_destination if config else None) or ""
    return ("on-failure destination " + destination.rsplit(":", 1)[-1]) if destination else ""


# ---- the stages ------------------------------------------------------------------------------------


ACCOUNT_CONCURRENCY: Final = 1000
"""What a function without reserved concurrency may use: Lambda's default concurrency quota of an account."""


def _function(system: RecordedSystem, hop: Hop) -> FunctionSpec:
    """The recorded function a hop names."""
    assert hop.resource is not None
    return system.function_named(str(_value(hop.resource, "name", hop.resource.name)))


def _reserved(function: FunctionSpec) -> int:
    return ACCOUNT_CONCURRENCY if function.reserved_concurrency is None else function.reserved_concurrency


class _Pool:
    """Concurrent executions of one function: free slots or a throttle."""

    def __init__(self, size: int) -> None:
        self.size = max(size, 1)
        self.busy: list[float] = []

    def start(self, now: float, duration: float) -> bool:
        while self.busy and self.busy[0] <= now:
            heapq.heappop(self.busy)
        if not within_reserved_concurrency(len(self.busy), self.size):
            return False
        heapq.heappush(self.busy, now + duration)
        return True

    def next_free(self, now: float) -> float:
        while self.busy and self.busy[0] <= now:
            heapq.heappop(self.busy)
        return now if len(self.busy) < self.size else self.busy[0]


def simulate(
    run: ProgramRun,
    profile: Profile,
    *,
    rate: float,
    factor: float = 10.0,
    seconds: float = 60.0,
    seed: int = 1,
    report: Report | None = None,
) -> BurstResult:
    """Simulate ``factor`` x ``rate`` orders per second for ``seconds`` through the recorded stack.

    Parameters
    ----------
    run:
        The recorded program.
    profile:
        The workload profile (durations, the page's retry policy).
    rate, factor, seconds:
        The burst: ``factor * rate`` orders per second (Poisson arrivals) for ``seconds``.
    seed:
        Seed of every random draw (arrivals, jitter, durations): the same seed gives the same result.
    report:
        ``analyse(run, profile, rate)`` when the caller has it already.

    Returns
    -------
    BurstResult
        Per stage: arrivals, throttles, what reached a failure path, longest wait, peak backlog; per
        order: completed, refused at the edge, parked, compensated, lost.
    """
    rng = random.Random(seed)
    report = report or analyse(run, profile, rate)
    system = RecordedSystem.from_program(run)
    burst_rate = rate * factor
    arrivals: list[float] = []
    now = 0.0
    while True:
        now += rng.expovariate(burst_rate)
        if now > seconds:
            break
        arrivals.append(now)
    result = BurstResult(run.stack, rate, factor, seconds, seed, len(arrivals), 0, 0, 0, 0, 0, 0.0)

    # The order's own subtree of the path: up to the page's next request (a GET, the MQTT connect).
    entries = [i for i, step in enumerate(report.path) if i and not step.startswith(" ") and "(Lambda" not in step]
    placing = report.path[: entries[0]] if entries else report.path
    position = {step.strip().split(" (", 1)[0]: index for index, step in enumerate(placing)}

    rank = {"sfn-start-express": 0, "sfn-start-standard": 0, "sfn-transitions": 1}

    def order_of(hop: Hop) -> tuple[float, int]:
        if hop.kind == "api-route":
            return (-1.0, 0)
        name = str(hop.resource.name) if hop.resource is not None else ""
        return (float(position.get(name, 1e9)), rank.get(hop.kind, 2))

    chain = sorted(
        (
            h
            for h in report.hops
            if h.kind in CHAIN_KINDS
            and h.demand_per_order >= 0.5
            and (h.kind != "api-route" or h is report.hops[0])
            and (h.resource is None or str(h.resource.name) in position or h.kind == "api-route")
        ),
        key=order_of,
    )
    # In a fixed order (the report's follows the walk, which differs between processes): the same seed draws
    # the same numbers for each stage in every process.
    fan_out = sorted(
        (h for h in report.hops if h.kind in FAN_OUT_KINDS), key=lambda h: (FAN_OUT_KINDS.index(h.kind), h.name)
    )
    for hop in report.hops:
        if hop not in chain and hop not in fan_out and hop.ceiling_orders < burst_rate:
            result.skipped.append(f"{hop.name}: not simulated (ceiling {hop.ceiling_orders:,.1f} orders/s)")

    items = [(t, i) for i, t in enumerate(arrivals)]
    fate: dict[int, str] = {}
    edge_index = 0
    while edge_index < len(chain) and chain[edge_index].kind == "api-route":
        edge_index += 1
    entry_index = edge_index + 1 if edge_index < len(chain) and chain[edge_index].kind == "lambda-sync" else edge_index
    items = _edge(system, profile, chain[:entry_index], items, rng, fate, result)
    for hop in chain[entry_index:]:
        items = _chain_stage(run, system, profile, hop, items, rng, fate, result)
    done_times = [t for t, _ in items]
    result.orders_settled_after = max(done_times, default=0.0)
    for hop in fan_out:
        per_order = hop.demand_per_order
        events: list[tuple[float, int]] = []
        for t, order in items:
            count = int(per_order) + (1 if rng.random() < per_order - int(per_order) else 0)
            events.extend((t + 0.05 * k, order) for k in range(count))
        events.sort()
        done_times.extend(_fan_out_stage(system, profile, hop, events, rng, result))
    result.completed = len(items)
    result.refused_at_edge = sum(1 for f in fate.values() if f == "refused")
    result.parked = sum(1 for f in fate.values() if f == "parked")
    result.compensated = sum(1 for f in fate.values() if f == "compensated")
    result.lost = sum(1 for f in fate.values() if f == "lost") + sum(
        s.lost for s in result.stages if s.kind in FAN_OUT_KINDS
    )
    result.drained_after = max(done_times, default=0.0)
    return result


def _edge(
    system: RecordedSystem,
    profile: Profile,
    hops: Sequence[Hop],
    items: list[tuple[float, int]],
    rng: random.Random,
    fate: dict[int, str],
    result: BurstResult,
) -> list[tuple[float, int]]:
    """The route throttles and the entry function, with the page's retries."""
    retry = profile.client_retry
    attempts = int(retry.get("maxAttempts", 5))
    schedule = Retry(attempts - 1, retry.get("baseSeconds", 1.0), 2.0, retry.get("maxSeconds", 20.0))
    stages = [StageResult(h.name, h.kind, h.origin, failure_path="the page retries, then gives up") for h in hops]
    result.stages.extend(stages)
    buckets: list[TokenBucket | None] = []
    pools: list[_Pool | None] = []
    durations: list[float] = []
    for hop in hops:
        if hop.kind == "api-route":
            # The route's rate (a route setting may override the stage's) and the stage's burst.
            buckets.append(TokenBucket(hop.ceiling_units_per_second, max(system.throttle_burst, 1)))
            pools.append(None)
            durations.append(0.0)
        else:
            function = _function(system, hop)
            buckets.append(None)
            pools.append(_Pool(_reserved(function)))
            durations.append(profile.duration_ms(function.package) / 1000)
    heap = [(t, order, 1) for t, order in items]
    heapq.heapify(heap)
    passed: list[tuple[float, int]] = []
    while heap:
        t, order, attempt = heapq.heappop(heap)
        ok = True
        finish = t
        for stage, bucket, pool, duration in zip(stages, buckets, pools, durations, strict=True):
            stage.arrived += 1
            admitted = bucket.take(t) if bucket is not None else pool.start(t, duration) if pool is not None else True
            if not admitted:
                stage.throttled += 1
                ok = False
                break
            stage.passed += 1
            finish = t + duration
        if ok:
            passed.append((finish, order))
        elif attempt < attempts:
            heapq.heappush(heap, (t + schedule.delay(attempt, rng), order, attempt + 1))
        else:
            stages[-1].refused += 1
            fate[order] = "refused"
    passed.sort()
    return passed


def _chain_stage(
    run: ProgramRun,
    system: RecordedSystem,
    profile: Profile,
    hop: Hop,
    items: list[tuple[float, int]],
    rng: random.Random,
    fate: dict[int, str],
    result: BurstResult,
) -> list[tuple[float, int]]:
    stage = StageResult(hop.name, hop.kind, hop.origin)
    result.stages.append(stage)
    region_quota = hop.ceiling_units_per_second
    if hop.kind == "sfn-transitions":
        # Throttled transitions slow executions down: wait for the tokens, never fail.
        bucket = TokenBucket(region_quota, _quota(run, "standard_state_transition_burst"))
        out = []
        for t, order in items:
            stage.arrived += 1
            start = bucket.wait(t, hop.demand_per_order)
            stage.max_wait = max(stage.max_wait, start - t)
            stage.passed += 1
            out.append((start, order))
        return out
    next_attempt: NextAttemptOf
    if hop.kind.startswith("sfn-start"):
        bucket = TokenBucket(
            region_quota,
            region_quota if hop.kind == "sfn-start-express" else _quota(run, "standard_start_execution_burst"),
        )
        machine_arn = str(_value(hop.resource, "arn", "")) if hop.resource is not None else ""
        if hop.kind == "sfn-start-express":
            policy, path = _rule_retry(system, machine_arn)
            stage.failure_path = path
            outcome = "parked" if path else "lost"

            def next_attempt(attempt: int, age: float) -> NextAttempt:
                return policy.after_failure(attempt, age, rng=rng)

        else:
            found = _task_retry(run, machine_arn, "StateMachineArn") if machine_arn else None
            retry, stage.failure_path, outcome = found if found else (NO_RETRY, "", "lost")

            def next_attempt(attempt: int, age: float) -> NextAttempt:
                return retry.after_failure(attempt, rng)

        return through_retries(stage, items, lambda t: (bucket.take(t), 0.05), next_attempt, fate, outcome)
    # A function called by a workflow Task.
    function = _function(system, hop)
    pool = _Pool(_reserved(function))
    found = _task_retry(run, function.arn, "FunctionName")
    task_retry, stage.failure_path, outcome = found if found else (NO_RETRY, "", "lost")
    mean = profile.duration_ms(function.package) / 1000

    def attempt(t: float) -> tuple[bool, float]:
        duration = mean * rng.uniform(0.7, 1.3)
        return pool.start(t, duration), duration

    return through_retries(stage, items, attempt, lambda n, _age: task_retry.after_failure(n, rng), fate, outcome)


def through_retries(
    stage: StageResult,
    items: list[tuple[float, int]],
    attempt: Callable[[float], tuple[bool, float]],
    next_attempt: NextAttemptOf,
    fate: dict[int, str],
    exhausted: str,
    left: list[float] | None = None,
) -> list[tuple[float, int]]:
    """Items through one throttled stage: each attempt admitted, or retried as ``next_attempt`` says.

    Returns when each admitted item is done; ``left`` (when given) receives the time each item stopped
    waiting (admitted or given up).
    """
    heap = [(t, order, 0, t) for t, order in items]
    heapq.heapify(heap)
    out: list[tuple[float, int]] = []
    while heap:
        t, order, tries, first = heapq.heappop(heap)
        if tries == 0:
            stage.arrived += 1
        admitted, duration = attempt(t)
        if admitted:
            stage.passed += 1
            stage.max_wait = max(stage.max_wait, t - first)
            out.append((t + duration, order))
            if left is not None:
                left.append(t)
            continue
        stage.throttled += 1
        following = next_attempt(tries + 1, t - first)
        if following.delay is not None:
            heapq.heappush(heap, (t + following.delay, order, tries + 1, first))
            continue
        fate[order] = exhausted
        if exhausted == "lost":
            stage.lost += 1
        else:
            stage.to_failure_path += 1
        if left is not None:
            left.append(t)
    out.sort()
    return out


def _fan_out_stage(
    system: RecordedSystem,
    profile: Profile,
    hop: Hop,
    events: list[tuple[float, int]],
    rng: random.Random,
    result: BurstResult,
) -> list[float]:
    stage = StageResult(hop.name, hop.kind, hop.origin)
    result.stages.append(stage)
    done: list[float] = []
    if hop.kind == "sns-email":
        bucket = TokenBucket(hop.ceiling_units_per_second, 1)
        stage.failure_path = "deliveries wait (SNS retries them)"
        for t, _ in events:
            stage.arrived += 1
            start = bucket.wait(t)
            stage.max_wait = max(stage.max_wait, start - t)
            stage.passed += 1
            done.append(start)
        stage.backlog_peak = _peak_backlog([t for t, _ in events], done)
        return done
    function = _function(system, hop)
    if hop.kind == "lambda-async":
        # Lambda's queue of asynchronous events: a throttled event is retried with backoff until it is too old.
        policy = system.async_retry_policy(function.name)
        stage.failure_path = _async_failure_path(system, function.name)
        pool = _Pool(_reserved(function))
        mean = profile.duration_ms(function.package) / 1000

        def attempt(t: float) -> tuple[bool, float]:
            duration = mean * rng.uniform(0.7, 1.3)
            return pool.start(t, duration), duration

        left: list[float] = []
        finished = through_retries(
            stage, events, attempt, policy.after_throttle, {}, "parked" if stage.failure_path else "lost", left
        )
        stage.backlog_peak = _peak_backlog([t for t, _ in events], sorted(left))
        return [t for t, _ in finished]
    # An SQS consumer: batches of messages, maximum concurrency, throttled polls counting as receives.
    return _queue_consumer(system, profile, function, events, rng, stage)


def _queue_consumer(
    system: RecordedSystem,
    profile: Profile,
    function: FunctionSpec,
    events: list[tuple[float, int]],
    rng: random.Random,
    stage: StageResult,
) -> list[float]:
    reserved = _reserved(function)
    consumer = next(
        (c for c in system.queue_consumers if system.function_named(c.function_name).name == function.name), None
    )
    batch = consumer.batch_size if consumer else 10
    maximum = (consumer.maximum_concurrency if consumer else None) or reserved
    queue = system.queue_by_arn(consumer.queue_arn) if consumer else None
    redrive = queue.redrive if queue else QueueRedrive()
    stage.failure_path = "queue DLQ" if queue and queue.redrive_policy else "message expiry (no DLQ)"
    throttle_share = max(0.0, (maximum - reserved) / maximum) if maximum > reserved else 0.0
    pool = _Pool(min(maximum, reserved))
    duration = profile.duration_ms(function.package, batch) / 1000
    done: list[float] = []
    index = 0
    pending = [t for t, _ in events]
    while index < len(pending):
        t = pool.next_free(pending[index])
        group = [x for x in pending[index : index + batch] if x <= max(t, pending[index])] or [pending[index]]
        backlog = sum(1 for x in pending[index:] if x <= t)
        stage.backlog_peak = max(stage.backlog_peak, backlog)
        for arrival in group:
            stage.arrived += 1
            receives, processed = received(redrive, t, partial(_refused, backlog > batch, rng, throttle_share))
            stage.throttled += len(receives) - processed
            if not processed:
                stage.to_failure_path += 1
                continue
            stage.passed += 1
            stage.max_wait = max(stage.max_wait, receives[-1] - arrival)
            done.append(receives[-1] + duration)
        pool.start(t, duration)
        index += len(group)
    return done


def _refused(crowded: bool, rng: random.Random, throttle_share: float) -> bool:
    """Whether a poll of a crowded queue fetched a batch the function may not run (a throttle)."""
    return crowded and rng.random() < throttle_share


def received(redrive: QueueRedrive, first: float, refused: Callable[[], bool]) -> tuple[list[float], bool]:
    """The receives of one message whose batch the function may refuse (a throttle): when, and whether it ran.

    A refused batch goes back to the queue until its visibility timeout ends; after ``maxReceiveCount``
    receives SQS moves the message to the dead-letter queue instead (the result is then ``False``).
    """
    receives = [first]
    while refused():
        if redrive.dead_letters_after(len(receives)):
            return receives, False
        receives.append(redrive.visible_again_at(receives[-1]))
    return receives, True


def _peak_backlog(arrivals: Sequence[float], finishes: Sequence[float]) -> int:
    events = sorted([(t, 1) for t in arrivals] + [(t, -1) for t in finishes])
    level = peak = 0
    for _, change in events:
        level += change
        peak = max(peak, level)
    return peak


def _quota(run: ProgramRun, item: str) -> float:
    """A Step Functions quota for the stack's region, from the pack's quota file."""
    return quotas().value("stepfunctions", item, str(run.config.get("aws:region", "us-east-1")))


def format_result(result: BurstResult) -> str:
    """The simulation's outcome as ``make burst`` prints it."""
    lines = [
        f"Burst on stack {result.stack!r}: {result.factor:g} x {result.rate:g} orders/s for {result.seconds:g} s "
        f"(seed {result.seed}): {result.orders:,} orders",
        "",
        f"  {'stage':<58} {'arrived':>8} {'throttled':>9} {'DLQ/refused':>12} {'lost':>5} {'max wait s':>10}",
    ]
    for stage in result.stages:
        lines.append(
            f"  {stage.name[:58]:<58} {stage.arrived:>8,} {stage.throttled:>9,} "
            f"{stage.to_failure_path + stage.refused:>12,} {stage.lost:>5,} {stage.max_wait:>10.1f}"
        )
    lines += [
        "",
        f"Orders: {result.completed:,} through the workflows, {result.refused_at_edge:,} refused at the edge after the "
        f"page's retries (429s), {result.parked:,} parked on a failure queue, {result.compensated:,} compensated, "
        f"{result.lost:,} lost.",
        f"The placed orders were through the workflows {result.orders_settled_after:,.0f} s after the burst began; "
        f"everything downstream (notifications, audit) had settled after {result.drained_after:,.0f} s.",
    ]
    for stage in result.stages:
        if stage.backlog_peak:
            lines.append(
                f"  buffered: {stage.name}: up to {stage.backlog_peak:,} waiting, longest {stage.max_wait:,.0f} s"
            )
        if stage.to_failure_path and stage.failure_path:
            lines.append(f"  to a failure path: {stage.to_failure_path:,} at {stage.name} ({stage.failure_path})")
    lines += [f"  {note}" for note in result.skipped]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make burst``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=os.environ.get("STACK", "dev"))
    parser.add_argument("--rate", type=positive_number, default=100.0, help="the normal rate, orders per second")
    parser.add_argument("--factor", type=positive_number, default=10.0, help="the burst is factor x rate (default 10)")
    parser.add_argument("--seconds", type=positive_number, default=60.0, help="length of the burst (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    parser.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
        run = run_program(args.stack)
        result = simulate(run, profile, rate=args.rate, factor=args.factor, seconds=args.seconds, seed=args.seed)
    except (StackNotFoundError, ProfileError, RecordingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_result(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
