"""Benchmark: the web chat (the real `python -m bot run`) beside a bare aiohttp app, in one run.

A step is what a resident's tap costs: POST /say (engine, commit) → 303 → GET / (the next page).
Visitors alternate between answering the first question and going back, so every step writes.
  (a) saturation — visitors step as soon as the page arrives: steps/s and server CPU per step,
      and the ratio service / bare aiohttp;
  (b) a busy stand area — visitors each stepping every ~2 s: p50/p99 step latency.
Usage: `python -m bench.web [--visitors 20] [--steps 40] [--crowd 40] [--seconds 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from bench.measure import cpu_seconds, pct
from tests.support import REPOSITORY, ServiceProcess, free_port

_FIELD = re.compile(r'name="(csrf|turn)" value="([^"]*)"')
_BUTTON = re.compile(r'name="button" value="([^"]*)"')


def start_floor(port: int) -> subprocess.Popen[bytes]:
    """The bare aiohttp app the service is measured against; returns once it answers."""
    command = [sys.executable, str(Path(__file__).with_name("floor.py")), str(port)]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command} did not start")


def stop_floor(floor: subprocess.Popen[bytes]) -> None:
    floor.terminate()
    floor.wait(timeout=30)


class Visitor:
    """One browser without JavaScript: keeps its cookie and the page's form fields."""

    def __init__(self, url: str) -> None:
        self.session = ClientSession(url, cookie_jar=CookieJar(unsafe=True))
        self.fields: dict[str, str] = {}
        self.buttons: list[str] = []

    async def open(self) -> None:
        self._read(await (await self.session.get("/?lang=en")).text())
        if "a:accept::" in self.buttons:
            await self.press("a:accept::")

    def _read(self, html: str) -> None:
        self.fields = dict(_FIELD.findall(html))
        self.buttons = _BUTTON.findall(html)

    async def press(self, value: str) -> None:
        async with self.session.post("/say", data={**self.fields, "button": value}) as response:
            self._read(await response.text())

    async def step(self) -> float:
        """Answers the first question, or goes back to it; returns the seconds it took."""
        options = [b for b in self.buttons if b.startswith("o:district:")]
        back = next((b for b in self.buttons if b.startswith("a:back:")), None)
        started = time.perf_counter()
        await self.press(options[0] if options else back or "a:start::")
        return time.perf_counter() - started


async def saturate(url: str, pid: int, visitors: int, steps: int) -> tuple[float, float]:
    crowd = [Visitor(url) for _ in range(visitors)]
    await asyncio.gather(*(v.open() for v in crowd))
    cpu, started = cpu_seconds(pid), time.perf_counter()

    async def walk(visitor: Visitor) -> None:
        for _ in range(steps):
            await visitor.step()

    await asyncio.gather(*(walk(v) for v in crowd))
    elapsed, used = time.perf_counter() - started, cpu_seconds(pid) - cpu
    await asyncio.gather(*(v.session.close() for v in crowd))
    total = visitors * steps
    return total / elapsed, used / total


async def busy_stand(url: str, visitors: int, seconds: float) -> list[float]:
    crowd = [Visitor(url) for _ in range(visitors)]
    await asyncio.gather(*(v.open() for v in crowd))
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def walk(visitor: Visitor) -> None:
        await asyncio.sleep(random.uniform(0, 2))
        while time.perf_counter() < deadline:
            latencies.append(await visitor.step())
            await asyncio.sleep(random.uniform(1.5, 2.5))

    await asyncio.gather(*(walk(v) for v in crowd))
    await asyncio.gather(*(v.session.close() for v in crowd))
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--crowd", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="wspolnota-bench-web-"))
    results = {}
    for name in ("service", "aiohttp"):
        port = free_port()
        if name == "service":
            service = ServiceProcess(
                data,
                WSPOLNOTA_WEB_PORT=str(port),
                WSPOLNOTA_WEB_RATE_LIMIT="0",
                # Every visitor of the bench comes from 127.0.0.1: no hourly cap on new ones.
                WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR="0",
                WSPOLNOTA_LOG_LEVEL="WARNING",
            )
            service.start_blocking(timeout=30)
            pid, stop = service.pid, service.stop_blocking
        else:
            floor = start_floor(port)
            pid, stop = floor.pid, partial(stop_floor, floor)
        try:
            url = f"http://127.0.0.1:{port}"
            rate, cpu = await saturate(url, pid, args.visitors, args.steps)
            latencies = await busy_stand(url, args.crowd, args.seconds)
        finally:
            stop()
        offered = len(latencies) / args.seconds
        results[name] = (rate, cpu * 1000, offered, pct(latencies, 50), pct(latencies, 99))
    print(f"\n{'':>8} {'steps/s':>8} {'CPU ms/step':>12} {'offered/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (rate, cpu_ms, offered, p50, p99) in results.items():
        print(f"{name:>8} {rate:>8.0f} {cpu_ms:>12.2f} {offered:>10.1f} {p50:>8.1f} {p99:>8.1f}")
    ratio = results["service"][1] / results["aiohttp"][1]
    print(f"\nCPU per step, service / bare aiohttp: {ratio:.1f} (the engine, a durable commit and the page)")


if __name__ == "__main__":
    asyncio.run(main())
