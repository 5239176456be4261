"""Privacy operations for staff: erase a person everywhere, apply a retention period, keep an audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from storage.models import AuditEntry, Email, InboxItem, OutboxMessage, Respondent, Submission
from storage.repository import Store


@dataclass(frozen=True, slots=True)
class Erased:
    """How much was erased (counts only: the data is gone)."""

    respondents: int = 0
    emails: int = 0
    outbox: int = 0
    inbox: int = 0

    @property
    def anything(self) -> bool:
        return any((self.respondents, self.emails, self.outbox, self.inbox))


async def audit(store: Store, actor: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """Writes who did what with which filters; never the data itself."""
    async with store.unit() as unit:
        unit.add(AuditEntry(at=now, actor=actor, action=action, details=details))


async def forget(store: Store, *, channel: str, pseudonym: str, address: str, actor: str, now: datetime) -> Erased:
    """Erases a person everywhere: answers, contact data, emails with their raw source, outbox, inbox.

    `pseudonym` is the keyed hash of their channel id; `address` is the raw address (email or chat)
    used where the data holds it directly (the outbox, waiting Telegram updates).
    """
    async with store.unit() as unit:
        session = unit.session
        respondent_ids = list(
            await session.scalars(
                select(Respondent.id).where(Respondent.channel == channel, Respondent.pseudonym == pseudonym)
            )
        )
        emails = outbox = inbox = 0
        if channel == "email":
            emails = _count(await session.execute(delete(Email).where(Email.from_hash == pseudonym)))
            outbox = _count(await session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == address)))
        if channel == "telegram":
            inbox = _count(
                await session.execute(delete(InboxItem).where(InboxItem.channel == channel, InboxItem.chat == address))
            )
        if respondent_ids:
            # Contact, submissions, answers, linked emails and queued replies go with the respondent (cascades).
            await session.execute(delete(Respondent).where(Respondent.id.in_(respondent_ids)))
        erased = Erased(len(respondent_ids), emails, outbox, inbox)
        unit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="forget",
                details={"channel": channel, **asdict(erased)},
            )
        )
    return erased


async def purge(store: Store, *, before: datetime, actor: str, now: datetime) -> dict[str, int]:
    """Applies a retention period: erases submissions and emails received before a date."""
    async with store.unit() as unit:
        session = unit.session
        submissions = _count(await session.execute(delete(Submission).where(Submission.started_at < before)))
        emails = _count(await session.execute(delete(Email).where(Email.received_at < before)))
        outbox = _count(
            await session.execute(
                delete(OutboxMessage).where(OutboxMessage.created_at < before, OutboxMessage.sent_at.is_not(None))
            )
        )
        inbox = _count(await session.execute(delete(InboxItem).where(InboxItem.received_at < before)))
        # People with nothing left are erased too, with their contact data.
        kept = select(Submission.respondent_id).union(
            select(Email.respondent_id).where(Email.respondent_id.is_not(None))
        )
        respondents = _count(await session.execute(delete(Respondent).where(Respondent.id.not_in(kept))))
        counts = {
            "submissions": submissions,
            "emails": emails,
            "outbox": outbox,
            "inbox": inbox,
            "respondents": respondents,
        }
        unit.add(AuditEntry(at=now, actor=actor, action="purge", details={"before": before.isoformat(), **counts}))
    return counts


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
