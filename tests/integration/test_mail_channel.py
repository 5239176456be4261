"""The mailbox channel against a real Dovecot and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.mailroom import build_mailroom
from bot.service import Service, open_service
from bot.settings import Settings
from bot.transports.mailbox import MailboxReader, MailboxUnavailable
from bot.transports.mailer import Mailer
from storage.models import Answer, Email, OutboxMessage
from tests.support import FakeClock, ServiceProcess, count, make_settings
from tests.support.dovecot import DovecotServer
from tests.support.emails import build_email
from tests.support.smtp import RecordingSMTPServer

CORPUS = Path(__file__).resolve().parent.parent / "emails"


def mail_settings(tmp_path: Path, dovecot: DovecotServer, smtp: RecordingSMTPServer, **extra: str) -> Settings:
    return make_settings(
        tmp_path / "data", **dovecot.environment(), WSPOLNOTA_IMAP_TIMEOUT="5", **smtp.environment(), **extra
    )


@pytest.fixture
async def service(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, clock: FakeClock
) -> AsyncIterator[Service]:
    async with open_service(mail_settings(tmp_path, dovecot, smtp_server), clock=clock) as running:
        yield running


async def test_once_reads_moves_and_answers_once(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    for name in (
        "01-gmail-pl-qp-top-posted.eml",
        "26-auto-submitted-auto-replied-vacation.eml",
        "44-duplicate-a.eml",
        "45-duplicate-b.eml",
        "17-windows-1250-8bit-windows-live-mail.eml",
    ):
        dovecot.append((CORPUS / name).read_bytes())
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == 5
    assert await count(service.store, Email) == 4  # the copy of 44 is the same message
    assert dovecot.messages("INBOX") == []  # filed away, never deleted
    assert len(dovecot.messages("Processed")) == 5
    assert await reader.once() == 0  # nothing new the second time
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    assert await mailer.send_due() == 3  # 01, 17 and 44: people; the auto-reply gets nothing
    sent = await smtp_server.wait_for(3)
    assert await mailer.send_due() == 0  # and never twice
    reply = sent[0]
    assert reply.mail_from in ("", "<>")  # an empty envelope sender for automatic replies
    assert reply.message["Auto-Submitted"] == "auto-replied"
    assert reply.message["In-Reply-To"] and reply.message["References"]
    assert "1. W której dzielnicy mieszkasz?" in reply.message.get_content()


async def test_an_email_counts_from_when_our_mailbox_received_it(service: Service, dovecot: DovecotServer) -> None:
    """IMAP INTERNALDATE, never the sender's own Date header: what a deadline is measured by."""
    arrived = datetime(2027, 9, 30, 21, 59, 30, tzinfo=UTC)  # 23:59:30 in Warsaw, half a minute before a deadline
    late = arrived + timedelta(minutes=1)
    for when, note in ((arrived, "w terminie"), (late, "po terminie")):
        claimed = "Tue, 28 Sep 2027 10:00:00 +0200"  # what the sender's mail program wrote
        path = dovecot.append(build_email(f"Zgłaszam się {note}.", headers={"Date": claimed}))
        os.utime(path, (when.timestamp(), when.timestamp()))  # a Maildir message's INTERNALDATE is its mtime
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == 2
    async with service.store.sessions() as session:
        stored = {e.own_text: e.received_at for e in await session.scalars(select(Email))}
    assert {text: moment.astimezone(UTC) for text, moment in stored.items()} == {
        "Zgłaszam się w terminie.": arrived,
        "Zgłaszam się po terminie.": late,
    }


