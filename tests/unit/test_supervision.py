"""Channels that crash are started again; a channel that fails for good is reported, not retried."""

from __future__ import annotations

import asyncio

import pytest

from bot.supervision import ChannelFailed, Health, State, supervise


class Flaky:
    """Crashes the first `crashes` times it runs, then runs until stopped."""

    runs = 0
    steady = asyncio.Event()

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes

    async def run(self, stop: asyncio.Event) -> None:
        Flaky.runs += 1
        if Flaky.runs <= self.crashes:
            raise RuntimeError("boom")
        Flaky.steady.set()
        await stop.wait()


async def test_a_crashed_channel_is_started_again_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    Flaky.runs, Flaky.steady = 0, asyncio.Event()
    stop, health = asyncio.Event(), Health()
    task = asyncio.create_task(supervise("flaky", lambda: Flaky(2), stop, health, first_delay=0.01))
    await asyncio.wait_for(Flaky.steady.wait(), 5)
    assert health.channels["flaky"].state is State.RUNNING
    assert health.channels["flaky"].restarts == 2 and health.ok
    stop.set()
    await task
    assert health.channels["flaky"].state is State.STOPPED
    assert caplog.text.count("Channel flaky crashed") == 2


async def test_a_failed_channel_is_not_retried_and_health_says_why() -> None:
    runs = 0

    class Refused:
        async def run(self, stop: asyncio.Event) -> None:
            nonlocal runs
            runs += 1
            raise ChannelFailed("token refused")

    stop, health = asyncio.Event(), Health()
    await asyncio.wait_for(supervise("telegram", Refused, stop, health, first_delay=0.01), 5)
    assert runs == 1
    assert not health.ok
    assert health.failed() == {"telegram": "token refused"}
    assert health.report()["telegram"]["state"] == "failed"


async def test_a_channel_that_ends_by_itself_is_started_again() -> None:
    runs = 0

    class Quitter:
        async def run(self, stop: asyncio.Event) -> None:
            nonlocal runs
            runs += 1
            if runs >= 3:
                stop.set()

    stop, health = asyncio.Event(), Health()
    await asyncio.wait_for(supervise("quitter", Quitter, stop, health, first_delay=0.01), 5)
    assert runs == 3
    assert health.channels["quitter"].state is State.STOPPED
