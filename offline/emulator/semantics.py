"""AWS's throttling, retry and redrive rules as pure functions of time: one definition for every user.

The emulator's runtime (:mod:`~offline.emulator.api`, :mod:`~offline.emulator.lambdas`,
:mod:`~offline.emulator.router`) applies these on its virtual clock to one order at a time; ``make burst``
(:mod:`offline.burst`) applies the same ones in its discrete-event simulation of tens of thousands of
orders, where running the handlers on moto would take half an hour. Nothing here reads a clock or draws
a random number: the caller passes the time, and the jitter where AWS documents one.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

AsyncGiveUp = Literal["RetriesExhausted", "EventAgeExceeded"]
"""Why Lambda stopped retrying an asynchronous event (the ``condition`` of its destination record)."""
TargetGiveUp = Literal["MaximumRetryAttempts", "MaximumEventAgeInSeconds"]
"""Why EventBridge stopped retrying a target (the ``EXHAUSTED_RETRY_CONDITION`` of its dead-letter message)."""


@dataclass(frozen=True)
class NextAttempt:
    """What happens after a failed attempt: another one ``delay`` seconds later, or none (``gave_up`` says why)."""

    delay: float | None
    gave_up: str = ""

    @property
    def retried(self) -> bool:
        """Whether there is another attempt."""
        return self.delay is not None


@dataclass
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; a request takes one (or ``amount``).

    API Gateway developer guide, "Throttle requests to your HTTP APIs"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html); Step Functions
    meters StartExecution and state transitions the same way (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).

    Parameters
    ----------
    rate:
        Tokens added per second.
    burst:
        The bucket's size, and what it holds at ``start``.
    start:
        The time the bucket is full.
    """

    rate: float
    burst: float
    start: float = 0.0
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens, self.updated = float(self.burst), float(self.start)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens at ``now`` if the bucket has them (a request passes), else take none (throttled)."""
        self._refill(now)
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True

    def wait(self, now: float, amount: float = 1.0) -> float:
        """Take ``amount`` tokens, waiting for them if need be (a throttled caller slowed down); when they are taken.

        Callers wait in turn: one that comes while others wait (before the last taking) queues behind them.
        """
        now = max(now, self.updated)
        self._refill(now)
        taken = now if self.tokens >= amount else now + (amount - self.tokens) / self.rate
        self._refill(taken)
        self.tokens -= amount
        return taken


def within_reserved_concurrency(running: int, reserved: int | None) -> bool:
    """Whether one more invocation may start while ``running`` run (``reserved`` None: no reservation).

    Lambda developer guide, "Configuring reserved concurrency"
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): beyond it, Lambda throttles.
    """
    return reserved is None or running < reserved


ASYNC_FUNCTION_ERROR_DELAYS: Final = (60.0, 120.0)
"""Lambda waits one minute before the second attempt of a failed asynchronous event, two before the third."""
ASYNC_THROTTLE_BACKOFF: Final = (1.0, 300.0)
"""A throttled asynchronous event is retried after 1 s, doubling up to 5 minutes."""


@dataclass(frozen=True)
class AsyncRetryPolicy:
    """How Lambda retries an asynchronous event: function errors, throttles, maximum event age.

    Lambda developer guide, "Configuring error handling for asynchronous invocation"
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a function error is
    retried ``maximum_retry_attempts`` times (1 and 2 minutes later); a throttle (or a 5xx) goes back to the
    queue with exponential backoff from 1 s to 5 min and does not use up an attempt; either stops once the
    event is older than ``maximum_event_age_seconds``.
    """

    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: float = 21_600

    def after_function_error(self, attempts: int, age: float) -> NextAttempt:
        """After the function failed its ``attempts``-th run of an event that is ``age`` seconds old."""
        if attempts > self.maximum_retry_attempts:
            return NextAttempt(None, "RetriesExhausted")
        delay = ASYNC_FUNCTION_ERROR_DELAYS[min(attempts, len(ASYNC_FUNCTION_ERROR_DELAYS)) - 1]
        return self._within_age(delay, age)

    def after_throttle(self, throttles: int, age: float) -> NextAttempt:
        """After the ``throttles``-th throttle of an event that is ``age`` seconds old."""
        base, cap = ASYNC_THROTTLE_BACKOFF
        return self._within_age(min(base * 2 ** (throttles - 1), cap), age)

    def _within_age(self, delay: float, age: float) -> NextAttempt:
        if age + delay > self.maximum_event_age_seconds:
            return NextAttempt(None, "EventAgeExceeded")
        return NextAttempt(delay)


TARGET_BACKOFF: Final = (1.0, 300.0)
"""EventBridge's backoff between attempts at a target: 1 s, doubling, at most 5 minutes (the ceiling of its jitter)."""


