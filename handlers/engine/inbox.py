"""A channel's durable inbox, as its transport sees it: what came in is stored before it is
confirmed upstream, and marked answered once the reply went out (exactly-once intake).

The transport holds one `Inbox` per channel, from the composition root; it never reads the
database itself. The conversation step that handles an input records it handled in the same
transaction (see `Conversation.handle`), so a redelivered input is never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.inbox import InboxEntry, mark_replied, receive, unreplied
from storage.repository import Store

__all__ = ["Inbox", "InboxEntry"]


@dataclass(frozen=True, slots=True)
class Inbox:
    """One channel's received inputs: stored, listed while unanswered, marked answered."""

    store: Store
    channel: str
    clock: Callable[[], datetime]

    async def receive(self, entries: Sequence[InboxEntry], answered: Sequence[str] = ()) -> set[str]:
        """Stores what came in, skipping what was stored before; returns the new ones' ids.

        `answered` marks earlier inputs answered in the same transaction (one fewer per batch).
        """
        return set(await receive(self.store, self.channel, entries, self.clock(), answered))

    async def unanswered(self, limit: int = 200) -> list[InboxEntry]:
        """What was received but not answered yet (a crash or a stop came between), oldest first."""
        return await unreplied(self.store, self.channel, limit=limit)

    async def mark_answered(self, external_ids: Sequence[str]) -> None:
        """Marks inputs answered, erasing what they held."""
        await mark_replied(self.store, self.channel, external_ids, self.clock())
