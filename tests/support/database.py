"""Reading what the service stored, the way a test checks it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.service import Service
from storage.db import create_engine, upgrade
from storage.models import Submission
from storage.repository import Store


async def count(store: Store, model: Any, *where: Any) -> int:
    """How many rows of `model` match every condition in `where`."""
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def submissions(service: Service) -> list[Submission]:
    """Every submission the service stored, oldest first."""
    async with service.store.sessions() as session:
        return list((await session.scalars(select(Submission).order_by(Submission.id))).all())


def migrated_sqlite(path: Path) -> Path:
    """An SQLite file at `path` brought to the newest schema by `storage.db.upgrade` itself.

    Made once per test session and copied for each test that opens the service on SQLite: the service's own
    upgrade then finds nothing to do, instead of running every migration again (about 0.1 s a test). The
    migrations keep their own tests, on empty and older databases (tests/integration/test_engine_databases.py).
    """

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection closed: the WAL is folded back into the file

    # In a thread of its own: the test session's event loops are pytest-asyncio's, not to be disturbed.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, build()).result()
    assert not path.with_name(f"{path.name}-wal").exists(), "copy a database only when no one has it open"
    return path
