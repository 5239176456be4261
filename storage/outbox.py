"""The outbox: replies queued in the transaction of what they answer, sent later with retries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from storage.models import OutboxMessage
from storage.repository import Store, Unit

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
    calendar: str | None = None  # an iCalendar invitation to send with it
    buttons: list[list[str]] | None = None  # Telegram: [label, callback data] per button


class Outbox:
    """The replies waiting to be sent, oldest first; a failed one waits longer each time (at most an hour)."""

    def __init__(self, store: Store, channel: str = "email") -> None:
        self.store = store
        self.channel = channel  # email: the mailer's; telegram: the bot's (to_address is the chat)

    async def due(self, now: datetime, limit: int) -> list[OutgoingEmail]:
        """The messages of this channel not sent yet whose next attempt is due, oldest first."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.channel == self.channel,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        async with self.store.unit(write=False) as unit:
            return [
                OutgoingEmail(
                    m.id,
                    m.to_address,
                    m.message_id,
                    m.subject,
                    m.body,
                    m.in_reply_to,
                    m.references,
                    m.calendar,
                    m.buttons,
                )
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


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A reply to send: the mailer sends it, retrying until the server takes it."""

    to_address: str
    message_id: str
    subject: str
    body: str
    purpose: str  # form | summary | closed | application | verification | decision | reminder …
    respondent_id: int | None = None
    in_reply_to: str | None = None
    references: str | None = None
    channel: str = "email"  # or "telegram": to_address is then the chat id
    calendar: str | None = None
    buttons: list[list[str]] | None = None


async def mailed_since(
    unit: Unit, addresses: Sequence[str], since: datetime, purposes: Sequence[str] = ("form", "closed")
) -> set[str]:
    """The addresses (lower case) we queued one of these mails to since then: one consultation form per
    sender in a window (an application's acknowledgement or a code we mailed holds no form back)."""
    wanted = sorted({address.lower() for address in addresses if address})
    if not wanted:
        return set()
    rows = await unit.session.scalars(
        select(func.lower(OutboxMessage.to_address))
        .where(
            func.lower(OutboxMessage.to_address).in_(wanted),
            OutboxMessage.created_at >= since,
            OutboxMessage.purpose.in_(purposes),
        )
        .distinct()
    )
    return set(rows)


def queue_mail(unit: Unit, mail: QueuedMail, now: datetime) -> None:
    """Adds a reply to the outbox, in the caller's transaction (with the email it answers)."""
    unit.add(
        OutboxMessage(
            respondent_id=mail.respondent_id,
            to_address=mail.to_address,
            message_id=mail.message_id,
            subject=mail.subject,
            body=mail.body,
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            purpose=mail.purpose,
            channel=mail.channel,
            calendar=mail.calendar,
            buttons=mail.buttons,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
    )
