"""Benchmark: the real service against the local Bot API emulator, beside a bare PTB echo bot.

Two loads, both bots measured in the same run:
  (a) saturation — residents answer as soon as the bot replies: updates/s and CPU seconds per update
      of the bot process, and the ratio service/echo;
  (b) a street event — residents each answering every ~5 s (200 residents ≈ 40 updates/s):
      p50/p99 update→reply latency.
Usage: `python -m bench.telegram [--residents 20] [--steps 50] [--crowd 200] [--seconds 30]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.measure import cpu_seconds, pct
from tests.support import REPOSITORY, ServiceProcess
from tests.support.telegram_emulator import BotApiEmulator, Call


class Replies:
    """Tells, per chat, when the bot sent a message (a hook on the emulator's request log)."""

    def __init__(self, api: BotApiEmulator) -> None:
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        api.listeners.append(self.on_call)

    def on_call(self, call: Call) -> None:
        if call.method in ("sendMessage", "editMessageText"):
            self.events[int(call.params["chat_id"])].set()

    async def next(self, chat_id: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        event = self.events[chat_id]
        await asyncio.wait_for(event.wait(), timeout)
        event.clear()


class Bot:
    """A bot process: our service (`python -m bot run`, started as the tests start it) or the echo bot."""

    def __init__(self, name: str, api: BotApiEmulator, data_dir: Path) -> None:
        self.name, self.api = name, api
        self.service = ServiceProcess(
            data_dir,
            api,
            profile=os.environ.get("BENCH_PROFILE"),  # a cProfile of the service
            WSPOLNOTA_LOG_LEVEL="WARNING",
            # Simulated residents answer faster than people can: no flood control in the way.
            WSPOLNOTA_TELEGRAM_FLOOD_LIMIT="0",
        )
        self.echo: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Bot:
        if self.name == "service":
            await self.service.start()
            return self
        polls = len(self.api.calls("getUpdates"))
        echo_bot = [sys.executable, str(Path(__file__).with_name("echo_bot.py"))]
        self.echo = await asyncio.create_subprocess_exec(*echo_bot, cwd=REPOSITORY, env=self.service.env)
        await self.api.wait_for(lambda: len(self.api.calls("getUpdates")) > polls, 60, f"{self.name} polling")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.echo is None:
            await self.service.stop()
            return
        self.echo.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.echo.wait(), 30)

    @property
    def cpu(self) -> float:
        return cpu_seconds(self.echo.pid if self.echo is not None else self.service.pid)


async def prepare_service_resident(api: BotApiEmulator, replies: Replies, user_id: int) -> None:
    """Gets a resident past the privacy notice to the first question."""
    api.user(user_id)
    api.send_command(user_id, "/start", "bench")
    await replies.next(user_id)
    message = next(m for m in reversed(api.sent(user_id)) if api.buttons(user_id, m["message_id"]))
    accept = dict(api.buttons(user_id, message["message_id"]))["Zgadzam się, zaczynam"]
    api.press(user_id, message["message_id"], accept)
    while "Pytanie 1 z" not in api.sent(user_id)[-1].get("text", ""):
        await replies.next(user_id)


def answers_for(kind: str) -> list[str]:
    # At the first question "Wola" answers it and the second question follows; "/back" returns.
    return ["Wola", "/back"] if kind == "service" else ["Dzień dobry, sąsiedzi!"]


async def saturate(
    api: BotApiEmulator, replies: Replies, bot: Bot, users: list[int], steps: int
) -> tuple[float, float]:
    """Every resident answers as soon as the bot replies; returns (updates/s, CPU s per update)."""
    script = answers_for(bot.name)

    async def resident(user_id: int) -> None:
        for step in range(steps):
            api.send_text(user_id, script[step % len(script)])
            await replies.next(user_id)

    cpu, started = bot.cpu, time.perf_counter()
    await asyncio.gather(*(resident(user) for user in users))
    elapsed, used = time.perf_counter() - started, bot.cpu - cpu
    updates = len(users) * steps
    return updates / elapsed, used / updates


async def street_event(
    api: BotApiEmulator, replies: Replies, bot: Bot, users: list[int], seconds: float
) -> list[float]:
    """Each resident answers every ~5 s; returns the update→reply latencies in seconds."""
    script = answers_for(bot.name)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async def resident(user_id: int) -> None:
        await asyncio.sleep(rng.uniform(0, 5))  # arrivals spread over the first interval
        step = 0
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            api.send_text(user_id, script[step % len(script)])
            await replies.next(user_id)
            latencies.append(time.perf_counter() - sent)
            step += 1
            await asyncio.sleep(max(0.0, rng.uniform(4, 6) - (time.perf_counter() - sent)))

    await asyncio.gather(*(resident(user) for user in users))
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20, help="saturation: residents answering at once")
    parser.add_argument("--steps", type=int, default=50, help="saturation: answers per resident")
    parser.add_argument("--crowd", type=int, default=200, help="street event: residents, one answer per ~5 s each")
    parser.add_argument("--seconds", type=float, default=30, help="street event: duration")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wspolnota-bench-tg-"))
    results: dict[str, dict[str, float]] = {}
    for name in ("echo", "service"):
        async with BotApiEmulator() as api:
            replies = Replies(api)
            async with Bot(name, api, root / name) as bot:
                users = list(range(1000, 1000 + max(args.residents, args.crowd)))
                if name == "service":
                    for chunk in range(0, len(users), 50):
                        await asyncio.gather(
                            *(prepare_service_resident(api, replies, u) for u in users[chunk : chunk + 50])
                        )
                else:
                    for user in users:
                        api.user(user)
                rate, cpu = await saturate(api, replies, bot, users[: args.residents], args.steps)
                latencies = await street_event(api, replies, bot, users[: args.crowd], args.seconds)
                results[name] = {
                    "rate": rate,
                    "cpu": cpu,
                    "p50": pct(latencies, 50),
                    "p99": pct(latencies, 99),
                    "n": len(latencies),
                    "offered": len(latencies) / args.seconds,
                }
    loads = f"(a) saturation: {args.residents} residents x {args.steps} answers"
    print(f"\n{loads}; (b) {args.crowd} residents for {args.seconds:.0f} s")
    print(f"{'bot':>8} {'updates/s':>10} {'CPU ms/update':>14} {'(b) updates/s':>14} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        cpu_ms = r["cpu"] * 1000
        print(f"{name:>8} {r['rate']:>10.0f} {cpu_ms:>14.2f} {r['offered']:>14.1f} {r['p50']:>8.1f} {r['p99']:>8.1f}")
    ratio = results["service"]["cpu"] / results["echo"]["cpu"]
    p99 = results["service"]["p99"]
    print(f"\nCPU per update, service / echo: {ratio:.2f} (aim <= 1.5); (b) service p99 {p99:.1f} ms (aim <= 50)")


if __name__ == "__main__":
    asyncio.run(main())
