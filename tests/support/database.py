"""Reading what the service stored, the way a test checks it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.service import Service
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