async def test_only_people_get_a_reply_and_only_at_their_from_address(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    """Automatic mail, spam, empty and spoofed messages and a recall get no reply at all; a person
    with a Reply-To elsewhere gets the one confirmation at their From address, and the Reply-To nothing."""
    unanswered = {
        "auto-reply": (CORPUS / "26-auto-submitted-auto-replied-vacation.eml").read_bytes(),
        "spam": build_email("Wygraj nagrodę!", headers={"X-Spam-Flag": "YES", "X-Spam-Status": "Yes, score=12.0"}),
        "empty": build_email("", subject="Opinia"),
        "signature only": build_email("-- \nJan Kowalski\ntel. 600 100 200\n"),
        "quote only": build_email("Marta <m@example.pl> napisał(a):\n> Konsultacje trwają.\n", subject="Re: x"),
        "spoof": build_email("Proszę o dane.", sender='"wspolnota@um.warszawa.pl" <x@evil.example>'),
        "recall": build_email("Anna Nowak would like to recall the message.", subject="Recall: Opinia"),
    }
    for raw in unanswered.values():
        dovecot.append(raw)
    person = build_email(
        "Brakuje ławek przy Placu Szembeka.",
        sender="Ewa Lis <ewa.lis@example.pl>",
        headers={"Reply-To": "someone.else@example.com"},
    )
    dovecot.append(person)
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == len(unanswered) + 1
    assert len(dovecot.messages("Processed")) == len(unanswered) + 1  # every one stored and filed
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    assert await mailer.send_due() == 1
    [confirmation] = await smtp_server.wait_for(1)
    assert list(confirmation.rcpt_tos) == ["ewa.lis@example.pl"] and confirmation.message["To"] == "ewa.lis@example.pl"
    assert "Zespół Programu Wspólnota\n\n-- \nCentrum Komunikacji" in confirmation.message.get_content().replace(
        "\r\n", "\n"
    )
    assert await mailer.send_due() == 0
    assert [list(mail.rcpt_tos) for mail in smtp_server.received] == [["ewa.lis@example.pl"]]
    async with service.store.sessions() as session:
        stored = {e.kind: (e.reason, e.reply_to) for e in await session.scalars(select(Email))}
    assert stored["opinion"] == (None, "someone.else@example.com")  # kept for staff, never mailed
    assert set(stored) == {"opinion", "auto_reply", "spam", "empty", "spoof", "recall"}
    assert await count(service.store, Answer) == 1  # Ewa's words only


async def test_a_reply_to_the_form_becomes_answers(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    await reader.once()
    await mailer.send_due()
    [form] = await smtp_server.wait_for(1)
    answer = (
        f"From: Jan Kowalski <{form.rcpt_tos[0]}>\r\nTo: wspolnota@um.warszawa.pl\r\n"
        f"Subject: Re: {form.message['Subject']}\r\nMessage-ID: <odp-1@example.pl>\r\n"
        f"In-Reply-To: {form.message['Message-ID']}\r\nReferences: {form.message['Message-ID']}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "1. q\r\n3: a, c\r\n4. 5\r\n\r\nPozdrawiam,\r\nJan\r\n"
    ).encode()
    dovecot.append(answer)
    await reader.once()
    await mailer.send_due()
    sent = await smtp_server.wait_for(2)
    assert "Tak zapisaliśmy Twoje odpowiedzi" in sent[1].message.get_content()
    async with service.store.sessions() as session:
        answers = {a.question_code: a for a in await session.scalars(select(Answer))}
    assert answers["district"].options == ["wola"]
    assert answers["values"].options == ["openness", "trust"]
    assert answers["connection"].number == 5


async def test_smtp_refusing_for_a_while_then_each_reply_once(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, clock: FakeClock
) -> None:
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    await MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions).once()
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    smtp_server.refuse(2)
    assert await mailer.send_due() == 0
    assert await mailer.send_due() == 0  # not due yet: it waits before trying again
    clock.advance(minutes=2)
    assert await mailer.send_due() == 0  # refused again
    clock.advance(hours=1)
    assert await mailer.send_due() == 1
    clock.advance(hours=2)
    assert await mailer.send_due() == 0
    assert len(await smtp_server.wait_for(1)) == 1
    async with service.store.sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
    assert row.attempts == 3 and row.sent_at is not None


async def test_idle_picks_up_new_mail_and_survives_a_dovecot_restart(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    try:
        dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
        await _until(reader, service, 1)
        dovecot.restart()  # while the reader is in IDLE
        dovecot.append((CORPUS / "17-windows-1250-8bit-windows-live-mail.eml").read_bytes())
        await _until(reader, service, 2, timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert len(dovecot.messages("Processed")) == 2


async def _until(reader: MailboxReader, service: Service, expected: int, timeout: float = 10) -> None:  # noqa: ASYNC109
    """Waits until `expected` emails are stored, re-checking each time the reader handles one."""
    async with asyncio.timeout(timeout):
        while await count(service.store, Email) != expected:
            await reader.progressed.wait()
            reader.progressed.clear()


async def test_two_services_answering_each_other_do_not_loop(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, tmp_path: Path, clock: FakeClock
) -> None:
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    await MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions).once()
    await Mailer(service.settings, service.outbox, service.conversation.clock).send_due()
    [ours] = await smtp_server.wait_for(1)
    # Another copy of the service (another city office) receives our reply in its own mailbox …
    other_settings = make_settings(tmp_path / "other", WSPOLNOTA_MAIL_FROM="sasiedzi@um.example.pl")
    async with open_service(other_settings, clock=clock) as other:
        outcome = await build_mailroom(other).receive(ours.raw)
        assert outcome.verdict.automatic and outcome.queued is None  # … and does not answer it
    # And ours, given an automatic answer from there, stays silent too.
    bounce_back = ours.raw.replace(b"Message-ID: <wsp-", b"Message-ID: <other-", 1)
    assert (await build_mailroom(service).receive(bounce_back)).queued is None


async def test_kill_9_during_ingestion_then_run_again(tmp_path: Path, dovecot: DovecotServer) -> None:

    from storage.db import create_engine, create_sessions
    from storage.repository import Store

    total = 300
    for n in range(total):
        dovecot.append(
            f"From: Mieszkaniec {n} <osoba{n}@example.pl>\r\nTo: wspolnota@um.warszawa.pl\r\n"
            f"Subject: Opinia {n}\r\nMessage-ID: <kill-{n}@example.pl>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nWięcej ławek, opinia numer {n}.\r\n".encode()
        )
    data = tmp_path / "data"
    process = ServiceProcess(
        data,
        WSPOLNOTA_WEB_ENABLED="false",
        **dovecot.environment(),
    )

    engine = create_engine(f"sqlite+aiosqlite:///{data / 'wspolnota.db'}")
    store = Store(create_sessions(engine))

    async def stored() -> int:
        try:
            return await count(store, Email)
        except SQLAlchemyError:  # the first process has not created the tables yet
            return 0

    async def until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        # Another process writes the database: poll it, with a deadline.
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110 - no event crosses the process boundary
                await asyncio.sleep(0.02)

    try:
        await process.start()
        await until(lambda: _at_least(stored, 1))
        await process.kill()  # mid-ingestion: some batches committed, some not
        assert await stored() < total
        await process.start()
        await until(lambda: _equals(stored, total))
        await until(lambda: _true(lambda: _inbox_empty(dovecot)))
        await process.stop()
        async with store.sessions() as session:
            ids = (await session.scalars(select(Email.message_id))).all()
        replies = await count(store, OutboxMessage)
        assert len(ids) == len(set(ids)) == total  # each once
        assert replies == total  # one reply queued per sender, none twice
        assert len(dovecot.messages("Processed")) == total
    finally:
        await engine.dispose()


async def _at_least(probe, n: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await probe() >= n)


async def _equals(probe, n: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await probe() == n)


async def _true(check) -> bool:  # type: ignore[no-untyped-def]
    return bool(check())


async def test_starttls_encrypts_before_login(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, clock: FakeClock
) -> None:
    ca = dovecot.enable_tls()
    dovecot.restart()
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    base = mail_settings(tmp_path, dovecot, smtp_server)
    settings = base.model_copy(update={"imap_security": "starttls", "imap_ca_file": ca})
    async with open_service(settings, clock=clock) as running:
        assert await MailboxReader(settings, build_mailroom(running), running.mailbox_positions).once() == 1
        untrusted = base.model_copy(update={"imap_security": "starttls", "imap_ca_file": None})
        with pytest.raises(MailboxUnavailable, match="TLS"):
            await MailboxReader(untrusted, build_mailroom(running), running.mailbox_positions).once()


def _inbox_empty(dovecot: DovecotServer) -> bool:
    """Whether INBOX is empty; a message moved away while being listed means "not yet"."""
    try:
        return not dovecot.messages("INBOX")
    except FileNotFoundError:
        return False


async def test_an_email_that_cannot_be_stored_is_set_aside_and_the_rest_read(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    mailroom = build_mailroom(service)
    receive_many = mailroom.receive_many

    async def breaks_on_poison(items: Any, **kwargs: Any) -> Any:
        if any(b"POISON" in item[0] for item in items):
            raise ValueError("a fault in our own code, for this one email")
        return await receive_many(items, **kwargs)

    mailroom.receive_many = breaks_on_poison  # type: ignore[method-assign]
    good = (CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes()
    poison = good.replace(b"Message-ID: <", b"Message-ID: <POISON-", 1)
    dovecot.append(good)
    dovecot.append(poison)
    dovecot.append((CORPUS / "17-windows-1250-8bit-windows-live-mail.eml").read_bytes())
    reader = MailboxReader(service.settings, mailroom, service.mailbox_positions)
    assert await reader.once() == 3
    assert await count(service.store, Email) == 2  # the good ones, stored
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 2
    [aside] = dovecot.messages("Unreadable")  # kept for staff, with its raw source
    assert b"POISON" in aside
    assert await reader.once() == 0  # and it does not come back


async def test_emailed_opinions_and_form_replies_are_completed_contributions_in_export_and_report(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, tmp_path: Path
) -> None:
    import csv
    import io

    from click.testing import CliRunner

    from bot.cli import main

    def plain(sender: str, message_id: str, body: str) -> bytes:
        return (
            f"From: {sender}\r\nTo: wspolnota@um.warszawa.pl\r\nSubject: Opinia\r\nMessage-ID: <{message_id}>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
        ).encode()

    dovecot.append(
        plain("Anna <anna@example.pl>", "a-1@example.pl", "Wspólnota to sąsiedzi, którzy sobie pomagają.\r\n")
    )
    dovecot.append(plain("Jan <jan@example.pl>", "j-1@example.pl", "Brakuje miejsc spotkań na osiedlu.\r\n"))
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    await reader.once()
    await mailer.send_due()
    forms = {sent.rcpt_tos[0]: sent for sent in await smtp_server.wait_for(2)}
    form = forms["jan@example.pl"]
    dovecot.append(
        (
            f"From: Jan <jan@example.pl>\r\nTo: wspolnota@um.warszawa.pl\r\nSubject: Re: {form.message['Subject']}\r\n"
            f"Message-ID: <j-2@example.pl>\r\nIn-Reply-To: {form.message['Message-ID']}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "1. q\r\n3: a, c\r\n4. 5\r\n"
        ).encode()
    )
    await reader.once()
    await mailer.send_due()
    summary = (await smtp_server.wait_for(3))[2]
    assert "Tak zapisaliśmy Twoje odpowiedzi" in summary.message.get_content()

    env = {
        "WSPOLNOTA_DATA_DIR": str(service.settings.data_dir),
        "WSPOLNOTA_SECRET_KEY": service.settings.secret_key.get_secret_value() if service.settings.secret_key else "",
        "WSPOLNOTA_DATABASE_URL": service.settings.database,
        "WSPOLNOTA_CONFIG_DIR": str(service.settings.config_dir),
    }
    # Staff commands run their own event loop: in a thread here, as from a shell beside the service.
    exported = await asyncio.to_thread(
        CliRunner().invoke, main, ["export", "--completed-only", "--format", "csv"], env=env
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert len(rows) == 2 and {row["channel"] for row in rows} == {"email"}
    by_words = {row["community_meaning"]: row for row in rows}
    assert "Wspólnota to sąsiedzi, którzy sobie pomagają." in by_words
    jan = by_words["Brakuje miejsc spotkań na osiedlu."]
    assert jan["district"] == "wola" and jan["connection"] == "5"

    report = tmp_path / "report.html"
    made = await asyncio.to_thread(
        CliRunner().invoke, main, ["report", "--completed-only", "--out", str(report)], env=env
    )
    assert made.exit_code == 0, made.output
    html = report.read_text()
    assert "zakończone: <b>2</b>" in html and "e-mail" in html
