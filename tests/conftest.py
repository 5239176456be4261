"""Fixtures shared by every test: settings on a temp data dir and the tests' questionnaire, the service,
a scripted respondent. Their building blocks live in `tests.support`."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bot.console import accounts
from bot.service import Config, Service, load_config, open_service
from bot.settings import Settings, load_settings
from storage.db import sqlite_file
from tests.support import SHIPPED_CONFIG, FakeClock, Person, make_settings
from tests.support.database import migrated_sqlite

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.dovecot",
    "tests.support.smtp",
    "tests.support.telegram_fixtures",
]


SERVER_FIXTURES = frozenset({"postgres_server", "postgres_url", "dovecot", "smtp_server"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: starts servers or the service process (the fast loop: -m 'not integration')"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `integration` every test under tests/integration and every test that starts a server."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "integration" in item.path.parts or fixtures & SERVER_FIXTURES or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id at its lowest cost in the tests' own process: each staff sign-in then takes microseconds, not
    ~0.1 s of CPU. The console's behaviour is the same; production keeps the library's parameters (a service
    the tests start as a process hashes with those), and the dummy hash for unknown emails is made alike."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", hasher)
        patch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not anyone's password"))
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 5, 30, 12, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/t.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temp data dir and the tests' configuration (tests/support/config)."""
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def shipped_config() -> Config:
    """The programme's own configuration (config/): only the tests of the shipped files use it."""
    return load_config(load_settings({"WSPOLNOTA_CONFIG_DIR": str(SHIPPED_CONFIG)}, env_file=None))


@pytest.fixture
def config(settings: Settings) -> Config:
    """The tests' configuration (tests/support/config): their questionnaire, events and the shipped messages."""
    return load_config(settings)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database at the newest schema, made once: `service` starts from a copy of it."""
    return migrated_sqlite(tmp_path_factory.mktemp("template") / "wspolnota.db")


@pytest.fixture
async def service(settings: Settings, clock: FakeClock, migrated_database: Path) -> AsyncIterator[Service]:
    """The service on the tests' configuration and a fresh SQLite database (a copy of the migrated one)."""
    database = sqlite_file(settings.database)
    if database is not None and not database.exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_database, database)
    async with open_service(settings, clock=clock) as running:
        yield running


@pytest.fixture
def person(service: Service) -> Person:
    return Person(service)
