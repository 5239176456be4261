"""Fixtures shared by every test: settings on a temp data dir, the service, a scripted respondent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.service import Config, Service, load_config, open_service
from bot.settings import Settings, load_settings
from handlers.engine.messages import Action, Inbound, Reply, ReplyKind, RespondentRef

pytest_plugins = ["tests.pg", "tests.dovecot", "tests.smtp"]

REPOSITORY = Path(__file__).resolve().parent.parent
CONFIG = REPOSITORY / "config"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 5, 30, 12, 0, tzinfo=UTC))


def make_settings(data_dir: Path, **extra: str) -> Settings:
    env = {"WSPOLNOTA_DATA_DIR": str(data_dir), "WSPOLNOTA_SECRET_KEY": "test-secret-" + "x" * 32, **extra}
    return load_settings(env, env_file=None)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/t.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def shipped_config() -> Config:
    return load_config(load_settings({"WSPOLNOTA_CONFIG_DIR": str(CONFIG)}, env_file=None))


@pytest.fixture
async def service(settings: Settings, clock: FakeClock) -> AsyncIterator[Service]:
    async with open_service(settings, clock=clock) as running:
        yield running


class Person:
    """A respondent scripted by a test: says things, taps buttons, remembers the last replies."""

    def __init__(self, service: Service, channel_id: str = "anna", channel: str = "terminal", **defaults: Any) -> None:
        self.service = service
        self.ref: RespondentRef = service.respondent(channel, channel_id, f"{channel}:{channel_id}")
        self.defaults = defaults
        self.replies: list[Reply] = []

    async def send(self, text: str | None = None, **fields: Any) -> list[Reply]:
        inbound = Inbound(self.ref, text=text, **{**self.defaults, **fields})
        self.replies = await self.service.conversation.handle(inbound)
        assert self.replies, "the engine must always answer"
        return self.replies

    async def act(self, action: Action, argument: str | None = None) -> list[Reply]:
        return await self.send(action=action, argument=argument)

    async def tap(self, code: str) -> list[Reply]:
        """Taps an option button of the current question."""
        return await self.send(choice=code, question=self.last.question)

    async def start(self, source: str | None = None, language: str | None = None) -> list[Reply]:
        return await self.send(action=Action.START, source=source, language=language)

    async def begin(self, source: str | None = None, language: str | None = None) -> list[Reply]:
        await self.start(source, language)
        assert self.last.kind is ReplyKind.PRIVACY
        return await self.act(Action.ACCEPT)

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def kinds(self) -> list[ReplyKind]:
        return [reply.kind for reply in self.replies]


@pytest.fixture
def person(service: Service) -> Person:
    return Person(service)
