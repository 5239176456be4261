"""The mailbox channel against a real Dovecot and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.service import Service, open_service
from bot.settings import Settings
from bot.transports.mailbox import MailboxReader, MailboxUnavailable, build_mailroom
from bot.transports.mailer import Mailer
from storage.models import Answer, Email, OutboxMessage
from tests.conftest import FakeClock, make_settings
from tests.dovecot import DovecotServer
from tests.smtp import RecordingSMTPServer

CORPUS = Path(__file__).resolve().parent.parent / "emails"


def mail_settings(tmp_path: Path, dovecot: DovecotServer, smtp: RecordingSMTPServer) -> Settings:
    return make_settings(
        tmp_path / "data",
        WSPOLNOTA_IMAP_HOST=dovecot.host,
        WSPOLNOTA_IMAP_PORT=str(dovecot.port),
        WSPOLNOTA_IMAP_USER=dovecot.user,
        WSPOLNOTA_IMAP_PASSWORD=dovecot.password,
        WSPOLNOTA_IMAP_SECURITY="plain",
        WSPOLNOTA_IMAP_TIMEOUT="5",
        WSPOLNOTA_SMTP_HOST=smtp.host,
        WSPOLNOTA_SMTP_PORT=str(smtp.port),
        WSPOLNOTA_SMTP_SECURITY="plain",
    )


@pytest.fixture
async def service(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, clock: FakeClock
) -> AsyncIterator[Service]:
    async with open_service(mail_settings(tmp_path, dovecot, smtp_server), clock=clock) as running:
        yield running


async def count(service: Service, model: type) -> int:
    async with service.store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


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
    reader = MailboxReader(service.settings, build_mailroom(service), service.store)
    assert await reader.once() == 5
    assert await count(service, Email) == 4  # the copy of 44 is the same message
    assert dovecot.messages("INBOX") == []  # filed away, never deleted
    assert len(dovecot.messages("Processed")) == 5
    assert await reader.once() == 0  # nothing new the second time
    mailer = Mailer(service.settings, service.store, service.conversation.clock)
    assert await mailer.send_due() == 3  # 01, 17 and 44: people; the auto-reply gets nothing
    sent = await smtp_server.wait_for(3)
    assert await mailer.send_due() == 0  # and never twice
    reply = sent[0]
    assert reply.mail_from in ("", "<>")  # an empty envelope sender for automatic replies
    assert reply.message["Auto-Submitted"] == "auto-replied"
    assert reply.message["In-Reply-To"] and reply.message["References"]
    assert "1. W której dzielnicy mieszkasz?" in reply.message.get_content()


async def test_a_reply_to_the_form_becomes_answers(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    reader = MailboxReader(service.settings, build_mailroom(service), service.store)
    mailer = Mailer(service.settings, service.store, service.conversation.clock)
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
    await MailboxReader(service.settings, build_mailroom(service), service.store).once()
    mailer = Mailer(service.settings, service.store, service.conversation.clock)
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
    reader = MailboxReader(service.settings, build_mailroom(service), service.store)
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
        while await count(service, Email) != expected:
            await reader.progressed.wait()
            reader.progressed.clear()


async def test_two_services_answering_each_other_do_not_loop(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer, tmp_path: Path, clock: FakeClock
) -> None:
    dovecot.append((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    await MailboxReader(service.settings, build_mailroom(service), service.store).once()
    await Mailer(service.settings, service.store, service.conversation.clock).send_due()
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
    import os
    import signal
    import sys

    from storage.db import create_engine, create_sessions
    from storage.repository import Store
    from tests.conftest import REPOSITORY

    total = 300
    for n in range(total):
        dovecot.append(
            f"From: Mieszkaniec {n} <osoba{n}@example.pl>\r\nTo: wspolnota@um.warszawa.pl\r\n"
            f"Subject: Opinia {n}\r\nMessage-ID: <kill-{n}@example.pl>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nWięcej ławek, opinia numer {n}.\r\n".encode()
        )
    data = tmp_path / "data"
    env = {
        **os.environ,
        "WSPOLNOTA_DATA_DIR": str(data),
        "WSPOLNOTA_SECRET_KEY": "kill-" + "x" * 32,
        "WSPOLNOTA_WEB_ENABLED": "false",
        "WSPOLNOTA_IMAP_HOST": dovecot.host,
        "WSPOLNOTA_IMAP_PORT": str(dovecot.port),
        "WSPOLNOTA_IMAP_USER": dovecot.user,
        "WSPOLNOTA_IMAP_PASSWORD": dovecot.password,
        "WSPOLNOTA_IMAP_SECURITY": "plain",
    }

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=REPOSITORY,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    engine = create_engine(f"sqlite+aiosqlite:///{data / 'wspolnota.db'}")
    store = Store(create_sessions(engine))

    async def stored() -> int:
        try:
            async with store.sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(Email)) or 0)
        except SQLAlchemyError:  # the first process has not created the tables yet
            return 0

    async def until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        # Another process writes the database: poll it, with a deadline.
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110 - no event crosses the process boundary
                await asyncio.sleep(0.02)

    try:
        first = await start()
        await until(lambda: _at_least(stored, 1))
        first.send_signal(signal.SIGKILL)  # mid-ingestion: some batches committed, some not
        await first.wait()
        assert await stored() < total
        second = await start()
        await until(lambda: _equals(stored, total))
        await until(lambda: _true(lambda: _inbox_empty(dovecot)))
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
        async with store.sessions() as session:
            ids = (await session.scalars(select(Email.message_id))).all()
            replies = int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
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
        assert await MailboxReader(settings, build_mailroom(running), running.store).once() == 1
        untrusted = base.model_copy(update={"imap_security": "starttls", "imap_ca_file": None})
        with pytest.raises(MailboxUnavailable, match="TLS"):
            await MailboxReader(untrusted, build_mailroom(running), running.store).once()


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
        if any(b"POISON" in raw for raw, _ in items):
            raise ValueError("a fault in our own code, for this one email")
        return await receive_many(items, **kwargs)

    mailroom.receive_many = breaks_on_poison  # type: ignore[method-assign]
    good = (CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes()
    poison = good.replace(b"Message-ID: <", b"Message-ID: <POISON-", 1)
    dovecot.append(good)
    dovecot.append(poison)
    dovecot.append((CORPUS / "17-windows-1250-8bit-windows-live-mail.eml").read_bytes())
    reader = MailboxReader(service.settings, mailroom, service.store)
    assert await reader.once() == 3
    assert await count(service, Email) == 2  # the good ones, stored
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 2
    [aside] = dovecot.messages("Unreadable")  # kept for staff, with its raw source
    assert b"POISON" in aside
    assert await reader.once() == 0  # and it does not come back
