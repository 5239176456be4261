"""The outbox: replies queued in the transaction of what they answer, sent later with retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from storage.models import OutboxMessage
from storage.repository import Store

MAX_DELAY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A queued reply as the sender needs it."""

    id: int
    to_address: str
    message_id: str
    subject: str
    body: str
    in_reply_to: str | None
    references: str | None


class Outbox:
    """The replies waiting to be sent, oldest first; a failed one waits longer each time (at most an hour)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def due(self, now: datetime, limit: int) -> list[OutgoingEmail]:
        """The replies not sent yet whose next attempt is due, oldest first."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        async with self.store.unit(write=False) as unit:
            return [
                OutgoingEmail(m.id, m.to_address, m.message_id, m.subject, m.body, m.in_reply_to, m.references)
                for m in await unit.session.scalars(query)
            ]

    async def record_attempt(self, message_id: int, error: str | None, now: datetime) -> bool:
        """Records a try: sent (`error` None), or failed and due again after a pause that doubles each time.

        Tells whether the reply is still there (a resident's erasure may have taken it meanwhile).
        """
        async with self.store.unit() as unit:
            stored = await unit.session.get(OutboxMessage, message_id)
            if stored is None:
                return False
            stored.attempts += 1
            if error is None:
                stored.sent_at, stored.last_error = now, None
            else:
                delay = min(timedelta(seconds=30 * 2 ** min(stored.attempts, 10)), MAX_DELAY)
                stored.next_attempt_at, stored.last_error = now + delay, error
            return True
