"""The Dovecot and SMTP test servers, driven by the real aioimaplib and aiosmtplib clients over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import aiosmtplib
import pytest
from aioimaplib import IMAP4, Response

from tests.support import dovecot as dovecot_plugin
from tests.support.dovecot import DovecotServer
from tests.support.smtp import RecordingSMTPServer

TIMEOUT = 5.0


def raw_mail(subject: str = "Zgłoszenie: ławka w parku", message_id: str = "<1@example.org>") -> bytes:
    """Build a resident's message as it arrives: CRLF line ends, the Polish subject RFC 2047-encoded."""
    message = EmailMessage()
    message["From"] = "Anna Nowak <anna@example.org>"
    message["To"] = "wspolnota@warszawa.test"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("Dzień dobry,\nproszę o naprawę ławki.\n")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


@dataclass
class ImapSession:
    """A logged-in aioimaplib client and a future that completes when its connection is lost."""

    client: IMAP4
    lost: asyncio.Future[Exception | None] = field(repr=False)


@asynccontextmanager
async def imap_session(server: DovecotServer) -> AsyncIterator[ImapSession]:
    """Connect, log in and select INBOX; close the connection afterwards whatever state it is in."""
    lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def on_lost(error: Exception | None) -> None:
        if not lost.done():
            lost.set_result(error)

    # aioimaplib does not fail pending commands when the connection drops; only this callback tells.
    client = IMAP4(server.host, server.port, timeout=TIMEOUT, conn_lost_cb=on_lost)
    try:
        await client.wait_hello_from_server()
        assert (await client.login(server.user, server.password)).result == "OK"
        assert (await client.select("INBOX")).result == "OK"
        yield ImapSession(client, lost)
    finally:
        for task in list(client.tasks):  # an IDLE left pending, e.g. after the server went away
            task.cancel()
        await asyncio.gather(*client.tasks, return_exceptions=True)
        if client.protocol.transport is not None:
            client.protocol.transport.close()
        if client.protocol.transport is not None and not lost.done():
            await asyncio.wait_for(lost, TIMEOUT)


def fetched_bodies(response: Response) -> list[bytes]:
    """Pick the message literals out of a FETCH response: aioimaplib returns them as bytearray lines."""
    return [bytes(line) for line in response.lines if isinstance(line, bytearray)]


def select_value(response: Response, key: bytes) -> bytes:
    """Return a bracketed response code's value from a SELECT response, such as UIDVALIDITY."""
    for line in response.lines:
        if line.startswith(b"OK [" + key + b" "):
            return bytes(line.split(b"]")[0].split()[-1])
    raise AssertionError(f"no {key!r} in {response.lines}")


