"""Fixtures for the Telegram end-to-end tests: the Bot API emulator and the service process polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import create_engine, create_sessions
from storage.repository import Store
from tests.support.service import ServiceProcess
from tests.support.telegram_emulator import BotApiEmulator


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    """The local Bot API server the real python-telegram-bot client talks to."""
    async with BotApiEmulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(api: BotApiEmulator, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    """`python -m bot run` against the emulator, not started yet (a test may change its environment first)."""
    running = ServiceProcess(tmp_path / "data", api)
    running.env["WSPOLNOTA_TELEGRAM_POLL_TIMEOUT"] = "2"
    yield running
    if running.running:
        await running.stop()


@pytest.fixture
async def bot_store(bot: ServiceProcess) -> AsyncIterator[Store]:
    """The bot's SQLite database, read beside the running service."""
    engine = create_engine(f"sqlite+aiosqlite:///{bot.data_dir / 'wspolnota.db'}")
    yield Store(create_sessions(engine))
    await engine.dispose()
