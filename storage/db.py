"""The database engine, its session factory, SQLite pragmas and migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BEGIN = "sqlite_begin"  # execution option: DEFERRED (default) or IMMEDIATE


class DatabaseUnavailable(Exception):
    """The database cannot be reached or set up."""


def _sqlite_url(url: str) -> str:
    """Makes sure a SQLite URL uses the async driver and its folder exists."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Builds the async engine for an SQLAlchemy URL (SQLite/aiosqlite or PostgreSQL/asyncpg)."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_async_engine(_sqlite_url(url), echo=echo)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return create_async_engine(parsed, echo=echo, pool_pre_ping=True)
    raise DatabaseUnavailable(f"unsupported database {backend!r}: use sqlite or postgresql")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's `begin` event emit BEGIN itself, so it can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL keeps every commit through a process crash or kill -9;
        # only a power cut may lose the last transactions (https://sqlite.org/wal.html).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write step waits for another
        # writer (the CLI beside the service) instead of failing with SQLITE_BUSY halfway.
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def create_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Builds the session factory the whole service shares (one session per task)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema up to date with Alembic (run at start-up and by `wspolnota db upgrade`).

    Raises:
        DatabaseUnavailable: when the database cannot be reached or migrated.
    """

    def run(connection: Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    except (SQLAlchemyError, OSError) as err:
        raise DatabaseUnavailable(f"{engine.url.render_as_string(hide_password=True)}: {err}") from err


async def current_revision(engine: AsyncEngine) -> str | None:
    """Tells which migration the database is at (None when it has none)."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
