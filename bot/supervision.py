"""Keeps the service's channels alive: a crashed one is restarted with backoff, a fatal one is reported.

No input and no answer from upstream may stop a channel silently while the process lives on
(the web chat alone keeps a process up, so no outside supervisor would notice). Each channel
runs under `supervise`, which logs a crash, records it in `Health` and starts the channel again
after a growing pause; a `ChannelFailed` (a revoked token, a port taken) is not retried: staff
must act, so the health check and the exit status say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

logger = logging.getLogger(__name__)

FIRST_DELAY = 1.0  # seconds before the first restart
MAX_DELAY = 60.0  # the longest pause between restarts
STEADY = 300.0  # a channel that ran this long before crashing starts again from the first delay


class ChannelFailed(Exception):
    """A channel cannot go on until staff fix something; it is not restarted."""


class State(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "degraded"  # running, but upstream refuses us for now (another instance polling)
    RESTARTING = "restarting"  # crashed; starts again after a pause
    FAILED = "failed"  # stopped for good until staff act
    STOPPED = "stopped"


HEALTHY = frozenset({State.STARTING, State.RUNNING, State.STOPPED})


@dataclass(slots=True)
class ChannelHealth:
    state: State = State.STARTING
    detail: str = ""
    since: float = field(default_factory=time.time)
    restarts: int = 0


class Health:
    """What each channel is doing now; read by the web chat's `/healthz` and by the exit status."""

    def __init__(self) -> None:
        self.channels: dict[str, ChannelHealth] = {}

    def set(self, name: str, state: State, detail: str = "") -> None:
        current = self.channels.setdefault(name, ChannelHealth())
        if current.state is not state or current.detail != detail:
            current.state, current.detail, current.since = state, detail, time.time()

    @property
    def ok(self) -> bool:
        return all(channel.state in HEALTHY for channel in self.channels.values())

    def failed(self) -> dict[str, str]:
        """The channels that stopped for good, with why."""
        return {name: c.detail for name, c in self.channels.items() if c.state is State.FAILED}

    def report(self) -> dict[str, dict[str, object]]:
        return {
            name: {"state": str(c.state), "detail": c.detail, "since": round(c.since), "restarts": c.restarts}
            for name, c in self.channels.items()
        }


class Runnable(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


async def supervise(
    name: str,
    make: Callable[[], Runnable],
    stop: asyncio.Event,
    health: Health,
    *,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> None:
    """Runs `make().run(stop)` until `stop` is set, restarting it (a fresh one) after any crash."""
    delay = first_delay
    while not stop.is_set():
        started = time.monotonic()
        health.set(name, State.RUNNING)
        try:
            await make().run(stop)
        except ChannelFailed as err:
            logger.critical("Channel %s stopped: %s", name, err)
            health.set(name, State.FAILED, str(err))
            return
        except Exception as err:
            if time.monotonic() - started > STEADY:
                delay = first_delay
            logger.exception("Channel %s crashed; restarting it in %.0f s", name, delay)
            health.set(name, State.RESTARTING, f"{type(err).__name__}: {err}"[:300])
            health.channels[name].restarts += 1
            await pause(stop, delay)
            delay = min(delay * 2, max_delay)
            continue
        if not stop.is_set():  # a channel returns only when stopped; anything else is a fault
            logger.error("Channel %s ended by itself; restarting it in %.0f s", name, delay)
            health.channels[name].restarts += 1
            await pause(stop, delay)
            delay = min(delay * 2, max_delay)
    health.set(name, State.STOPPED)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits out a back-off, returning early when the service stops."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
