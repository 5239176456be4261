"""Emails as received: raw bytes kept, each stored once, linked to whose they were."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from storage.dialect import insert
from storage.models import Email
from storage.repository import Unit


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    """One email as the mailbox gave it, and what was read from it."""

    raw: bytes
    message_id: str
    digest: str
    size: int
    truncated: bool
    kind: str
    subject: str = ""
    language: str = "pl"
    reason: str | None = None
    text: str = ""
    own_text: str = ""
    reply_to: str | None = None  # a Reply-To other than From: kept for staff, never mailed automatically
    from_hash: str | None = None  # the sender's pseudonym
    attachments: list[dict[str, Any]] = field(default_factory=list)
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    arrived: datetime | None = None  # when our mailbox received it (IMAP INTERNALDATE); None: when we stored it


async def store_emails(unit: Unit, emails: Sequence[ReceivedEmail], now: datetime) -> list[int | None]:
    """Stores a batch in one statement; an email stored before (or twice in the batch) gets None.

    An email is the same one when its Message-ID and the digest of its content are.
    """
    if not emails:
        return []
    rows = [
        {
            "message_id": email.message_id,
            "digest": email.digest,
            "raw": email.raw,
            "size": email.size,
            "truncated": email.truncated,
            "folder": email.folder,
            "uidvalidity": email.uidvalidity,
            "uid": email.uid,
            "from_hash": email.from_hash,
            "subject": email.subject,
            "language": email.language,
            "kind": email.kind,
            "reason": email.reason,
            "text": email.text,
            "own_text": email.own_text,
            "reply_to": email.reply_to,
            "attachments": email.attachments,
            "received_at": email.arrived or now,
        }
        for email in emails
    ]
    statement = (
        insert(unit.dialect, Email)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["message_id", "digest"])
        .returning(Email.message_id, Email.digest, Email.id)
    )
    new = {(message_id, digest): email_id for message_id, digest, email_id in await unit.session.execute(statement)}
    # A second copy within the batch finds its key taken by the first: None, like one stored before.
    return [new.pop((email.message_id, email.digest), None) for email in emails]


async def link_emails(unit: Unit, links: Sequence[tuple[int, int, int | None, str | None]]) -> None:
    """Records whose each email was: (email id, respondent id, submission id, a new kind or None)."""
    rows: list[dict[str, Any]] = []
    for email_id, respondent_id, submission_id, kind in links:
        row: dict[str, Any] = {"id": email_id, "respondent_id": respondent_id, "submission_id": submission_id}
        if kind is not None:
            row["kind"] = kind
        rows.append(row)
    for keys in ({"id", "respondent_id", "submission_id"}, {"id", "respondent_id", "submission_id", "kind"}):
        same = [row for row in rows if set(row) == keys]
        if same:  # an UPDATE by primary key for many rows at once
            await unit.session.execute(update(Email), same)
