"""The database engine, its session factory, SQLite pragmas and migrations."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BEGIN = "sqlite_begin"  # execution option: DEFERRED (default) or IMMEDIATE


# What the composition root holds and the channels catch, named here so that only storage imports SQLAlchemy.
Engine = AsyncEngine
StorageError = SQLAlchemyError  # any fault the database or its driver reports (see is_transient)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or set up."""


def is_transient(err: BaseException) -> bool:
    """A fault of the database or the network that goes away by itself (down, locked, full, a lost
    connection), so the same work is tried again; anything else is a fault of that one piece of work."""
    if isinstance(err, OSError | TimeoutError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(err, OperationalError | InterfaceError):
        return "malformed" not in str(err)  # a damaged SQLite file does not mend itself
    return isinstance(err, DBAPIError) and err.connection_invalidated


def is_database_fault(err: BaseException) -> bool:
    """Any fault of the database or its connection, passing or not (a damaged file, a refused
    statement): what a channel answers with "not saved just now" rather than a server error."""
    return isinstance(err, SQLAlchemyError | OSError)


class DatabaseDamaged(DatabaseUnavailable):
    """The SQLite file is corrupt ("database disk image is malformed")."""

    def __init__(self, path: Path | None, reason: str) -> None:
        super().__init__(f"{path or 'the database'} is damaged: {reason}")
        self.path = path
        self.reason = reason


def database_url(url: str) -> URL:
    """Parses a database URL into the async one the service uses (aiosqlite or asyncpg).

    Raises:
        DatabaseUnavailable: saying why the URL cannot be used, with any password hidden.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            "not a database URL: use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user:password@host/db"
        ) from None
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(f"unsupported database {backend!r}: use sqlite or postgresql")
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except (NoSuchModuleError, ImportError) as err:
        raise DatabaseUnavailable(
            f"the driver {parsed.drivername!r} cannot be loaded ({err}): use sqlite+aiosqlite or postgresql+asyncpg"
        ) from None
    if not dialect.is_async:
        raise DatabaseUnavailable(
            f"{parsed.drivername!r} is not an async driver: use sqlite+aiosqlite or postgresql+asyncpg"
        )
    return parsed


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None for PostgreSQL, memory or an unparsable URL)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def quick_check(path: Path) -> list[str]:
    """Runs SQLite's `PRAGMA quick_check` on an existing file; returns the problems (none when sound).

    Blocking, and meant for start-up and `wspolnota check`, before the event loop is busy.
    """
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=10)
    except sqlite3.Error as err:
        return [str(err)]
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as err:
        return [str(err)]
    finally:
        connection.close()
    return [str(row[0]) for row in rows if row[0] != "ok"]


def is_damaged(err: BaseException) -> bool:
    """Tells whether a database error means the SQLite file itself is corrupt."""
    original = getattr(err, "orig", err)
    text = str(original)
    return isinstance(original, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    )


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Builds the async engine for an SQLAlchemy URL (SQLite/aiosqlite or PostgreSQL/asyncpg).

    Raises:
        DatabaseUnavailable: when the URL is not one the service can use.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        # aiosqlite logs every statement with its parameters at DEBUG: residents' answers, email addresses,
        # staff accounts. WSPOLNOTA_LOG_LEVEL=DEBUG is for tracebacks, never for the data.
        logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger("aiosqlite").level))
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(parsed, echo=echo, pool_pre_ping=True)


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
        if is_damaged(err):
            raise DatabaseDamaged(sqlite_file(engine.url.render_as_string()), str(getattr(err, "orig", err))) from err
        raise DatabaseUnavailable(f"{engine.url.render_as_string(hide_password=True)}: {err}") from err


async def current_revision(engine: AsyncEngine) -> str | None:
    """Tells which migration the database is at (None when it has none)."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
