"""The audit log: who exported, erased or set up what, when, with which filters — never the data itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from storage.models import AuditEntry
from storage.repository import Store, Unit


async def audit(store: Store, actor: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """Writes who did what with which filters, in a transaction of its own."""
    async with store.unit() as unit:
        audit_in(unit, actor, action, details, now)


def audit_in(unit: Unit, actor: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """Writes who did what in the caller's transaction: the entry stands or falls with the act."""
    unit.add(AuditEntry(at=now, actor=actor, action=action, details=details))


async def audit_entries(store: Store, *, offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
    """A page of the audit log, newest first, and how many entries there are in all."""
    async with store.unit(write=False) as unit:
        total = await unit.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
        entries = list(await unit.session.scalars(query))
    return entries, total


async def latest_by_actor(store: Store, action: str) -> dict[str, datetime]:
    """When each actor last did `action` (e.g. each staff account's last `staff_sign_in`)."""
    async with store.unit(write=False) as unit:
        query = select(AuditEntry.actor, func.max(AuditEntry.at)).where(AuditEntry.action == action)
        rows = await unit.session.execute(query.group_by(AuditEntry.actor))
        return {actor: at for actor, at in rows.all()}
