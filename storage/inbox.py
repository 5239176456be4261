"""The durable channel inbox: what a channel received, kept before it is acknowledged upstream, once.

Telegram updates land here before the next getUpdates confirms them; the step that handles one
records it handled in the same transaction, so a redelivery or a restart never applies it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update

from storage.dialect import insert, locked
from storage.models import InboxItem
from storage.repository import Store, Unit


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One item a channel received: its id upstream, the chat it belongs to, and its content."""

    external_id: str
    chat: str | None
    payload: dict[str, Any] | None


async def receive(
    store: Store, channel: str, entries: Sequence[InboxEntry], now: datetime, replied: Sequence[str] = ()
) -> dict[str, int]:
    """Stores received items durably, skipping ones seen before; returns the new ones' ids by external id.

    `replied` marks earlier items answered in the same transaction (saves one per batch).
    """
    if not entries and not replied:
        return {}
    async with store.unit() as unit:
        if replied:
            await _mark_replied(unit, channel, replied, now)
        if not entries:
            return {}
        statement = _insert(unit.dialect, channel, entries, now, handled=False)
        result = await unit.session.execute(statement.returning(InboxItem.external_id, InboxItem.id))
        return {external_id: item_id for external_id, item_id in result}


async def unreplied(store: Store, channel: str, limit: int = 200) -> list[InboxEntry]:
    """Lists received items not yet answered, oldest first."""
    async with store.unit(write=False) as unit:
        query = (
            select(InboxItem.external_id, InboxItem.chat, InboxItem.payload)
            .where(InboxItem.channel == channel, InboxItem.replied_at.is_(None))
            .order_by(InboxItem.id)
            .limit(limit)
        )
        rows = await unit.session.execute(query)
        return [InboxEntry(external_id, chat, payload) for external_id, chat, payload in rows]


async def mark_replied(store: Store, channel: str, external_ids: Sequence[str], now: datetime) -> None:
    """Marks items answered (and handled), erasing the message they held."""
    if external_ids:
        async with store.unit() as unit:
            await _mark_replied(unit, channel, external_ids, now)


async def find_deliveries(unit: Unit, channel: str, external_ids: Sequence[str]) -> dict[str, InboxItem]:
    """Loads items received before, by their upstream id (locked on PostgreSQL), in the caller's transaction."""
    if not external_ids:
        return {}
    query = select(InboxItem).where(InboxItem.channel == channel, InboxItem.external_id.in_(external_ids))
    return {item.external_id: item for item in await unit.session.scalars(locked(query, unit.dialect))}


async def record_handled(unit: Unit, channel: str, entries: Sequence[InboxEntry], now: datetime) -> None:
    """Stores received items together with the effect that handled them, in the caller's transaction."""
    if entries:
        await unit.session.execute(_insert(unit.dialect, channel, entries, now, handled=True))


async def erase_chat(unit: Unit, channel: str, chat: str) -> int:
    """Erases what a chat's items held and whose they were; returns how many there were.

    The rows themselves stay, holding only their upstream id: a redelivery (Telegram resends what
    was not confirmed yet) is then recognised and applied never, instead of bringing the person back.
    """
    erased = update(InboxItem).where(chat_items(channel, chat)).values(payload=None, chat=None)
    result = await unit.session.execute(erased)
    return int(getattr(result, "rowcount", 0) or 0)


def chat_items(channel: str, chat: str) -> ColumnElement[bool]:
    """A chat's items, as `erase_chat` erases them (and an erasure's preview counts them)."""
    return and_(InboxItem.channel == channel, InboxItem.chat == chat)


async def _mark_replied(unit: Unit, channel: str, external_ids: Sequence[str], now: datetime) -> None:
    await unit.session.execute(
        update(InboxItem)
        .where(InboxItem.channel == channel, InboxItem.external_id.in_(external_ids))
        .values(replied_at=now, handled_at=func.coalesce(InboxItem.handled_at, now), payload=None)
    )


def _insert(dialect: str, channel: str, entries: Sequence[InboxEntry], now: datetime, *, handled: bool) -> Any:
    rows = [
        {
            "channel": channel,
            "external_id": entry.external_id,
            "chat": entry.chat,
            "payload": entry.payload,
            "received_at": now,
            "handled_at": now if handled else None,
        }
        for entry in entries
    ]
    return insert(dialect, InboxItem).values(rows).on_conflict_do_nothing(index_elements=["channel", "external_id"])
