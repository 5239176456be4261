"""The mailbox channel: reads the programme's IMAP folder, hands each email to the mailroom, moves it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

import aioimaplib

from bot.mailroom import Mailroom, build_mailroom
from bot.settings import Settings
from handlers.engine.faults import StorageError, is_transient

logger = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 50  # emails read, committed and moved together
IDLE_SECONDS = 25 * 60  # under the 29 minutes RFC 2177 allows before a server may drop us


class MailboxUnavailable(Exception):
    """The IMAP server cannot be reached, refused us, or went away."""


class ReadPositions(Protocol):
    """How far each folder has been read (storage's `MailboxPositions`, handed over by the composition root)."""

    async def last_uid(self, folder: str, uidvalidity: int) -> int:
        """The last UID read, or 0 when the folder must be read from the start."""
        ...

    async def advance(self, folder: str, uidvalidity: int, uid: int, now: datetime) -> None:
        """Moves the position past `uid` on its own."""
        ...

    def advancing(self, folder: str, uidvalidity: int, uid: int, now: datetime) -> Callable[[Any], Awaitable[None]]:
        """The same move as a step the mailroom runs in the transaction storing the emails read."""
        ...


class MailboxReader:
    """Fetches new mail by UID with BODY.PEEK[]; a message is moved only after its effects are committed."""

    def __init__(self, settings: Settings, mailroom: Mailroom, positions: ReadPositions) -> None:
        assert settings.imap_host is not None
        self.settings = settings
        self.mailroom = mailroom
        self.positions = positions
        self.folder = settings.imap_folder
        self.timeout = settings.imap_timeout
        self.wake = asyncio.Event()  # set by tests or the CLI to check the mailbox now
        self.progressed = asyncio.Event()  # set after each email is handled (tests wait on it)

    async def run(self, stop: asyncio.Event) -> None:
        """Reads until `stop`: IDLE when the server offers it, polling otherwise; reconnects on any fault."""
        delay = 1.0
        while not stop.is_set():
            client: aioimaplib.IMAP4 | None = None
            try:
                client = await self._connect()
                delay = 1.0
                while not stop.is_set():
                    await self._read_new(client)
                    await self._wait_for_mail(client, stop)
            except (MailboxUnavailable, aioimaplib.Abort, aioimaplib.CommandTimeout, TimeoutError, OSError) as err:
                logger.warning("Mailbox: %s; reconnecting in %.0f s", err or type(err).__name__, delay)
                await _pause(stop, delay)
                delay = min(delay * 2, 60.0)
            except StorageError as err:
                logger.warning("Mailbox: database error (%s); retrying in %.0f s", type(err).__name__, delay)
                await _pause(stop, delay)
                delay = min(delay * 2, 60.0)
            finally:
                if client is not None:
                    await self._close(client)

    async def once(self) -> int:
        """Processes what is waiting and returns how many new emails were read (for cron)."""
        client = await self._connect()
        try:
            return await self._read_new(client)
        finally:
            await self._close(client)

    # -- the connection -----------------------------------------------------------------------

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        assert s.imap_host is not None
        lost = asyncio.Event()
        context = ssl.create_default_context(cafile=str(s.imap_ca_file) if s.imap_ca_file else None)
        if s.imap_security == "ssl":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                s.imap_host, s.imap_port or 993, timeout=self.timeout, ssl_context=context
            )
        else:
            client = aioimaplib.IMAP4(
                s.imap_host, s.imap_port or 143, timeout=self.timeout, conn_lost_cb=lambda _err: lost.set()
            )
        client.lost = lost  # aioimaplib keeps reporting a dead link as connected
        try:
            await self._call(client.wait_hello_from_server())
            if s.imap_security == "starttls":
                await self._starttls(client, s.imap_host, context)
            password = s.imap_password.get_secret_value() if s.imap_password else ""
            await self._expect_ok(client.login(s.imap_user or "", password), "login")
        except (OSError, TimeoutError) as err:
            await self._close(client)
            raise MailboxUnavailable(f"{s.imap_host}: {err}") from err
        return client

    async def _starttls(self, client: aioimaplib.IMAP4, host: str, context: ssl.SSLContext) -> None:
        """Upgrades the connection to TLS before logging in (aioimaplib has no STARTTLS of its own)."""
        protocol = client.protocol
        loop = asyncio.get_running_loop()
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=loop)
        response = await self._call(protocol.execute(command))
        if response.result != "OK":
            raise MailboxUnavailable(f"STARTTLS refused: {_text(response.lines)}")
        try:
            protocol.transport = await self._call(
                loop.start_tls(protocol.transport, protocol, context, server_hostname=host)
            )
        except ssl.SSLError as err:
            raise MailboxUnavailable(f"TLS with {host} failed: {err}") from err
        await self._call(protocol.capability())  # capabilities may differ once encrypted (RFC 3501 6.2.1)

    async def _call(self, awaitable: Awaitable[T]) -> T:
        # Every network await has a limit: some aioimaplib commands (UID STORE/COPY/MOVE) have none.
        try:
            return await asyncio.wait_for(awaitable, self.timeout)
        except TimeoutError as err:
            raise MailboxUnavailable("the IMAP server did not answer in time") from err

    async def _expect_ok(self, awaitable: Awaitable[Any], what: str) -> Any:
        response = await self._call(awaitable)
        if response.result != "OK":
            raise MailboxUnavailable(f"{what} refused: {_text(response.lines)}")
        return response

    async def _close(self, client: aioimaplib.IMAP4) -> None:
        protocol = getattr(client, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.close()  # logout() on a dead link waits for its timeout

    # -- reading ------------------------------------------------------------------------------

    async def _select(self, client: aioimaplib.IMAP4) -> int:
        response = await self._expect_ok(client.select(self.folder), f"SELECT {self.folder}")
        match = re.search(rb"UIDVALIDITY (\d+)", b" ".join(bytes(line) for line in response.lines))
        if match is None:
            raise MailboxUnavailable("the server did not say UIDVALIDITY")
        return int(match.group(1))

    async def _read_new(self, client: aioimaplib.IMAP4) -> int:
        uidvalidity = await self._select(client)
        last = await self.positions.last_uid(self.folder, uidvalidity)
        # No CHARSET (some servers reject it). ALL rather than UID n:* (which also returns the
        # last UID when it is below n): what is at or below our position was committed before a
        # crash cut the move short, and only needs filing away.
        response = await self._expect_ok(client.uid_search("ALL", charset=None), "UID SEARCH")
        present = sorted(int(uid) for uid in _text(response.lines[:1]).split() if uid.isdigit())
        if done := [uid for uid in present if uid <= last]:
            await self._file_away(client, done)
        uids = [uid for uid in present if uid > last]
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            items = [(*fetched, uid) for uid in batch if (fetched := await self._fetch(client, uid)) is not None]

            # The emails, their replies and how far we have read: one commit, then the move.
            set_aside = await self._receive(client, items, uidvalidity, batch[-1])
            if kept := [uid for uid in batch if uid not in set_aside]:
                await self._file_away(client, kept)
            self.progressed.set()
        return len(uids)

    async def _receive(
        self, client: aioimaplib.IMAP4, items: list[tuple[bytes, datetime | None, int]], uidvalidity: int, top: int
    ) -> set[int]:
        """Stores a batch in one transaction; should one email break it, each alone.

        An email that cannot be stored even alone (a fault in our own code, or data the database
        refuses) is set aside in the mailbox, never lost and never in the way of the next ones.
        Returns the UIDs set aside.

        Raises:
            StorageError, OSError: the database is unavailable; the reader tries again later.
        """

        # How far we have read commits with the emails: a crash before leaves the batch to be read again.
        remember = self.positions.advancing(self.folder, uidvalidity, top, self.mailroom.clock())
        try:
            outcomes = await self.mailroom.receive_many(
                [(raw, uid, arrived) for raw, arrived, uid in items],
                folder=self.folder,
                uidvalidity=uidvalidity,
                then=remember,
            )
        except Exception as err:
            if is_transient(err):
                raise
            if len(items) > 1:
                logger.warning(
                    "Mailbox: a batch of %d failed (%s); reading them one by one", len(items), type(err).__name__
                )
                aside: set[int] = set()
                for item in items:
                    aside |= await self._receive(client, [item], uidvalidity, item[2])
                return aside
            uid = items[0][2]
            logger.exception("Mailbox: UID %s could not be read; it is set aside for staff", uid)
            await self._set_aside(client, uid, uidvalidity)
            return {uid}
        for (_, _, uid), outcome in zip(items, outcomes, strict=True):
            logger.info("Mailbox: UID %s read as %s", uid, outcome.verdict.kind)
        return set()

    async def _set_aside(self, client: aioimaplib.IMAP4, uid: int, uidvalidity: int) -> None:
        """Moves an email we cannot read to WSPOLNOTA_IMAP_UNREADABLE_FOLDER (flags it where the
        server cannot move), and reads on past it."""
        folder = self.settings.imap_unreadable_folder
        if client.has_capability("MOVE"):
            response = await self._call(client.uid("move", str(uid), folder))
            if response.result != "OK":  # the folder may not exist yet
                await self._call(client.create(folder))
                await self._expect_ok(client.uid("move", str(uid), folder), "MOVE")
        else:
            await self._expect_ok(client.uid("store", str(uid), "+FLAGS", "(\\Flagged)"), "STORE")
        await self.positions.advance(self.folder, uidvalidity, uid, self.mailroom.clock())

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> tuple[bytes, datetime | None] | None:
        """The email's source and when our mailbox received it (INTERNALDATE: what a deadline counts by,
        never the sender's own Date header)."""
        response = await self._expect_ok(client.uid("fetch", str(uid), "(INTERNALDATE BODY.PEEK[])"), f"FETCH {uid}")
        arrived = None
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line), arrived
            arrived = arrived or internal_date(bytes(line))
        logger.warning("Mailbox: UID %s came back without a body", uid)
        return None

    async def _file_away(self, client: aioimaplib.IMAP4, uids: list[int]) -> None:
        """Moves read messages to the processed folder (or flags them); mail is never deleted."""
        folder = self.settings.imap_processed_folder
        uid_set = ",".join(map(str, uids))
        if folder and client.has_capability("MOVE"):
            response = await self._call(client.uid("move", uid_set, folder))
            if response.result != "OK":  # the folder may not exist yet
                await self._call(client.create(folder))
                await self._expect_ok(client.uid("move", uid_set, folder), "MOVE")
            return
        await self._expect_ok(client.uid("store", uid_set, "+FLAGS", "(\\Seen)"), "STORE")

    async def _wait_for_mail(self, client: aioimaplib.IMAP4, stop: asyncio.Event) -> None:
        lost: asyncio.Event = client.lost
        if not client.has_capability("IDLE"):
            await _first(stop, self.wake, lost, seconds=60)
            return
        idle = await self._call(client.idle_start(timeout=IDLE_SECONDS))
        push = asyncio.ensure_future(client.wait_server_push(timeout=IDLE_SECONDS))
        waiters = {push, asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())}
        waiters.add(asyncio.ensure_future(lost.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.wake.clear()
        if lost.is_set():
            raise MailboxUnavailable("the IMAP server closed the connection")
        if push.done() and not push.cancelled() and any(b"BYE" in bytes(line) for line in push.result() or []):
            raise MailboxUnavailable("the IMAP server said BYE")
        client.idle_done()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(idle, self.timeout)
        if not idle.done():
            raise MailboxUnavailable("IDLE did not end")


def _text(lines: list[Any]) -> str:
    return " ".join(bytes(line).decode("utf-8", "replace") for line in lines)


async def _first(*events: asyncio.Event, seconds: float) -> None:
    """Waits for any of the events, at most `seconds`."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class MailChannel:
    """The mailbox reader and the outbox sender, run side by side in the service."""

    def __init__(self, service: Any) -> None:
        from bot.transports.mailer import Mailer  # the sender needs SMTP settings only when it runs

        settings: Settings = service.settings
        self.health = service.health
        self.reader = MailboxReader(settings, build_mailroom(service), service.mailbox_positions)
        self.mailer = Mailer(settings, service.outbox, service.conversation.clock) if settings.smtp_host else None
        if self.mailer is None:
            logger.warning("WSPOLNOTA_SMTP_HOST is not set: replies wait in the outbox")

    async def run(self, stop: asyncio.Event) -> None:
        """Reads and sends until `stop`; each restarted on its own should it crash."""
        from bot.supervision import supervise

        health = self.health
        async with asyncio.TaskGroup() as group:
            group.create_task(supervise("mail reader", lambda: self.reader, stop, health))
            if self.mailer is not None:
                mailer = self.mailer
                group.create_task(supervise("mail sender", lambda: mailer, stop, health))


_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"'
)
_MONTHS = {
    name: n
    for n, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}


def internal_date(line: bytes) -> datetime | None:
    """Reads `INTERNALDATE "04-Dec-2026 20:07:59 +0100"` from a FETCH response line (RFC 3501's
    date-time, English month names whatever the locale); None when the line has none."""
    match = _INTERNALDATE.search(line)
    if match is None or (month := _MONTHS.get(match.group(2).decode().lower())) is None:
        return None
    day, _, year, hour, minute, second, sign, zh, zm = match.groups()
    offset = timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == b"-" else 1)
    try:
        moment = datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=timezone(offset))
    except ValueError:
        return None
    return moment.astimezone(UTC)
