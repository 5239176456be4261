"""Applications to the working groups by email, end to end against real Dovecot and SMTP servers: the corpus
read once, each applicant acknowledged once (never a noreply relay, never an automatic reply), every
application stored once and structured, and a reply to our acknowledgement completing one."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.mailroom import build_mailroom
from bot.service import Service, open_service
from bot.transports.mailbox import MailboxReader
from bot.transports.mailer import Mailer
from storage.applications import list_applications
from tests.support import SHIPPED_CONFIG, FakeClock, make_settings, service_environment
from tests.support.dovecot import DovecotServer
from tests.support.emails import build_email
from tests.support.smtp import RecordingSMTPServer

CORPUS = Path(__file__).resolve().parent.parent / "emails" / "applications"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
DURING_THE_CALL = datetime(2027, 9, 15, 10, 0, tzinfo=UTC)
# New applications from distinct people (not updates, withdrawals or replies to our mail, which need one before).
FIRST = [
    name
    for name, expected in sorted(EXPECTED.items())
    if name.startswith("a")
    and expected.get("applies")
    and not expected.get("withdraws")
    and not any(word in name for word in ("reply", "update", "withdraw", "change", "second", "late", "adds"))
][:12]


@pytest.fixture
async def service(tmp_path: Path, dovecot: DovecotServer, smtp_server: RecordingSMTPServer) -> AsyncIterator[Service]:
    settings = make_settings(
        tmp_path / "data",
        WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG),
        **dovecot.environment(),
        **smtp_server.environment(),
    )
    async with open_service(settings, clock=FakeClock(DURING_THE_CALL)) as running:
        yield running


def deliver(dovecot: DovecotServer, raw: bytes) -> None:
    path = dovecot.append(raw)
    os.utime(path, (DURING_THE_CALL.timestamp(), DURING_THE_CALL.timestamp()))  # INTERNALDATE: during the call


async def test_applications_by_email_are_stored_once_and_acknowledged_once(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    assert len(FIRST) >= 8, FIRST
    for name in FIRST:
        deliver(dovecot, (CORPUS / name).read_bytes())
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == len(FIRST)
    assert await reader.once() == 0
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    answerable = [n for n in FIRST if "noreply" not in n]
    assert await mailer.send_due() == len(answerable)
    sent = await smtp_server.wait_for(len(answerable))
    assert await mailer.send_due() == 0  # never twice
    assert all("[Z-" in mail.message["Subject"] for mail in sent)
    applications = await list_applications(service.store)
    assert len(applications) == len(FIRST)  # one each, structured
    assert all(application.groups or application.status == "incomplete" for application in applications)

    # Maria answers the form in our acknowledgement: the same application is completed, not a second one.
    def asks_availability(body: str) -> str | None:
        """The number of the "can you attend all meetings" question in an acknowledgement's form, if it asks."""
        form = body.split("\n\n", 1)[-1]
        asked = [line for line in form.splitlines() if line[:1].isdigit() and "spotka" in line.lower()]
        return asked[-1].split(".")[0] if asked and ("a) Tak" in form or "a) Yes" in form) else None

    ack = next(mail for mail in sent if asks_availability(mail.message.get_content()))
    number = asks_availability(ack.message.get_content())
    consent = int(str(number)) + 1  # yes to the applicants' notice, asked right after the form's questions
    reply = build_email(
        f"{number}. a\n{consent}. a",
        sender=ack.message["To"],
        subject=f"Re: {ack.message['Subject']}",
        headers={"In-Reply-To": ack.message["Message-ID"], "References": ack.message["Message-ID"]},
    )
    deliver(dovecot, reply)
    assert await reader.once() == 1
    assert await mailer.send_due() == 1
    [answer] = (await smtp_server.wait_for(len(answerable) + 1))[-1:]
    assert "kompletne" in answer.message.get_content() or "complete" in answer.message.get_content()
    assert len(await list_applications(service.store)) == len(FIRST)


async def test_a_hundred_people_apply_by_email_and_staff_see_each_once(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    """Each of a hundred senders applies once (the corpus's first applications, each from its own address):
    a hundred applications, a hundred acknowledgements, and `wspolnota groups export` lists each once."""
    sources = [(CORPUS / name).read_bytes() for name in FIRST if "noreply" not in name]
    for n in range(100):
        raw = re.sub(
            rb"(?im)^Message-ID:\s*<", f"Message-ID: <hundred{n}.".encode(), sources[n % len(sources)], count=1
        )
        deliver(dovecot, re.sub(rb"(?im)^From:.*$", f"From: Osoba {n} <osoba{n}@example.pl>".encode(), raw, count=1))
    assert len(dovecot.messages("INBOX")) == 100
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == 100
    mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
    mailed = 0
    while due := await mailer.send_due():  # the sender takes the outbox a batch at a time
        mailed += due
    assert mailed == 100
    sent = await smtp_server.wait_for(100)
    assert sorted(mail.message["To"] for mail in sent) == sorted(f"osoba{n}@example.pl" for n in range(100))
    environment = service_environment(service.settings.data_dir, WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG))
    arguments = ["groups", "export", "--format", "jsonl", "--include-contact"]
    result = await asyncio.to_thread(CliRunner().invoke, main, arguments, env=environment)  # as staff run it
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert sorted(record["email"] for record in records) == sorted(f"osoba{n}@example.pl" for n in range(100))
    assert len({record["application"] for record in records}) == 100
    assert all(record["channel"] == "email" and not record["late"] for record in records)
