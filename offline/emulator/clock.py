"""Emulated time: backoffs, visibility timeouts and batching windows pass without sleeping.

The emulator schedules every delayed delivery (a Lambda asynchronous retry a minute later, a message
coming back when its visibility timeout ends) on a :class:`VirtualClock`. Time stands still while work is
ready; when nothing is left to do now, the clock jumps to the next timer. So a test of a two-minute
backoff takes milliseconds, and ``make local`` runs a retry as soon as the system is idle.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class VirtualClock:
    """Seconds since the epoch that only move when the emulator is idle, plus the timers due at them.

    Parameters
    ----------
    start:
        The starting time (defaults to the wall clock, so timestamps look real).
    follow_wall_clock:
        Never run behind real time (``make local``): a person's requests refill the API's token bucket as
        they would on AWS, while idle waits still jump ahead. Tests leave it off, so no result depends on how
        fast the machine is.
    """

    def __init__(self, start: float | None = None, *, follow_wall_clock: bool = False) -> None:
        self._now = time.time() if start is None else float(start)
        self._follow_wall_clock = follow_wall_clock
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def now(self) -> float:
        """The emulated time."""
        with self._lock:
            if self._follow_wall_clock:
                self._now = max(self._now, time.time())
            return self._now

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the emulated time reaches ``when`` (in :meth:`run_due`)."""
        with self._lock:
            heapq.heappush(self._timers, (when, next(self._sequence), action))

    def call_later(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` ``seconds`` from now."""
        self.call_at(self.now() + seconds, action)

    def run_due(self) -> bool:
        """Run every timer due now, in time order; whether any ran."""
        ran = False
        while True:
            now = self.now()
            with self._lock:
                if not self._timers or self._timers[0][0] > now:
                    return ran
                _, _, action = heapq.heappop(self._timers)
            action()
            ran = True

    def skip_to_next(self) -> bool:
        """Jump to the next timer (time passes while nothing happens); whether there was one."""
        with self._lock:
            if not self._timers:
                return False
            self._now = max(self._now, self._timers[0][0])
            return True

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass (a test's explicit wait); timers become due, :meth:`run_due` runs them."""
        with self._lock:
            self._now += seconds

    @property
    def pending(self) -> int:
        """How many timers wait."""
        with self._lock:
            return len(self._timers)
