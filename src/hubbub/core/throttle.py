"""Counters that slow down password guessing and mass registration (see core.accounts).

State owned here: per key (an address, an account name), the failures and the time of the last one
(:class:`Backoff`), or the times of recent events (:class:`Rate`). Both are bounded: keys whose state has
expired are forgotten, and beyond ``MAX_KEYS`` the oldest are dropped.
"""

from __future__ import annotations

from collections import deque

__all__ = ["MAX_KEYS", "Backoff", "Rate"]

#: The most keys one counter remembers; beyond it, the stalest are forgotten.
MAX_KEYS = 50_000
#: The longest backoff is the first one times 2 to this power.
MAX_DOUBLINGS = 7


class Backoff:
    """Failure counters with exponential backoff: after ``free`` failures, each further attempt must wait
    ``base``, then twice as long after each further failure (up to ``base * 2**MAX_DOUBLINGS``), counted from
    the last failure. A key with no failure for twice the longest wait is forgotten."""

    def __init__(self) -> None:
        #: key -> (failures, time of the last failure)
        self.entries: dict[str, tuple[int, float]] = {}
        #: key -> attempts being checked (each may be a failure: counted as one until its answer)
        self.pending: dict[str, int] = {}

    def start(self, key: str) -> None:
        self.pending[key] = self.pending.get(key, 0) + 1

    def end(self, key: str) -> None:
        left = self.pending.pop(key, 1) - 1
        if left > 0:
            self.pending[key] = left

    def wait(self, key: str, now: float, free: int, base: float) -> float:
        """Seconds before ``key`` may try again (0: now). Attempts still being checked count as failures,
        so that attempts sent together cannot all be checked before the first failure is counted."""
        entry = self.entries.get(key)
        pending = self.pending.get(key, 0)
        if entry is None:
            return base if pending >= free else 0.0
        failures, last = entry
        if pending and failures + pending >= free:
            return base
        if now - last > 2 * base * 2**MAX_DOUBLINGS:
            del self.entries[key]
            return 0.0
        if failures < free:
            return 0.0
        delay = base * (1 << min(failures - free, MAX_DOUBLINGS))
        return max(0.0, last + delay - now)

    def fail(self, key: str, now: float, base: float) -> int:
        """Count a failure of ``key``; the failures it has now."""
        entry = self.entries.pop(key, None)
        failures = 1
        if entry is not None and now - entry[1] <= 2 * base * 2**MAX_DOUBLINGS:
            failures = entry[0] + 1
        self.entries[key] = (failures, now)  # re-inserted: the dict stays in order of the last failure
        if len(self.entries) > MAX_KEYS:
            for stale in list(self.entries)[: len(self.entries) - MAX_KEYS]:
                del self.entries[stale]
        return failures

    def clear(self, key: str) -> None:
        self.entries.pop(key, None)


class Rate:
    """At most ``limit`` events per key in any ``window`` seconds (a sliding window)."""

    def __init__(self) -> None:
        self.events: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float, window: float) -> deque[float] | None:
        times = self.events.get(key)
        if times is None:
            return None
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self.events[key]
            return None
        return times

    def wait(self, key: str, now: float, limit: int, window: float) -> float:
        """Seconds before ``key`` may have another event (0: now)."""
        times = self._recent(key, now, window)
        if times is None or len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + window - now)

    def add(self, key: str, now: float) -> None:
        times = self.events.pop(key, None) or deque()
        times.append(now)
        self.events[key] = times
        if len(self.events) > MAX_KEYS:
            for stale in list(self.events)[: len(self.events) - MAX_KEYS]:
                del self.events[stale]

    def cancel(self, key: str) -> None:
        """Take back the last event of ``key`` (it did not happen after all)."""
        times = self.events.get(key)
        if times:
            times.pop()
            if not times:
                del self.events[key]
