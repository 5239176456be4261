"""Benchmark: the staff console in the real service (`python -m bot run`) over a large SQLite database.

Seeds SQLite as bench/export does (the shipped questionnaire, every question answered), adds a coordinator
by `wspolnota staff add` who sets the password through the setup link and signs in over HTTP, then measures
in one run:
  (1) the live dashboard: `GET /staff/dashboard.json` from N browsers polling as console.js does (every 5 s,
      each from its own moment), with the figures shared between browsers (as shipped: one computation for
      the browsers asking at once, kept FRESH_FOR seconds or COST_SHARE times its cost) and with the sharing
      off (a second service process whose Dashboard.figures computes for every request: nothing added to
      production):
      requests/s, p50/p95, the service's CPU seconds, and their ratios; meanwhile residents answer in the
      web chat (POST, 303, GET, each every ~2 s), their step latency beside the same residents alone;
  (2) an export downloaded from the console (`POST /staff/data/export`, CSV for Excel and XLSX) beside the
      same export by `wspolnota export --format csv|xlsx --out F`: seconds and memory growth (the service's
      peak RSS over its RSS before the download; the command's peak over its peak when nothing matches);
  (3) the residents answering while the console writes an export (the export is written on the service's
      event loop: openpyxl is pure Python): their step latency while one coordinator downloads the CSV for
      Excel, and the XLSX, back to back (as many as fill 10 s at the time one took alone in (2)), the residents
      answering as long, beside the same residents alone right before.
Usage: `python -m bench.console [--submissions 100000] [--pollers 20] [--residents 10] [--seconds 15]
[--skip dashboard|unshared|downloads|during ...]` (about 4 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from bench.export.__main__ import ROWS, measure, seed
from bench.measure import cpu_seconds, pct
from bench.web.__main__ import busy_stand
from bot.console.app import COOKIE
from tests.support import REPOSITORY, SHIPPED_CONFIG, ServiceProcess, free_port

SECRET = "bench-" + "x" * 32  # the key bench/export's seed uses
EMAIL = "koordynator@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"
POLL_EVERY = 5.0  # seconds: console.js's setInterval(poll, 5000)
CHUNK = 1 << 16
DURING_AT_LEAST = 10.0  # seconds: the shortest stretch of residents answering while exports are downloaded
PARTS = ("dashboard", "unshared", "downloads", "during")
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
# The same command as `wspolnota run`, with the dashboard's figures computed for every request.
UNSHARED = (
    "import bot.console.dashboard as d; "
    "d.Dashboard.figures = lambda self, language, wanted=None: self._compute(self.questionnaire(wanted), language); "
    "from bot.cli import main; main(prog_name='wspolnota')"
)


class UnsharedService(ServiceProcess):
    """`wspolnota run` with the dashboard's sharing off (bot.console.dashboard.Dashboard.figures computing for
    every request), for this benchmark only."""

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-c", UNSHARED, "run"]


@dataclass(frozen=True, slots=True)
class Phase:
    """One stretch of the dashboard's measurement: the polls' and residents' latencies, the service's CPU."""

    polls: list[float]
    rate: float  # polls answered per second
    cpu: float  # the service's CPU seconds in the stretch
    steps: list[float]


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    if found is None:
        raise SystemExit("no CSRF field on the console's page")
    return found.group(1)


def service_process(data: Path, port: int, *, shared: bool) -> ServiceProcess:
    kind = ServiceProcess if shared else UnsharedService
    return kind(
        data,
        WSPOLNOTA_WEB_PORT=str(port),
        WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG),
        WSPOLNOTA_SECRET_KEY=SECRET,
        WSPOLNOTA_WEB_RATE_LIMIT="0",
        # Every visitor of the bench comes from 127.0.0.1: no hourly cap on new ones.
        WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR="0",
        WSPOLNOTA_LOG_LEVEL="WARNING",
    )


def setup_link(service: ServiceProcess) -> str:
    """`wspolnota staff add EMAIL --role coordinator` beside the service: the setup link it prints."""
    added = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", EMAIL, "--role", "coordinator", "--web", service.url],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return added.stdout.splitlines()[-1]


async def coordinator(service: ServiceProcess) -> str:
    """A coordinator added by `wspolnota staff add`, its password set through the setup link and signed in
    over HTTP, as staff do it: the session cookie's value."""
    link = await asyncio.to_thread(setup_link, service)
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        token = csrf(await (await browser.get(link)).text())
        form = {"csrf": token, "email": EMAIL, "password": PASSWORD, "password_again": PASSWORD}
        async with browser.post(link, data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise SystemExit(f"setting the password answered {response.status}")
        token = csrf(await (await browser.get(f"{service.url}/staff/login")).text())
        form = {"csrf": token, "email": EMAIL, "password": PASSWORD, "code": "", "next": "/staff/"}
        async with browser.post(f"{service.url}/staff/login", data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise SystemExit(f"signing in answered {response.status}")
        for cookie in browser.cookie_jar:
            if cookie.key == COOKIE:
                return cookie.value
    raise SystemExit("no session cookie after signing in")


async def poll(url: str, session: str, pollers: int, seconds: float, every: float) -> tuple[list[float], float]:
    """`pollers` browsers polling the dashboard's figures every `every` seconds as console.js does (a poll
    is sent on time even when the last is not answered yet): the latencies and polls answered per second."""
    latencies: list[float] = []
    browsers = [ClientSession(url, cookies={COOKIE: session}) for _ in range(pollers)]

    async def one(browser: ClientSession) -> None:
        started = time.perf_counter()
        async with browser.get("/staff/dashboard.json", allow_redirects=False) as response:
            if response.status != 200:
                raise SystemExit(f"/staff/dashboard.json answered {response.status}")
            await response.read()
        latencies.append(time.perf_counter() - started)

    async def browse(browser: ClientSession, start: float) -> None:
        offset, sent = random.uniform(0, every), list[asyncio.Task[None]]()
        while (due := offset + len(sent) * every) < seconds:
            await asyncio.sleep(max(0.0, start + due - time.perf_counter()))
            sent.append(asyncio.create_task(one(browser)))
        await asyncio.gather(*sent)

    start = time.perf_counter()
    await asyncio.gather(*(browse(browser, start) for browser in browsers))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(browser.close() for browser in browsers))
    return latencies, len(latencies) / elapsed


async def phase(service: ServiceProcess, session: str, args: argparse.Namespace, *, pollers: int) -> Phase:
    cpu = cpu_seconds(service.pid)
    polled = poll(service.url, session, pollers, args.seconds, args.every) if pollers else None
    stepping = busy_stand(service.url, args.residents, args.seconds)  # each resident a step every ~2 s
    polls: list[float] = []
    rate = 0.0
    if polled is None:
        steps = await stepping
    else:
        steps, (polls, rate) = await asyncio.gather(stepping, polled)
    return Phase(polls, rate, cpu_seconds(service.pid) - cpu, steps)


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def reset_peak(pid: int) -> int:
    """Resets a process's peak RSS (VmHWM) to its RSS now (Linux: 5 into /proc/PID/clear_refs): its RSS, kB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return rss_kb(pid, "VmRSS")


async def data_token(browser: ClientSession) -> str:
    """The CSRF token of the console's Data page, as a coordinator's browser gets it."""
    return csrf(await (await browser.get("/staff/data", allow_redirects=False)).text())


async def fetch(browser: ClientSession, token: str, fmt: str, out: Path) -> float:
    """The export of every submission (`fmt` as the Data page's form names it) downloaded into `out`: seconds."""
    started = time.perf_counter()
    async with browser.post("/staff/data/export", data={"csrf": token, "format": fmt}) as response:
        if response.status != 200 or "attachment" not in response.headers.get("Content-Disposition", ""):
            raise SystemExit(f"the console's export answered {response.status}")
        with out.open("wb") as handle:
            async for chunk in response.content.iter_chunked(CHUNK):
                handle.write(chunk)
    return time.perf_counter() - started


async def download(service: ServiceProcess, session: str, fmt: str, out: Path) -> tuple[float, float]:
    """The export downloaded from the console's Data page into `out`: seconds, and the service's peak RSS
    over its RSS before the download (after one matching nothing), in MB."""
    async with ClientSession(service.url, cookies={COOKIE: session}) as browser:
        token = await data_token(browser)
        # First one matching nothing (the page says so): the export's modules imported, as the CLI's baseline.
        nothing = {"csrf": token, "format": fmt, "since": "2100-01-01"}
        async with browser.post("/staff/data/export", data=nothing) as empty:
            if empty.status != 200 or "Content-Disposition" in empty.headers:
                raise SystemExit(f"the console's empty export answered {empty.status}")
        before = reset_peak(service.pid)
        elapsed = await fetch(browser, token, fmt, out)
    return elapsed, (rss_kb(service.pid, "VmHWM") - before) / 1024


@dataclass(frozen=True, slots=True)
class During:
    """Residents answering while exports were downloaded back to back: their step latencies, the residents'
    stretch (seconds), each download's seconds, and the share of the stretch with a download running."""

    steps: list[float]
    seconds: float
    downloads: list[float]
    covered: float


async def during(service: ServiceProcess, session: str, fmt: str, out: Path, residents: int, took: float) -> During:
    """`residents` answering in the web chat (bench/web's busy stand) while one coordinator downloads the export
    `fmt` from the console, back to back from the stretch's start: as many downloads as fill DURING_AT_LEAST
    seconds at `took` seconds each (one took that long alone), the residents answering for as many times `took`,
    so that the steps are taken while the service writes an export (how much of the stretch had one running,
    `covered`, is measured: a download slowed by the residents ends after them)."""
    count = max(1, math.ceil(DURING_AT_LEAST / took))
    seconds = count * took
    async with ClientSession(service.url, cookies={COOKIE: session}) as browser:
        token = await data_token(browser)
        downloads: list[float] = []

        async def downloading() -> float:
            for _ in range(count):
                downloads.append(await fetch(browser, token, fmt, out))
            return time.perf_counter()

        started = time.perf_counter()
        steps, ended = await asyncio.gather(busy_stand(service.url, residents, seconds), downloading())
    return During(steps, seconds, downloads, min(1.0, (ended - started) / seconds))


def by_command(service: ServiceProcess, fmt: str, out: Path) -> tuple[float, float]:
    """`wspolnota export --format FMT --out OUT` beside the service: seconds, and its peak RSS over its peak
    when nothing matches (the interpreter, the imports and the database opened), in MB."""
    command = [sys.executable, "-m", "bot", "export", "--format", fmt, "--out"]
    seconds, peak = measure([*command, str(out)], service.env)
    _, idle = measure([*command, str(out.with_name("nothing")), "--since", "2100-01-01"], service.env)
    return seconds, peak - idle


def latency(values: list[float]) -> str:
    return f"{pct(values, 50):>8.1f} {pct(values, 95):>8.1f}" if len(values) > 1 else f"{'-':>8} {'-':>8}"


def ratio(values: list[float], alone: list[float], q: int) -> str:
    """The q-th percentile of `values` over that of `alone`, or "-" when either has too few to tell."""
    return f"{pct(values, q) / pct(alone, q):.2f}" if len(values) > 1 and len(alone) > 1 else "-"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--every", type=float, default=POLL_EVERY, help="seconds between a browser's polls")
    parser.add_argument("--residents", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--skip",
        action="append",
        choices=PARTS,
        default=[],
        help="a part not to measure (repeatable): the dashboard's pollers (both services), the unshared service"
        " only, the downloads beside the command, the residents during downloads",
    )
    args = parser.parse_args()
    skip = set(args.skip) | ({"unshared"} if "dashboard" in args.skip else set())
    if args.pollers < 2 or args.residents < 1 or args.seconds < args.every:
        parser.error("at least 2 pollers and 1 resident, and --seconds at least --every (a poll from each)")
    root = Path(tempfile.mkdtemp(prefix="wspolnota-bench-console-"))
    data = root / "data"
    started = time.perf_counter()
    submissions = await asyncio.to_thread(seed, data, len(ROWS) * args.submissions)
    print(f"seeded: {submissions:,} submissions ({len(ROWS)} answers each) in {time.perf_counter() - started:.0f} s")

    phases: dict[str, Phase] = {}
    exports: dict[str, tuple[float, float, int]] = {}
    downloading: dict[str, During] = {}
    before_downloads = Phase([], 0.0, 0.0, [])
    service = service_process(data, free_port(), shared=True)
    service.start_blocking(timeout=60)
    try:
        session = await coordinator(service)
        if "dashboard" not in skip:
            phases["residents alone"] = await phase(service, session, args, pollers=0)
            phases["pollers, shared"] = await phase(service, session, args, pollers=args.pollers)
        for console_fmt, fmt in (("csv_excel", "csv"), ("xlsx", "xlsx")):
            if "downloads" in skip:
                continue
            seconds, growth = await download(service, session, console_fmt, root / f"console.{fmt}")
            exports[f"console {fmt}"] = (seconds, growth, (root / f"console.{fmt}").stat().st_size)
            seconds, growth = await asyncio.to_thread(by_command, service, fmt, root / f"cli.{fmt}")
            exports[f"CLI {fmt}"] = (seconds, growth, (root / f"cli.{fmt}").stat().st_size)
        if "during" not in skip:
            # A fresh baseline right before: the same residents alone, on the service as it is now.
            before_downloads = await phase(service, session, args, pollers=0)
        for console_fmt, fmt in (("csv_excel", "csv"), ("xlsx", "xlsx")):
            if "during" in skip:
                continue
            # How long one download takes alone: from (2), or (skipped) one download first.
            out = root / f"during.{fmt}"
            took = exports[f"console {fmt}"][0] if f"console {fmt}" in exports else None
            if took is None:
                took, _ = await download(service, session, console_fmt, out)
            downloading[fmt] = await during(service, session, console_fmt, out, args.residents, took)
    finally:
        service.stop_blocking()
    if "unshared" not in skip:
        unshared = service_process(data, free_port(), shared=False)
        unshared.start_blocking(timeout=60)
        try:
            phases["pollers, unshared"] = await phase(unshared, session, args, pollers=args.pollers)
        finally:
            unshared.stop_blocking()

    if "dashboard" not in skip:
        report_dashboard(args, phases)
    if "downloads" not in skip:
        report_downloads(root, submissions, exports)
    if "during" not in skip:
        report_during(args, before_downloads, downloading)


def report_dashboard(args: argparse.Namespace, phases: dict[str, Phase]) -> None:
    """Part (1): the pollers' and residents' figures, shared and (unless skipped) per poll."""
    print(
        f"\n(1) the dashboard: {args.pollers} browsers polling every {args.every:g} s, {args.residents} residents"
        f" answering every ~2 s, {args.seconds:g} s each"
    )
    header = f"{'polls/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'CPU s':>6} {'step p50':>8} {'step p95':>8}"
    print(f"{'':>18} {header}")
    for name, p in phases.items():
        print(f"{name:>18} {p.rate:>8.1f} {latency(p.polls)} {p.cpu:>6.1f} {latency(p.steps)}")
    alone, shared = phases["residents alone"], phases["pollers, shared"]
    steps = f"shared p50 {ratio(shared.steps, alone.steps, 50)}, p95 {ratio(shared.steps, alone.steps, 95)}"
    if (apart := phases.get("pollers, unshared")) is not None:
        extra_shared, extra_apart = shared.cpu - alone.cpu, apart.cpu - alone.cpu
        polls = [pct(apart.polls, q) / pct(shared.polls, q) for q in (50, 95)]
        print(
            f"\nunshared / shared: CPU {apart.cpu / shared.cpu:.1f}x (the pollers' own, over the residents alone:"
            f" {extra_apart:.1f} s / {extra_shared:.1f} s), poll p50 {polls[0]:.1f}x, p95 {polls[1]:.1f}x"
        )
        steps += f"; unshared p50 {ratio(apart.steps, alone.steps, 50)}, p95 {ratio(apart.steps, alone.steps, 95)}"
    print(f"a resident's step with the pollers / alone: {steps}")


def report_downloads(root: Path, submissions: int, exports: dict[str, tuple[float, float, int]]) -> None:
    """Part (2): the console's downloads beside the command's."""
    print(f"\n(2) the export of {submissions:,} submissions, downloaded from the console and by the command")
    print(f"{'':>12} {'seconds':>8} {'RSS growth MB':>14} {'file MB':>8}")
    for name, (seconds, growth, size) in exports.items():
        print(f"{name:>12} {seconds:>8.1f} {growth:>14.1f} {size / 1e6:>8.1f}")
    same = (root / "console.csv").read_bytes() == (root / "cli.csv").read_bytes()
    print(f"the console's CSV and the CLI's are {'the same bytes' if same else 'NOT the same bytes'}")
    for fmt in ("csv", "xlsx"):
        console, cli = exports[f"console {fmt}"], exports[f"CLI {fmt}"]
        print(
            f"console / CLI, {fmt}: time {console[0] / cli[0]:.2f} (the CLI's includes starting Python); memory"
            f" growth {console[1]:.1f} MB / {cli[1]:.1f} MB, the console's {console[1] / (console[2] / 1e6):.2f}"
            " of the file's size"
        )


def report_during(args: argparse.Namespace, alone: Phase, downloading: dict[str, During]) -> None:
    """Part (3): the residents' steps while the console writes an export, beside the same residents alone."""
    print(
        f"\n(3) {args.residents} residents answering every ~2 s while a coordinator downloads an export from the"
        " console, back to back ('covered': the share of the stretch with one running)"
    )
    header = f"{'seconds':>7} {'downloads':>9} {'each s':>6} {'covered':>7} {'steps':>5}"
    print(f"{'':>22} {header} {'step p50':>8} {'step p95':>8}")
    none = f"{'-':>9} {'-':>6} {'-':>7}"
    print(f"{'residents alone':>22} {args.seconds:>7.1f} {none} {len(alone.steps):>5} {latency(alone.steps)}")
    for fmt, d in downloading.items():
        each = sum(d.downloads) / len(d.downloads)
        print(
            f"{'during ' + fmt + ' downloads':>22} {d.seconds:>7.1f} {len(d.downloads):>9} {each:>6.1f}"
            f" {d.covered:>7.0%} {len(d.steps):>5} {latency(d.steps)}"
        )
    print(
        "a resident's step during the download / alone: "
        + "; ".join(
            f"{fmt} p50 {ratio(d.steps, alone.steps, 50)}, p95 {ratio(d.steps, alone.steps, 95)}"
            for fmt, d in downloading.items()
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