@dataclass(frozen=True)
class TargetRetryPolicy:
    """How EventBridge retries a rule target: attempts and maximum event age, then the dead-letter queue.

    EventBridge user guide, "Event retry policy and using dead-letter queues"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): throttles and 5xx errors are
    retried with exponential backoff and jitter up to ``maximum_retry_attempts`` (default 185) times or
    ``maximum_event_age_seconds`` (default 24 h); other errors are not retried.
    """

    maximum_retry_attempts: int = 185
    maximum_event_age_seconds: float = 86_400

    @staticmethod
    def backoff(attempt: int) -> float:
        """The longest wait after failed attempt ``attempt`` (1-based); :meth:`after_failure` waits this long."""
        base, cap = TARGET_BACKOFF
        return min(base * 2 ** (attempt - 1), cap)

    def after_failure(
        self, attempt: int, age: float, *, retriable: bool = True, rng: random.Random | None = None
    ) -> NextAttempt:
        """After failed attempt ``attempt`` of an event ``age`` seconds old.

        Parameters
        ----------
        attempt:
            Attempts made so far (the first one is 1).
        age:
            Seconds since the event arrived.
        retriable:
            Whether the error is one EventBridge retries (a throttle or a 5xx).
        rng:
            Draws the jitter: a wait between 0 and :meth:`backoff` (``make burst``). Without it the wait is
            the whole backoff, so the emulator's tests know when each attempt comes.
        """
        if not retriable or attempt > self.maximum_retry_attempts:
            return NextAttempt(None, "MaximumRetryAttempts")
        ceiling = self.backoff(attempt)
        if age + ceiling > self.maximum_event_age_seconds:
            return NextAttempt(None, "MaximumEventAgeInSeconds")
        return NextAttempt(rng.uniform(0, ceiling) if rng is not None else ceiling)


@dataclass(frozen=True)
class QueueRedrive:
    """What SQS does with a message received and not deleted: visible again later, or to the dead-letter queue.

    Amazon SQS developer guide, "Amazon SQS visibility timeout" and "Using dead-letter queues"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html):
    the message returns when its visibility timeout ends; once its receive count exceeds ``maxReceiveCount``,
    SQS moves it to the dead-letter queue instead.
    """

    visibility_timeout_seconds: float = 30
    max_receive_count: int | None = None

    def visible_again_at(self, received_at: float) -> float:
        """When a message received at ``received_at`` and not deleted can be received again."""
        return received_at + self.visibility_timeout_seconds

    def dead_letters_after(self, receives: int) -> bool:
        """Whether a message received ``receives`` times without being deleted goes to the dead-letter queue next."""
        return self.max_receive_count is not None and receives >= self.max_receive_count


ASL_MAX_DELAY_SECONDS: Final = 31_622_401.0
"""The longest wait a Step Functions Retrier may ask for (``MaxDelaySeconds``' limit): no cap by default."""


@dataclass(frozen=True)
class TaskRetrier:
    """A Step Functions Retrier: ``max_attempts`` retries, ``interval_seconds`` growing by ``backoff_rate``.

    Step Functions developer guide, "Handling errors in Step Functions workflows"
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html): the n-th retry waits
    ``IntervalSeconds * BackoffRate ** (n - 1)``, at most ``MaxDelaySeconds``; ``JitterStrategy: FULL`` waits
    a random time up to that. The emulator runs Retriers in moto's interpreter, whose recorded waits the
    workflow tests compare with :meth:`ceiling`.
    """

    max_attempts: int = 3
    interval_seconds: float = 1.0
    backoff_rate: float = 2.0
    max_delay_seconds: float = ASL_MAX_DELAY_SECONDS
    full_jitter: bool = False

    @classmethod
    def from_asl(cls, retrier: Mapping[str, Any]) -> TaskRetrier:
        """The Retrier an ASL ``Retry`` entry declares (ASL's defaults for what it leaves out)."""
        return cls(
            max_attempts=int(retrier.get("MaxAttempts", 3)),
            interval_seconds=float(retrier.get("IntervalSeconds", 1)),
            backoff_rate=float(retrier.get("BackoffRate", 2.0)),
            max_delay_seconds=float(retrier.get("MaxDelaySeconds", ASL_MAX_DELAY_SECONDS)),
            full_jitter=retrier.get("JitterStrategy") == "FULL",
        )

    def ceiling(self, retry: int) -> float:
        """The wait before retry ``retry`` (1-based), before jitter."""
        return min(self.interval_seconds * self.backoff_rate ** (retry - 1), self.max_delay_seconds)

    def after_failure(self, attempt: int, rng: random.Random) -> NextAttempt:
        """After failed attempt ``attempt`` (the first is 1): the next one, or none once the retries are spent."""
        if attempt > self.max_attempts:
            return NextAttempt(None, "MaxAttempts")
        ceiling = self.ceiling(attempt)
        return NextAttempt(rng.uniform(0, ceiling) if self.full_jitter else ceiling)
