"""One erasure for everyone who asks: a resident on any channel (Telegram's /forget, the web chat's
"Delete all my data"), or staff (`wspolnota forget`); each goes everywhere and is written to the
audit log without saying who was erased. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.service import Service, open_service
from bot.transports.web import WebChat
from handlers.engine.messages import Action, Delivery, ReplyKind
from storage.erasure import forget, purge
from storage.inbox import InboxEntry, receive
from storage.models import Answer, AuditEntry, Contact, Email, InboxItem, OutboxMessage, Respondent, Submission
from tests.support import FakeClock, Person, Visitor, count, make_settings


@pytest.fixture
async def service(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url, WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as running:
        yield running


async def audit_log(service: Service) -> list[tuple[str, str, dict[str, Any]]]:
    async with service.store.sessions() as session:
        entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(entry.actor, entry.action, entry.details) for entry in entries]


async def test_a_residents_own_erasure_goes_everywhere_and_is_audited_without_naming_them(service: Service) -> None:
    person = Person(service, "501", channel="telegram")
    chat = person.ref.address
    assert chat is not None
    await person.begin()
    tapped = Delivery("telegram", "1001", chat, {"update_id": 1001, "message": {"text": "Mokotów"}})
    await person.send(choice="mokotow", question="district", delivery=tapped)
    # A message of theirs that came in meanwhile and waits for its turn.
    await receive(
        service.store,
        "telegram",
        [InboxEntry("1002", chat, {"message": {"text": "Sąsiedzi"}})],
        service.conversation.clock(),
    )
    assert await count(service.store, Answer) == 1

    await person.act(Action.FORGET)
    await person.act(Action.FORGET, "yes")

    assert person.last.kind is ReplyKind.GOODBYE
    for model in (Respondent, Contact, Submission, Answer):
        assert await count(service.store, model) == 0, model
    assert await count(service.store, InboxItem, InboxItem.chat.is_not(None)) == 0  # nothing says whose they were
    assert await count(service.store, InboxItem, InboxItem.payload.is_not(None)) == 0  # nor what they said
    [(actor, action, details)] = await audit_log(service)
    assert (actor, action) == ("resident:telegram", "forget")
    assert details == {"channel": "telegram", "respondents": 1, "emails": 0, "outbox": 0, "inbox": 2}
    assert person.ref.pseudonym not in str(details) and chat not in str(details)

    # Telegram resends an update it was not told we have: recognised, it brings nobody back.
    await person.send(choice="mokotow", question="district", delivery=tapped)
    assert await count(service.store, Respondent) == 0


async def test_the_web_chats_delete_my_data_is_the_same_erasure(service: Service) -> None:
    async with TestClient(TestServer(WebChat(service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/?lang=en")
        await visitor.press("I agree, let's start")
        await visitor.press(visitor.choices()[0])
        await visitor.press("Delete all my data")
        await visitor.press("Yes, delete everything")

    assert await count(service.store, Submission) == 0 and await count(service.store, Respondent) == 0
    [(actor, action, details)] = await audit_log(service)
    assert (actor, action, details["channel"], details["respondents"]) == ("resident:web", "forget", "web", 1)


async def test_staff_forget_an_email_sender_with_their_emails_and_replies(service: Service) -> None:
    now = service.conversation.clock()
    marta = service.respondent("email", "marta@example.pl", "marta@example.pl")
    jan = service.respondent("email", "jan@example.pl", "jan@example.pl")
    async with service.store.unit() as unit:
        for n, ref in enumerate((marta, jan, marta)):
            assert ref.address is not None
            respondent = await unit.ensure_respondent("email", ref.pseudonym, now)
            await unit.set_contact(respondent.id, ref.address, now)
            unit.add(
                Email(
                    message_id=f"<{n}@example.pl>",
                    digest=f"{n:064}",
                    raw=b"Subject: opinia\r\n\r\nWiecej zieleni.",
                    size=35,
                    from_hash=ref.pseudonym,
                    kind="opinion",
                    received_at=now,
                )
            )
            unit.add(
                OutboxMessage(
                    to_address=ref.address,
                    message_id=f"<reply-{n}@wspolnota.example>",
                    subject="Re: opinia",
                    body="Dziękujemy",
                    purpose="form",
                    created_at=now,
                    next_attempt_at=now,
                )
            )

    erased = await forget(
        service.store,
        channel="email",
        pseudonym=marta.pseudonym,
        address="marta@example.pl",
        actor="cli:staff",
        now=now,
    )

    assert (erased.respondents, erased.emails, erased.outbox) == (1, 2, 2)
    assert [await count(service.store, model) for model in (Respondent, Contact, Email, OutboxMessage)] == [1, 1, 1, 1]
    [(actor, action, details)] = await audit_log(service)
    assert (actor, action, details["channel"], details["emails"]) == ("cli:staff", "forget", "email", 2)
    again = await forget(
        service.store,
        channel="email",
        pseudonym=marta.pseudonym,
        address="marta@example.pl",
        actor="cli:staff",
        now=now,
    )
    assert not again.anything


async def test_purge_erases_what_is_older_and_the_people_left_with_nothing(service: Service, clock: FakeClock) -> None:
    early = Person(service, "early")
    await early.begin()
    clock.advance(days=400)
    late = Person(service, "late")
    await late.begin()

    counts = await purge(service.store, before=clock() - timedelta(days=365), actor="cli:staff", now=clock())

    assert (counts["submissions"], counts["respondents"]) == (1, 1)
    assert await count(service.store, Submission) == 1 and await count(service.store, Respondent) == 1
    [(actor, action, _)] = await audit_log(service)
    assert (actor, action) == ("cli:staff", "purge")
