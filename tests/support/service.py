"""The one way tests and benchmarks start the service: `python -m bot run` in its own process."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.settings import REPOSITORY, service_environment

if TYPE_CHECKING:
    from tests.support.telegram_emulator import BotApiEmulator

STAFF = 900  # the Telegram user id the service treats as staff
COMMAND = [sys.executable, "-m", "bot", "run"]


class ServiceNotReady(AssertionError):
    """The service process did not come up (its log tail is in the message)."""


class ServiceProcess:
    """`python -m bot run` as it runs in production, on the tests' configuration and its own data dir.

    With `api` (the Bot API emulator) the Telegram channel runs against it and the web chat is off;
    `settings` are further WSPOLNOTA_* variables. Async tests use start/stop/kill; synchronous ones
    (Playwright, a server shared by a module) use start_blocking/stop_blocking.
    """

    def __init__(
        self,
        data_dir: Path,
        api: BotApiEmulator | None = None,
        *,
        log: Path | None = None,
        files: int | None = None,
        profile: str | None = None,
        **settings: str,
    ) -> None:
        self.api = api
        self.data_dir = data_dir
        self.log = log or data_dir / "service.log"
        self.files = files  # a file descriptor limit for the child (RLIMIT_NOFILE)
        self.profile = profile  # write a cProfile of the service here
        telegram = {}
        if api is not None:
            telegram = {
                "WSPOLNOTA_WEB_ENABLED": "false",
                "WSPOLNOTA_TELEGRAM_TOKEN": api.token,
                "WSPOLNOTA_TELEGRAM_API_URL": api.base_url,
                "WSPOLNOTA_TELEGRAM_STAFF_IDS": str(STAFF),
                "WSPOLNOTA_TELEGRAM_POLL_TIMEOUT": "5",
                "WSPOLNOTA_LOG_LEVEL": "INFO",
            }
        self.env = {**os.environ, **service_environment(data_dir, **{**telegram, **settings})}
        self.process: asyncio.subprocess.Process | None = None
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        if self.profile:
            return [COMMAND[0], "-m", "cProfile", "-o", self.profile, *COMMAND[1:]]
        return list(COMMAND)

    @property
    def url(self) -> str:
        """The web chat's address (the service must have WSPOLNOTA_WEB_PORT set)."""
        return f"http://127.0.0.1:{self.env['WSPOLNOTA_WEB_PORT']}"

    @property
    def pid(self) -> int:
        running = self.process or self.popen
        assert running is not None, "the service was never started"
        return running.pid

    @property
    def web_enabled(self) -> bool:
        return self.env.get("WSPOLNOTA_WEB_ENABLED", "true") != "false"

    def _limit_files(self) -> None:
        if self.files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.files, self.files))

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    # -- from async tests ---------------------------------------------------------------------

    async def start_without_waiting(self) -> None:
        """Starts the process and returns at once."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=REPOSITORY,
                env=self.env,
                stdout=log,
                stderr=log,
                preexec_fn=self._limit_files if self.files is not None else None,  # only setrlimit, before exec
            )

    async def start(self) -> None:
        """Starts the process and returns once it works: polling Telegram, or its web chat answering."""
        polls = len(self.api.calls("getUpdates")) if self.api is not None else 0
        await self.start_without_waiting()
        if self.api is not None:
            api = self.api
            await api.wait_for(lambda: len(api.calls("getUpdates")) > polls, 30, "the service polling")
        elif self.web_enabled and "WSPOLNOTA_WEB_PORT" in self.env:
            await asyncio.to_thread(self._wait_until_serving, 30)

    async def stop(self) -> None:
        """SIGTERM, as systemd stops it; the service must exit cleanly."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 30)
        assert code == 0, self.log_tail()

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.returncode is None
        return self.popen is not None and self.popen.poll() is None

    # -- from synchronous tests ---------------------------------------------------------------

    def start_blocking(self, timeout: float = 20) -> None:
        """Starts the process and returns once its web chat answers /healthz."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                self.command,
                cwd=REPOSITORY,
                env=self.env,
                stdout=log,
                stderr=log,
                preexec_fn=self._limit_files if self.files is not None else None,  # only setrlimit, before exec
            )
        try:
            self._wait_until_serving(timeout)
        except ServiceNotReady:
            self.popen.kill()
            self.popen.wait()
            raise

    def stop_blocking(self, timeout: float = 30) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.popen is not None
        self.popen.terminate()
        return self.popen.wait(timeout=timeout)

    def kill_blocking(self) -> None:
        """SIGKILL and wait: no cleanup of any kind."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait()

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = self.popen or self.process
            if running is not None and running.returncode is not None:
                break
            if self.popen is not None and self.popen.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                # A process on the other side of a socket: poll it, with a deadline.
                time.sleep(0.1)
        raise ServiceNotReady("the service did not start: " + self.log_tail())
