"""Erasing personal data: one person everywhere (staff's `forget`, a resident's own request on any
channel), or everything older than a retention period; each written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select, update

from storage.audit import audit_in
from storage.inbox import chat_items, erase_chat
from storage.models import COMPLETED, Application, Email, InboxItem, OutboxMessage, Respondent, Submission
from storage.repository import Store, Unit
from storage.verification import EmailVerification


@dataclass(frozen=True, slots=True)
class Erased:
    """How much was erased, or would be (counts only: the data is gone, or is not shown)."""

    respondents: int = 0
    emails: int = 0
    outbox: int = 0
    inbox: int = 0
    applications: int = 0  # working-group applications, with the names and addresses they hold
    submissions: int = 0  # the respondents' submissions (they go with them), `completed` of them finished
    completed: int = 0

    @property
    def anything(self) -> bool:
        return any((self.respondents, self.emails, self.outbox, self.inbox, self.applications))


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The rows one person's erasure takes, chosen before any goes: the preview counts them, the erasure
    deletes them, so the two never disagree."""

    respondents: tuple[int, ...]
    emails: tuple[int, ...]
    outbox: tuple[int, ...]
    inbox: int
    applications: tuple[int, ...]
    submissions: int
    completed: int

    def counts(self, inbox: int | None = None) -> Erased:
        return Erased(
            respondents=len(self.respondents),
            emails=len(self.emails),
            outbox=len(self.outbox),
            inbox=self.inbox if inbox is None else inbox,
            applications=len(self.applications),
            submissions=self.submissions,
            completed=self.completed,
        )


def resident(channel: str) -> str:
    """The audit log's actor for a resident erasing their own data: the channel, never who they are."""
    return f"resident:{channel}"


async def forget(
    store: Store, *, channel: str, pseudonym: str, address: str | None, actor: str, now: datetime
) -> Erased:
    """Erases a person everywhere, in a transaction of its own (see `erase_person`)."""
    async with store.unit() as unit:
        return await erase_person(unit, channel=channel, pseudonym=pseudonym, address=address, actor=actor, now=now)


async def erasure_preview(store: Store, *, channel: str, pseudonym: str, address: str | None) -> Erased:
    """What `forget` would erase of this person now, changing nothing (the same choice of rows)."""
    async with store.unit(write=False) as unit:
        return (await _choose(unit, channel, pseudonym, address)).counts()


async def erase_person(
    unit: Unit,
    *,
    channel: str,
    pseudonym: str,
    address: str | None,
    actor: str,
    now: datetime,
    loaded: Submission | None = None,
) -> Erased:
    """Erases a person everywhere, in the caller's transaction, and writes who asked to the audit log.

    Goes: the respondent with their contact data, submissions and answers (and the emails and
    replies linked to them), emails from their address with the raw source, replies queued or sent
    to it, and what their chat's messages held in the inbox. `pseudonym` is the keyed hash of their
    channel id; `address` the raw address (email or chat) where the data holds it directly. Their
    working-group applications go too: theirs on this channel, and any giving their email address.
    `loaded` is a submission of theirs this transaction holds, so the session forgets it too.
    """
    chosen = await _choose(unit, channel, pseudonym, address)
    session = unit.session
    if loaded is not None:
        await session.delete(loaded)
    if chosen.emails:
        await session.execute(delete(Email).where(Email.id.in_(chosen.emails)))
    if chosen.outbox:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(chosen.outbox)))
    if channel == "email" and address is not None:
        # Their address named as another email's Reply-To goes too (the email itself is the sender's).
        await session.execute(update(Email).where(Email.reply_to == address).values(reply_to=None))
    inbox = await erase_chat(unit, channel, address) if address is not None else 0
    if chosen.applications:
        await session.execute(delete(Application).where(Application.id.in_(chosen.applications)))
    # Contact, submissions, answers, linked emails and queued replies go with the respondents (cascades).
    if chosen.respondents:
        await session.execute(delete(Respondent).where(Respondent.id.in_(chosen.respondents)))
    erased = chosen.counts(inbox)
    details: dict[str, Any] = {
        "channel": channel,
        "respondents": erased.respondents,
        "emails": erased.emails,
        "outbox": erased.outbox,
        "inbox": erased.inbox,
    }
    if erased.applications:  # named only where the working groups had something of theirs
        details["applications"] = erased.applications
    audit_in(unit, actor, "forget", details, now)
    return erased


async def _choose(unit: Unit, channel: str, pseudonym: str, address: str | None) -> _Chosen:
    """The rows erasing this person takes (see `erase_person`), reading only."""
    session = unit.session

    async def ids(query: Select[int]) -> tuple[int, ...]:
        return tuple(sorted(set(await session.scalars(query))))

    emails: tuple[int, ...] = ()
    outbox: tuple[int, ...] = ()
    if channel == "email":
        emails = await ids(select(Email.id).where(Email.from_hash == pseudonym))
        if address is not None:
            given = address.strip().lower()
            outbox = await ids(select(OutboxMessage.id).where(func.lower(OutboxMessage.to_address) == given))
    inbox = 0
    if address is not None:
        inbox = int(await session.scalar(select(func.count(InboxItem.id)).where(chat_items(channel, address))) or 0)
    theirs = select(Respondent.id).where(Respondent.channel == channel, Respondent.pseudonym == pseudonym)
    applied: ColumnElement[bool] = Application.respondent_id.in_(theirs)
    people: ColumnElement[bool] = Respondent.id.in_(theirs)
    if channel == "email" and address is not None:
        given = address.strip().lower()
        applied = or_(applied, Application.email == given)
        # Who applied in a chat giving this address, or was mailed a code at it, is the same person: their
        # chat identity goes too, with their answers (the form's hold the name and address) and the codes.
        verifying = select(Submission.respondent_id).where(
            Submission.id.in_(
                select(EmailVerification.submission_id).where(func.lower(EmailVerification.address) == given)
            )
        )
        applicants = select(Application.respondent_id).where(Application.email == given)
        people = or_(people, Respondent.id.in_(applicants), Respondent.id.in_(verifying))
    applications = await ids(select(Application.id).where(applied))
    respondents = await ids(select(Respondent.id).where(people))
    submissions = completed = 0
    if respondents:
        finished = case((Submission.status == COMPLETED, 1), else_=0)
        row = (
            await session.execute(
                select(func.count(Submission.id), func.coalesce(func.sum(finished), 0)).where(
                    Submission.respondent_id.in_(respondents)
                )
            )
        ).one()
        submissions, completed = int(row[0]), int(row[1])
    return _Chosen(respondents, emails, outbox, inbox, applications, submissions, completed)


async def purge(store: Store, *, before: datetime, actor: str, now: datetime) -> dict[str, int]:
    """Applies a retention period: erases submissions, emails, received messages and working-group
    applications from before a date (an application counts from its first receipt)."""
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
        applications = _count(await session.execute(delete(Application).where(Application.received_at < before)))
        # People with nothing left are erased too, with their contact data.
        kept = select(Submission.respondent_id).union(
            select(Email.respondent_id).where(Email.respondent_id.is_not(None)), select(Application.respondent_id)
        )
        respondents = _count(await session.execute(delete(Respondent).where(Respondent.id.not_in(kept))))
        counts = {
            "submissions": submissions,
            "emails": emails,
            "outbox": outbox,
            "inbox": inbox,
            "applications": applications,
            "respondents": respondents,
        }
        audit_in(unit, actor, "purge", {"before": before.isoformat(), **counts}, now)
    return counts


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