async def wait_for_push(client: IMAP4, wanted: bytes) -> list[bytes]:
    """Read IDLE pushes until one holds a line ending with `wanted`, and return that push."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            push: list[bytes] = await client.wait_server_push(timeout=TIMEOUT)
            if any(line.endswith(wanted) for line in push):
                return push


# --- Dovecot -------------------------------------------------------------------------------------


async def test_fetch_returns_appended_message_byte_for_byte(dovecot: DovecotServer) -> None:
    first, second = raw_mail(), raw_mail("Druga sprawa", "<2@example.org>")
    dovecot.append(first)
    dovecot.append(second)

    async with imap_session(dovecot) as session:
        found = await session.client.uid_search("ALL")
        fetched = await session.client.uid("fetch", "1:*", "(UID BODY.PEEK[])")

    assert found.result == "OK"
    assert found.lines[0].split() == [b"1", b"2"]
    assert fetched.result == "OK"
    assert fetched.lines[0].startswith(b"1 FETCH (UID 1 BODY[] {")
    assert fetched_bodies(fetched) == [first, second]
    assert dovecot.messages() == [first, second]


async def test_folders_and_messages_see_what_a_client_saves(dovecot: DovecotServer) -> None:
    reply = raw_mail("Re: Zgłoszenie", "<reply@warszawa.test>")
    dovecot.append(raw_mail("Archiwalna"), folder="Archive")

    async with imap_session(dovecot) as session:
        listed = await session.client.list('""', "*")
        assert (await session.client.create("Sent")).result == "OK"
        saved = await session.client.append(reply, mailbox="Sent", flags=r"(\Seen)")

    assert b'(\\HasNoChildren) "." Archive' in listed.lines  # LIST lines come without the leading "* LIST "
    assert saved.result == "OK"
    assert dovecot.folders() == ["INBOX", "Archive", "Sent"]
    assert dovecot.messages("Sent") == [reply]
    assert dovecot.messages("Archive") == [raw_mail("Archiwalna")]
    assert dovecot.messages("Trash") == []


async def test_idle_hears_of_new_mail(dovecot: DovecotServer) -> None:
    async with imap_session(dovecot) as session:
        client = session.client
        idle = await client.idle_start(timeout=TIMEOUT)
        dovecot.append(raw_mail())

        push = await wait_for_push(client, b"EXISTS")
        client.idle_done()
        done = await asyncio.wait_for(idle, TIMEOUT)
        fetched = await client.uid("fetch", "1", "(BODY.PEEK[])")

    assert b"1 EXISTS" in push
    assert done.result == "OK"
    assert fetched_bodies(fetched) == [raw_mail()]


async def test_restart_drops_the_idle_connection_and_keeps_the_mail(dovecot: DovecotServer) -> None:
    dovecot.append(raw_mail())
    async with imap_session(dovecot) as before:
        validity = select_value(await before.client.select("INBOX"), b"UIDVALIDITY")
        await before.client.idle_start(timeout=TIMEOUT)

        dovecot.restart()

        # A graceful stop: Dovecot says BYE inside IDLE, which aioimaplib hands over as a push, then closes.
        assert await wait_for_push(before.client, b"BYE Server shutting down.")
        assert await asyncio.wait_for(before.lost, TIMEOUT) is None
        # ...while the IDLE command itself never completes: nothing but conn_lost_cb says the link is gone.
        assert before.client.has_pending_idle()

    dovecot.append(raw_mail("Po restarcie", "<after@example.org>"))
    async with imap_session(dovecot) as after:
        selected = await after.client.select("INBOX")
        fetched = await after.client.uid("fetch", "1:*", "(BODY.PEEK[])")

    assert select_value(selected, b"UIDVALIDITY") == validity
    assert fetched_bodies(fetched) == [raw_mail(), raw_mail("Po restarcie", "<after@example.org>")]


async def test_wrong_password_is_refused(dovecot: DovecotServer) -> None:
    client = IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    try:
        await client.wait_hello_from_server()
        response = await client.login(dovecot.user, "not-the-password")
    finally:
        client.protocol.transport.close()

    assert response.result == "NO"
    assert b"AUTHENTICATIONFAILED" in response.lines[-1]


def test_missing_dovecot_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dovecot_plugin, "find_dovecot", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WSPOLNOTA_REQUIRE_SERVERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install dovecot-imapd"):
        dovecot_plugin.require_dovecot()

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install dovecot-imapd"):
        dovecot_plugin.require_dovecot()


# --- SMTP ----------------------------------------------------------------------------------------


def reply_mail() -> EmailMessage:
    """Build a reply like the service's: threaded headers, a Polish subject and body."""
    message = EmailMessage()
    message["From"] = "Program Wspólnota <wspolnota@warszawa.test>"
    message["To"] = "Anna Nowak <anna@example.org>"
    message["Subject"] = "Re: Zgłoszenie: ławka w parku"
    message["Message-ID"] = "<reply-1@warszawa.test>"
    message["In-Reply-To"] = "<1@example.org>"
    message["References"] = "<1@example.org>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("Dziękujemy! Pytanie 1 z 5: Jak często bywa Pani w parku?\n")
    return message


async def send(server: RecordingSMTPServer, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname=server.host, port=server.port, timeout=TIMEOUT)


async def test_smtp_records_the_message_with_its_headers(smtp_server: RecordingSMTPServer) -> None:
    await send(smtp_server, reply_mail())

    [mail] = await smtp_server.wait_for(1, timeout=TIMEOUT)

    assert mail.mail_from == "wspolnota@warszawa.test"
    assert mail.rcpt_tos == ("anna@example.org",)
    for header in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "Auto-Submitted"):
        assert mail.message[header] == reply_mail()[header], header
    assert mail.message.get_content().splitlines() == reply_mail().get_content().splitlines()
    # Byte for byte what the message flattens to for SMTP: the Polish subject RFC 2047-encoded, CRLF ends.
    assert mail.raw == reply_mail().as_bytes(policy=policy.SMTP)


async def test_smtp_refuses_then_accepts(smtp_server: RecordingSMTPServer) -> None:
    smtp_server.refuse(2)

    for _attempt in range(2):
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(smtp_server, reply_mail())
        assert refused.value.code == 451
    await send(smtp_server, reply_mail())

    [mail] = await smtp_server.wait_for(1, timeout=TIMEOUT)
    assert mail.message["Message-ID"] == "<reply-1@warszawa.test>"
    assert smtp_server.refused == 2


async def test_smtp_refusing_block_and_wait_for_timeout(smtp_server: RecordingSMTPServer) -> None:
    with smtp_server.refusing():
        for _attempt in range(3):
            with pytest.raises(aiosmtplib.SMTPDataError):
                await send(smtp_server, reply_mail())

    with pytest.raises(TimeoutError, match="0 of 1 message"):
        await smtp_server.wait_for(1, timeout=0.05)
    await send(smtp_server, reply_mail())
    assert len(await smtp_server.wait_for(1, timeout=TIMEOUT)) == 1
