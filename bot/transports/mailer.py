"""The SMTP sender: delivers the outbox with retries; SMTP down for minutes means late, not lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from sqlalchemy import select

from bot.settings import Settings
from storage.models import OutboxMessage
from storage.repository import Store

logger = logging.getLogger(__name__)
BATCH = 20
MAX_DELAY = timedelta(hours=1)


def build_message(row: OutboxMessage, sender: str, sent_at: datetime) -> EmailMessage:
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
    return message


class Mailer:
    """Sends what the outbox holds, oldest first; a failure waits longer each time and is tried again."""

    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime]) -> None:
        assert settings.smtp_host is not None
        self.settings = settings
        self.store = store
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
        async with self.store.unit(write=False) as unit:
            rows = list(
                await unit.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            )
        sent = 0
        for row in rows:
            error = await self._send(row, now)
            async with self.store.unit() as unit:
                stored = await unit.session.get(OutboxMessage, row.id)
                if stored is None:
                    continue  # erased meanwhile (a resident's request)
                stored.attempts += 1
                if error is None:
                    stored.sent_at, stored.last_error = now, None
                    sent += 1
                else:
                    delay = min(timedelta(seconds=30 * 2 ** min(stored.attempts, 10)), MAX_DELAY)
                    stored.next_attempt_at, stored.last_error = now + delay, error
        return sent

    async def _send(self, row: OutboxMessage, now: datetime) -> str | None:
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
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            logger.warning("Outbox message %s not sent yet: %s", row.id, type(err).__name__)
            return f"{type(err).__name__}: {err}"[:500]
        return None
