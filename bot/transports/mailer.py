"""The SMTP sender: delivers the outbox with retries; SMTP down for minutes means late, not lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib

from bot.settings import Settings
from handlers.email.calendar import calendar_method

logger = logging.getLogger(__name__)
BATCH = 20


class Outgoing(Protocol):
    """A queued reply, as the sender reads it."""

    @property
    def id(self) -> int: ...
    @property
    def to_address(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def in_reply_to(self) -> str | None: ...
    @property
    def references(self) -> str | None: ...
    @property
    def calendar(self) -> str | None: ...  # an iCalendar text (an invitation or a cancellation) to send with it


class Outbox(Protocol):
    """Where replies wait (storage's `Outbox`, handed over by the composition root)."""

    async def due(self, now: datetime, limit: int) -> Sequence[Outgoing]:
        """The replies whose next attempt is due, oldest first."""
        ...

    async def record_attempt(self, message_id: int, error: str | None, now: datetime) -> bool:
        """Records a try (sent when `error` is None); tells whether the reply was still there."""
        ...


def build_message(row: Outgoing, sender: str, sent_at: datetime) -> EmailMessage:
    """An automatic reply as RFC 3834 asks: Auto-Submitted, threading headers, UTF-8 text."""
    message = EmailMessage()
    message["From"] = f"Program Wspólnota <{sender}>"
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = row.message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"  # asks Exchange not to answer our answer
    message["X-Wspolnota-Reference"] = row.message_id.strip("<>").split("@")[0]
    message.set_content(row.body, charset="utf-8")
    if row.calendar:
        _attach_calendar(message, row.calendar)
    return message


def _attach_calendar(message: EmailMessage, ics: str) -> None:
    """An iMIP invitation (RFC 6047) as Gmail, Outlook and Apple Mail show it with their answer buttons.

    multipart/mixed: multipart/alternative [text/plain, text/calendar; method=…] and the same calendar
    again as an .ics attachment for programs that only offer attachments. The method is in the
    Content-Type as well as in the calendar (Outlook needs both). Base64 keeps iCalendar's CRLF lines.
    """
    method = calendar_method(ics)
    data = ics.encode("utf-8")
    message.add_alternative(data, "text", "calendar", params={"charset": "utf-8", "method": method})
    name = "odwolanie.ics" if method == "CANCEL" else "zaproszenie.ics"
    message.add_attachment(data, "application", "ics", filename=name, params={"name": name})
    # How Exchange marks a meeting request; set last, as turning the message multipart moves Content-* headers.
    message["Content-Class"] = "urn:content-classes:calendarmessage"


class Mailer:
    """Sends what the outbox holds, oldest first; a failure waits longer each time and is tried again."""

    def __init__(self, settings: Settings, outbox: Outbox, clock: Callable[[], datetime]) -> None:
        assert settings.smtp_host is not None
        self.settings = settings
        self.outbox = outbox
        self.clock = clock
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop`, waking when told to or every few seconds."""
        while not stop.is_set():
            await self.send_due()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(waiters, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            self.wake.clear()

    async def send_due(self) -> int:
        """Sends every message that is due; returns how many went out."""
        now = self.clock()
        sent = 0
        for row in await self.outbox.due(now, BATCH):
            error = await self._send(row, now)
            # False: erased meanwhile (a resident's request)
            if await self.outbox.record_attempt(row.id, error, now) and error is None:
                sent += 1
        return sent

    async def _send(self, row: Outgoing, now: datetime) -> str | None:
        s = self.settings
        security = s.smtp_security
        port = s.smtp_port or {"ssl": 465, "starttls": 587, "plain": 25}[security]
        try:
            await aiosmtplib.send(
                build_message(row, s.mail_from, now),
                sender="",  # an empty envelope sender: bounces of automatic replies go nowhere (RFC 3834)
                recipients=[row.to_address],
                hostname=s.smtp_host,
                port=port,
                username=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=security == "ssl",
                # True, not None: aiosmtplib's default quietly sends in clear text without STARTTLS.
                start_tls=security == "starttls",
                timeout=30,
            )
        # ValueError: a calendar without a METHOD; recorded as this message's error, not the sender's end.
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as err:
            logger.warning("Outbox message %s not sent yet: %s", row.id, type(err).__name__)
            return f"{type(err).__name__}: {err}"[:500]
        return None
