"""Rate limits, one module for every channel: how often a key (a Telegram user, a web visitor, a
place) may do something, on a clock the caller injects.

Two counters cover the three limits the service keeps:
- `WindowCounts`, a sliding-window counter: a Telegram user's updates in 10 s (a flood is slowed,
  the first update dropped gets a note), a web place's new visitors and finished submissions per hour.
- `TokenBucket`: a web visitor's posts per minute, in bursts of a quarter of that.

Hand-written (about eighty lines) rather than the `limits` package (MIT, which tells a caller no
instead of making it wait, so it would fit otherwise):
- its stores read `time.time()` themselves (`limits.storage.memory`, a dozen places), so they
  cannot follow an injected clock. The web chat's allowances must run on the engine's clock, the
  one a submission's time and its flag are read from and the one the tests move
  (`FakeClock.advance(hours=2)` in tests/integration/test_web_stuffing.py); patching the wall clock
  for the whole process (time-machine, freezegun) would move everything else with it;
- its in-memory store expires keys on a `threading.Timer` restarted every 10 ms while keys live
  (the asyncio one runs a sweeping task and `asyncio.to_thread`), threads and locks that a single
  event loop does not need; here old keys simply fall out of a bounded LRU;
- it has no token bucket, so the web chat's bursts would change (fixed, moving and sliding windows only).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import Generic, TypeVar

Clock = Callable[[], float]  # seconds; any origin (time.monotonic, the engine's clock as a timestamp)

HOUR = 3600.0
KEYS_KEPT = 10_000  # keys remembered; the least recently seen is forgotten first
V = TypeVar("V")


class Verdict(StrEnum):
    """What to do with one more event from a key that has a limit."""

    KEEP = "keep"
    DROP_AND_SAY = "drop-and-say"  # the first one over the limit: drop it, and say why once
    DROP = "drop"  # over the limit and already told


class _Keys(Generic[V]):
    """A bounded map from key to state: the least recently used key is forgotten first."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._state: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        return self._state.get(key)

    def put(self, key: str, value: V) -> None:
        self._state.pop(key, None)
        self._state[key] = value
        while len(self._state) > self.keep:
            self._state.popitem(last=False)


class WindowCounts:
    """How often each key did something in the last `window` seconds.

    A sliding-window counter: this fixed window's count plus the previous window's, weighted by how
    much of it the last `window` seconds still cover. Constant memory per key, unlike a log of
    timestamps.
    """

    def __init__(self, clock: Clock, window: float = HOUR, keep: int = KEYS_KEPT) -> None:
        self.clock = clock
        self.window = window
        self._counts: _Keys[tuple[int, int, int]] = _Keys(keep)  # key → (window, count, previous)

    def _load(self, key: str) -> tuple[int, int, int, float]:
        position = self.clock() / self.window
        index = int(position)
        at, current, previous = self._counts.get(key) or (index, 0, 0)
        if at != index:
            current, previous = 0, current if at == index - 1 else 0
        return index, current, previous, current + previous * (1 - (position - index))

    def count(self, key: str) -> float:
        """About how many times `key` did it in the last window."""
        return self._load(key)[3]

    def take(self, key: str, limit: int | None = None) -> bool:
        """Counts one more for `key`, unless it already reached `limit`; tells whether it was counted."""
        index, current, previous, estimate = self._load(key)
        if limit is not None and estimate >= limit:
            return False
        self._counts.put(key, (index, current + 1, previous))
        return True

    def hit(self, key: str, limit: int) -> Verdict:
        """Counts one more for `key` even when over `limit` (so a key that keeps at it stays held back),
        and tells whether to keep it; 0 means no limit."""
        index, current, previous, estimate = self._load(key)
        self._counts.put(key, (index, current + 1, previous))
        if not limit or estimate + 1 <= limit:
            return Verdict.KEEP
        return Verdict.DROP_AND_SAY if estimate <= limit else Verdict.DROP


class TokenBucket:
    """A bucket per key: `per_minute` events, in bursts of up to a quarter of that (at least 5); 0 means
    no limit."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic, keep: int = KEYS_KEPT) -> None:
        self.rate = per_minute / 60
        self.burst = max(5.0, per_minute / 4)
        self.clock = clock
        self._buckets: _Keys[tuple[float, float]] = _Keys(keep)  # key → (tokens, when)

    def allow(self, key: str) -> bool:
        """Takes a token for `key` if it has one; tells whether it had."""
        if self.rate <= 0:
            return True
        now = self.clock()
        tokens, then = self._buckets.get(key) or (self.burst, now)
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        allowed = tokens >= 1
        self._buckets.put(key, (tokens - 1 if allowed else tokens, now))
        return allowed
