"""A pytest plugin that runs a recording SMTP server (aiosmtpd) on 127.0.0.1 in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import email
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, try again later (refused by the test)"


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """One message the server accepted: the envelope, the bytes as sent, and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class RecordingSMTPServer:
    """An aiosmtpd handler that keeps every message it accepts and can refuse transactions on demand."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.received: list[ReceivedMail] = []
        self.refused = 0  # transactions answered with 451 so far
        self._to_refuse: int | None = 0  # None: refuse until the `refusing()` block ends
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._connections: list[SMTP] = []

    def environment(self) -> dict[str, str]:
        """The service's WSPOLNOTA_SMTP_* settings for this server (plain SMTP on loopback)."""
        return {
            "WSPOLNOTA_SMTP_HOST": self.host,
            "WSPOLNOTA_SMTP_PORT": str(self.port),
            "WSPOLNOTA_SMTP_SECURITY": "plain",
        }

    async def start(self) -> None:
        """Listen on a free loopback port in the running event loop."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connect, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close the connections clients left open."""
        if self._server is not None:
            self._server.close()
        handlers = []
        for connection in self._connections:
            if connection.transport is not None and not connection.transport.is_closing():
                connection.transport.close()
            # aiosmtpd cancels its per-connection task when the transport closes; let that finish here
            # rather than leave a pending task to the closing loop.
            task = connection._handler_coroutine
            if task is not None:
                handlers.append(task)
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            # From Python 3.12 this also waits for open connections, hence closing them first.
            await self._server.wait_closed()

    def _connect(self) -> SMTP:
        # hostname: skip socket.getfqdn(), which may wait on DNS.
        connection = SMTP(self, hostname="smtp.test", loop=asyncio.get_running_loop())
        self._connections.append(connection)
        return connection

    # --- fault injection -------------------------------------------------------------------------

    def refuse(self, count: int = 1) -> None:
        """Answer 451 (try again later) at the end of DATA to the next `count` transactions."""
        self._to_refuse = count

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        """Answer 451 at the end of DATA to every transaction while the block runs."""
        self._to_refuse = None
        try:
            yield
        finally:
            self._to_refuse = 0

    # --- the aiosmtpd handler --------------------------------------------------------------------

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Record the message, or refuse it when a refusal is due."""
        if self._to_refuse is None or self._to_refuse > 0:
            if self._to_refuse is not None:
                self._to_refuse -= 1
            self.refused += 1
            return TEMPORARY_FAILURE
        raw = envelope.original_content or b""
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=policy.default),
        )
        async with self._arrived:
            self.received.append(mail)
            self._arrived.notify_all()
        return "250 2.0.0 OK: queued"

    # --- waiting ---------------------------------------------------------------------------------

    async def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:  # noqa: ASYNC109
        """Wait until at least `count` messages have arrived and return all of them.

        Raises:
            TimeoutError: fewer arrived in time; the message says how many.
        """
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.received) >= count), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"{len(self.received)} of {count} message(s) arrived within {timeout} s ({self.refused} refused)"
                ) from None
        return list(self.received)


@pytest.fixture
async def smtp_server() -> AsyncIterator[RecordingSMTPServer]:
    """Start an SMTP server on 127.0.0.1 that records what it is sent; no TLS, no AUTH."""
    server = RecordingSMTPServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
